#include "engine/exec/direct_command.h"

#include <catch2/catch.hpp>

namespace mayaflow {

TEST_CASE("direct_argv runs plain commands without a shell and leaves everything else to bash", "[exec][direct]") {
    std::map<std::string, std::string> env = {{"PATH", "/nonexistent:/usr/bin:/bin"}};
    auto argv = direct_argv("  true ", env);
    REQUIRE(argv);
    CHECK((*argv)[0].ends_with("/true"));
    argv = direct_argv("python3 etl.py --date=2024-01-01 --tables a,b +x @y 50%", env);
    if (argv) {  // python3 may not be on this PATH
        CHECK(argv->size() == 8);
        CHECK((*argv)[2] == "--date=2024-01-01");
    }
    argv = direct_argv("sleep\t1", env);
    REQUIRE(argv);
    CHECK(argv->size() == 2);
    for (const char* shell : {"echo hi", "exit 3", "cd /tmp", "FOO=1 true", "true; false", "true && false",
                              "ls *.csv", "echo $HOME", "ls ~", "cat <in", "true > out", "echo 'a b'",
                              "echo \"a\"", "(true)", "true | cat", "true &", "ls {a,b}", "true # c",
                              "no-such-program-here", "./script.sh", "/no/such/program", "time true", "! true",
                              "if true", "kill 1", "test -f x", "printf x", "pwd", "echo a\\ b", "",
                              "   ", "true\nfalse"}) {
        CAPTURE(shell);
        CHECK_FALSE(direct_argv(shell, env));
    }
    CHECK_FALSE(direct_argv("true", {{"PATH", "relative/bin"}}));
    argv = direct_argv("/bin/sleep 0", env);
    REQUIRE(argv);
    CHECK((*argv)[0] == "/bin/sleep");
}

}  // namespace mayaflow
