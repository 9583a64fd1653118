// Where the secret key comes from: the environment, or a private key file made on first use.

#include "engine/connections/secret_key_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

namespace mayaflow {
namespace {

struct TempHome {
    std::filesystem::path path;
    TempHome() {
        char pattern[] = "/tmp/mayaflow_key_test_XXXXXX";
        path = ::mkdtemp(pattern);
    }
    ~TempHome() { std::filesystem::remove_all(path); }
};

unsigned mode_of(const std::filesystem::path& path) {
    struct stat info {};
    ::stat(path.c_str(), &info);
    return info.st_mode & 07777;
}

TEST_CASE("the key file is created once, private, and read back", "[connections][crypto]") {
    TempHome home;
    auto none = load_secret_keyring({}, home.path, false);
    REQUIRE(none);
    CHECK(none->empty());
    CHECK_FALSE(std::filesystem::exists(secret_key_file_path(home.path)));

    auto created = load_secret_keyring({}, home.path, true);
    REQUIRE(created);
    REQUIRE(created->keys().size() == 1);
    CHECK(mode_of(secret_key_file_path(home.path)) == 0600);
    CHECK(created->origin() == secret_key_file_path(home.path).string());

    auto again = load_secret_keyring({}, home.path, true);
    REQUIRE(again);
    CHECK(again->sealing_key().bytes == created->sealing_key().bytes);
}

TEST_CASE("a key file others may read is refused", "[connections][crypto]") {
    TempHome home;
    REQUIRE(load_secret_keyring({}, home.path, true));
    ::chmod(secret_key_file_path(home.path).c_str(), 0644);
    auto refused = load_secret_keyring({}, home.path, true);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("chmod 600"));
}

TEST_CASE("MAYAFLOW_SECRET_KEY wins and may list old keys after the new one", "[connections][crypto]") {
    TempHome home;
    auto first = *generate_secret_key();
    auto second = *generate_secret_key();
    std::map<std::string, std::string> environment{
        {kSecretKeyVariable, format_secret_key(first) + ", " + format_secret_key(second)}};
    auto keyring = load_secret_keyring(environment, home.path, true);
    REQUIRE(keyring);
    CHECK(keyring->origin() == kSecretKeyVariable);
    REQUIRE(keyring->keys().size() == 2);
    CHECK(keyring->sealing_key().id == first.id);
    CHECK(keyring->knows(second.id));
    CHECK_FALSE(std::filesystem::exists(secret_key_file_path(home.path)));

    auto bad = load_secret_keyring({{kSecretKeyVariable, "not-a-key"}}, home.path, true);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::Contains("MAYAFLOW_SECRET_KEY: key 1"));
}

TEST_CASE("a rewritten key file lists the keys in order, comments ignored", "[connections][crypto]") {
    TempHome home;
    auto path = secret_key_file_path(home.path);
    auto first = *generate_secret_key();
    auto second = *generate_secret_key();
    REQUIRE(write_secret_key_file(path, {second, first}));
    CHECK(mode_of(path) == 0600);
    auto keyring = load_secret_keyring({}, home.path, false);
    REQUIRE(keyring);
    REQUIRE(keyring->keys().size() == 2);
    CHECK(keyring->sealing_key().id == second.id);
    CHECK(std::distance(std::filesystem::directory_iterator(home.path),
                        std::filesystem::directory_iterator()) == 1);

    std::ofstream(path) << "# only a comment\n\n";
    auto empty = load_secret_keyring({}, home.path, true);
    REQUIRE_FALSE(empty);
    CHECK_THAT(empty.error().message, Catch::Contains("holds no key"));
}

}  // namespace
}  // namespace mayaflow
