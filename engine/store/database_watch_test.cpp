#include "engine/store/database_watch.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

using namespace mayaflow;
using Kind = DatabaseWatch::Finding::Kind;

TEST_CASE("DatabaseWatch tells a database file that is gone or replaced", "[store][database_watch]") {
    char pattern[] = "/tmp/mayaflow_watch_test_XXXXXX";
    std::filesystem::path folder = ::mkdtemp(pattern);
    auto path = folder / "mayaflow.db";
    std::ofstream(path) << "x";
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    auto watch = DatabaseWatch::watch(path, fd);
    REQUIRE(watch);
    CHECK(watch->check().kind == Kind::fine);

    SECTION("deleted") {
        std::filesystem::remove(path);
        auto finding = watch->check();
        CHECK(finding.kind == Kind::lost);
        CHECK_THAT(finding.message, Catch::Contains("deleted or moved away"));
        CHECK_THAT(finding.message, Catch::Contains(path.string()));
    }
    SECTION("moved away and back is still the same file") {
        std::filesystem::rename(path, folder / "elsewhere.db");
        CHECK(watch->check().kind == Kind::lost);
        std::filesystem::rename(folder / "elsewhere.db", path);
        CHECK(watch->check().kind == Kind::fine);
    }
    SECTION("replaced by a copy") {
        std::filesystem::copy_file(path, folder / "copy.db");
        std::filesystem::rename(folder / "copy.db", path);
        auto finding = watch->check();
        CHECK(finding.kind == Kind::lost);
        CHECK_THAT(finding.message, Catch::Contains("replaced"));
    }
    SECTION("replaced by a folder") {
        std::filesystem::remove(path);
        std::filesystem::create_directory(path);
        CHECK(watch->check().kind == Kind::lost);
    }
    ::close(fd);
    std::filesystem::remove_all(folder);
}
