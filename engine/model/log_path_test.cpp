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
