#include "engine/model/log_path.h"

#include <catch2/catch.hpp>
#include <set>

using namespace mayaflow;

TEST_CASE("every run id has a log folder of its own", "[log_path]") {
    auto path = [](const std::string& run_id) { return task_log_path("/logs", "d", run_id, "t", 1).string(); };
    CHECK(path("manual__2024-01-01T00:00:00+00:00") == "/logs/dag_id=d/run_id=manual__2024-01-01T00:00:00+00:00/task_id=t/attempt=1.log");
    CHECK(path("a/b") == "/logs/dag_id=d/run_id=a%2Fb/task_id=t/attempt=1.log");
    std::vector<std::string> ids = {"a/b", "a_b", "a%2Fb", "a:b", "a\nb", "a%0Ab", "..", "."};
    std::set<std::string> folders;
    for (const auto& id : ids) folders.insert(path(id));
    CHECK(folders.size() == ids.size());
    CHECK(path("..").find("/../") == std::string::npos);
}

TEST_CASE("long ids get folder names a file system can hold, each its own", "[log_path]") {
    const std::string long_id(250, 'a');
    const std::string multibyte = [] {
        std::string id;
        for (int i = 0; i < 125; ++i) id += "\xc3\xa9";  // é, two bytes each
        return id;
    }();
    const std::string escapes(250, '/');  // each byte becomes %2F: 750 bytes
    std::set<std::string> names;
    for (const std::string& id : {long_id, long_id.substr(0, 249) + "b", multibyte, escapes,
                                  std::string(249, '/') + "%", std::string(248, 'a')}) {
        for (const char* prefix : {"dag_id=", "run_id=", "task_id="}) {
            const std::string name = log_folder_name(prefix, id);
            CHECK(name.size() <= kMaxFileNameBytes);
            CHECK(name.rfind(prefix, 0) == 0);
            names.insert(name);
        }
    }
    CHECK(names.size() == 18);
    // A short name is left as it is; a shortened one keeps whole characters and whole escapes.
    CHECK(log_folder_name("dag_id=", std::string(248, 'a')) == "dag_id=" + std::string(248, 'a'));
    const std::string cut = log_folder_name("run_id=", multibyte);
    const std::string kept = cut.substr(0, cut.find('~'));
    CHECK((kept.size() - 7) % 2 == 0);
    const std::string cut_escapes = log_folder_name("run_id=", escapes);
    CHECK((cut_escapes.find('~') - 7) % 3 == 0);
}
