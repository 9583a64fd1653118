#include "engine/exec/folder_probe.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>

#include "engine/exec/exec_test_support.h"

namespace mayaflow {

using exec_test::TempDir;

TEST_CASE("probe_writable_folder: a folder that takes files, one made for it, and one that does not") {
    TempDir temp;
    const auto folder = temp.path() / "logs";
    // Missing: made, and the probe leaves nothing behind.
    REQUIRE(probe_writable_folder(folder).ok());
    CHECK(std::filesystem::is_directory(folder));
    CHECK(std::filesystem::is_empty(folder));
    REQUIRE(probe_writable_folder(folder).ok());

    if (::geteuid() != 0) {  // root writes anywhere: the permission case needs another user
        ::chmod(folder.c_str(), 0500);
        const Status refused = probe_writable_folder(folder);
        ::chmod(folder.c_str(), 0700);
        REQUIRE_FALSE(refused.ok());
        CHECK_THAT(refused.error().message, Catch::Contains("cannot create a file in") &&
                                                Catch::Contains("Permission denied"));
    }
    // A path under a regular file cannot be a folder.
    const auto file = temp.path() / "plain";
    { std::ofstream(file) << "x"; }
    const Status not_folder = probe_writable_folder(file / "logs");
    REQUIRE_FALSE(not_folder.ok());
    CHECK_THAT(not_folder.error().message, Catch::StartsWith("cannot create the folder"));
}

}  // namespace mayaflow
