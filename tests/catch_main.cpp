// The test programs' main. Started as `<test program> _supervise`, a test program is the task
// supervisor (engine/exec/task_supervisor.h), as the mayaflow binary is for the daemon.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <string_view>

namespace mayaflow {
int run_task_supervisor(int socket, bool json_log);  // engine/exec/task_supervisor.h (this object sees no include path)
}

int main(int argc, char** argv) {
    if (argc == 2 && std::string_view(argv[1]) == "_supervise") return mayaflow::run_task_supervisor(3, false);
    return Catch::Session().run(argc, argv);
}
