#include "engine/store/database_watch.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sqlite3.h>
#include <filesystem>
#include <fstream>

using namespace mayaflow;
using Kind = DatabaseWatch::Finding::Kind;

TEST_CASE("DatabaseWatch tells a database file that is gone or replaced", "[store][database_watch]") {
    char pattern[] = "/tmp/mayaflow_watch_test_XXXXXX";
    std::filesystem::path folder = ::mkdtemp(pattern);
    auto path = folder / "mayaflow.db";
    // A real database in WAL mode, kept open as the daemon keeps it: its -wal and -shm files exist.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);", nullptr,
                         nullptr, nullptr) == SQLITE_OK);
    REQUIRE(std::filesystem::exists(path.string() + "-wal"));
    REQUIRE(std::filesystem::exists(path.string() + "-shm"));
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
    SECTION("its write-ahead log deleted") {
        std::filesystem::remove(path.string() + "-wal");
        auto finding = watch->check();
        CHECK(finding.kind == Kind::lost);
        CHECK_THAT(finding.message, Catch::Contains("-wal file") && Catch::Contains("was deleted"));
    }
    SECTION("its shared-memory index deleted, or replaced") {
        const std::string shm = path.string() + "-shm";
        if (GENERATE(true, false)) {
            std::filesystem::remove(shm);
        } else {
            std::filesystem::copy_file(shm, shm + ".copy");
            std::filesystem::rename(shm + ".copy", shm);
        }
        auto finding = watch->check();
        CHECK(finding.kind == Kind::lost);
        CHECK_THAT(finding.message, Catch::Contains("-shm file"));
    }
    SECTION("truncated or written over in place") {
        const int how = GENERATE(0, 1, 2);
        if (how == 0) std::filesystem::resize_file(path, 0);
        if (how == 1) std::filesystem::resize_file(path, 10);
        if (how == 2) std::ofstream(path, std::ios::in | std::ios::out | std::ios::binary) << "not a database at all";
        auto finding = watch->check();
        CHECK(finding.kind == Kind::lost);
        CHECK_THAT(finding.message, Catch::Contains("truncated or written over"));
    }
    SECTION("commits, checkpoints and other connections that come and go are fine") {
        for (int i = 0; i < 50; ++i) {
            sqlite3* other = nullptr;
            REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
            REQUIRE(sqlite3_exec(other, "INSERT INTO t VALUES (2); PRAGMA wal_checkpoint(TRUNCATE);", nullptr, nullptr,
                                 nullptr) == SQLITE_OK);
            sqlite3_close(other);
            CHECK(watch->check().kind == Kind::fine);
        }
    }
    ::close(fd);
    sqlite3_close(db);
    std::filesystem::remove_all(folder);
}
