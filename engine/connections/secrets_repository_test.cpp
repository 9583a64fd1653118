// Connections and variables through SqliteStore: sealed on disk, opened with the right key only,
// re-sealed all at once by a rotation.

#include "engine/connections/secrets_repository.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "engine/connections/secret_key_file.h"
#include "engine/store/sqlite_store.h"

namespace mayaflow {
namespace {

struct TempFolder {
    std::filesystem::path path;
    TempFolder() {
        char pattern[] = "/tmp/mayaflow_secrets_test_XXXXXX";
        path = ::mkdtemp(pattern);
    }
    ~TempFolder() { std::filesystem::remove_all(path); }
};

std::unique_ptr<SqliteStore> open_store(const std::filesystem::path& path) {
    auto store = SqliteStore::open(StoreOptions{.path = path});
    REQUIRE(store);
    return std::move(*store);
}

// Every byte of the database and its WAL, to look for a secret in clear.
std::string database_bytes(const std::filesystem::path& path) {
    std::string all;
    for (auto suffix : {"", "-wal", "-shm"}) {
        std::ifstream file(path.string() + suffix, std::ios::binary);
        std::stringstream bytes;
        bytes << file.rdbuf();
        all += bytes.str();
    }
    return all;
}

Connection sample_connection() {
    Connection connection{.conn_id = "bq_main", .conn_type = "google_cloud_platform"};
    connection.login = "svc";
    connection.set_password("Pa55-w0rd-in-clear");
    connection.host = "";
    connection.extra = R"({"project": "my-proj", "api_key": "extra-secret-value"})";
    connection.port = 443;
    connection.description = "BigQuery";
    return connection;
}

TEST_CASE("connections and variables are stored sealed and read back whole", "[connections][store]") {
    TempFolder folder;
    auto database = folder.path / "mayaflow.db";
    auto store = open_store(database);
    SecretsRepository repository(*store, SecretKeyring({*generate_secret_key()}, "test"));

    auto written = repository.put_connections({sample_connection()}, false);
    REQUIRE(written);
    CHECK(*written == std::vector<bool>{true});
    REQUIRE(repository.put_variables({Variable{"slack_token", "xoxb-variable-secret", "for alerts"}}));

    auto found = repository.find_connection("bq_main");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK(**found == sample_connection());
    auto variable = repository.find_variable("slack_token");
    REQUIRE(variable);
    CHECK((*variable)->value == "xoxb-variable-secret");
    CHECK((*variable)->description == "for alerts");

    auto bytes = database_bytes(database);
    CHECK(bytes.find("bq_main") != std::string::npos);  // the id is not secret: proves we read the right file
    CHECK(bytes.find("Pa55-w0rd-in-clear") == std::string::npos);
    CHECK(bytes.find("extra-secret-value") == std::string::npos);
    CHECK(bytes.find("xoxb-variable-secret") == std::string::npos);
}

TEST_CASE("no new key is made for a database that holds values sealed with a key that is gone",
          "[connections][store]") {
    TempFolder folder;
    auto store = open_store(folder.path / "mayaflow.db");
    const std::map<std::string, std::string> no_variable;
    const auto key_file = secret_key_file_path(folder.path);
    // A first start: no value yet, so a key is made.
    auto made = load_keyring_for_store(*store, no_variable, folder.path, true);
    REQUIRE(made);
    REQUIRE_FALSE(made->empty());
    REQUIRE(std::filesystem::exists(key_file));
    SecretsRepository repository(*store, *made);
    REQUIRE(repository.put_connections({sample_connection()}, false));

    // secret.key deleted: refused, and no key file made, whatever is asked.
    std::filesystem::remove(key_file);
    auto refused = load_keyring_for_store(*store, no_variable, folder.path, true);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("holds 2 encrypted values") &&
                                            Catch::Contains("Put back the secret.key") &&
                                            Catch::Contains(key_file.string()));
    CHECK_FALSE(std::filesystem::exists(key_file));
    auto reading = load_keyring_for_store(*store, no_variable, folder.path, false);  // only reading: no key, no error
    REQUIRE(reading);
    CHECK(reading->empty());

    // The old key back through the environment: that is the keyring.
    const std::map<std::string, std::string> with_variable{{kSecretKeyVariable, format_secret_key(made->sealing_key())}};
    auto restored = load_keyring_for_store(*store, with_variable, folder.path, true);
    REQUIRE(restored);
    CHECK(SecretsRepository(*store, *restored).find_connection("bq_main").ok());
    CHECK_FALSE(std::filesystem::exists(key_file));
}

TEST_CASE("an existing conn_id is kept unless overwriting", "[connections][store]") {
    TempFolder folder;
    auto store = open_store(folder.path / "mayaflow.db");
    SecretsRepository repository(*store, SecretKeyring({*generate_secret_key()}, "test"));
    auto first = sample_connection();
    REQUIRE(repository.put_connections({first}, false));
    auto changed = first;
    changed.host = "changed";
    auto other = first;
    other.conn_id = "other";
    auto kept = repository.put_connections({changed, other}, false);
    REQUIRE(kept);
    CHECK(*kept == std::vector<bool>{false, true});
    CHECK((*repository.find_connection("bq_main"))->host == "");
    auto replaced = repository.put_connections({changed}, true);
    REQUIRE(replaced);
    CHECK(*replaced == std::vector<bool>{true});
    CHECK((*repository.find_connection("bq_main"))->host == "changed");
    auto listed = repository.list_connections();
    REQUIRE(listed);
    REQUIRE(listed->size() == 2);
    CHECK((*listed)[0].conn_id == "bq_main");
    CHECK(*repository.delete_connection("other"));
    CHECK_FALSE(*repository.delete_connection("other"));
}

TEST_CASE("a database read with another key is refused with both key ids", "[connections][store]") {
    TempFolder folder;
    auto database = folder.path / "mayaflow.db";
    auto right = *generate_secret_key();
    auto wrong = *generate_secret_key();
    {
        auto store = open_store(database);
        SecretsRepository repository(*store, SecretKeyring({right}, "test"));
        REQUIRE(repository.put_connections({sample_connection()}, false));
        REQUIRE(repository.put_variables({Variable{"v", "value", std::nullopt}}));
    }
    auto store = open_store(database);
    SecretsRepository repository(*store, SecretKeyring({wrong}, "MAYAFLOW_SECRET_KEY"));
    auto found = repository.find_connection("bq_main");
    REQUIRE_FALSE(found);
    CHECK_THAT(found.error().message, Catch::Contains("connection 'bq_main'") && Catch::Contains(right.id) &&
                                          Catch::Contains(wrong.id));
    CHECK_FALSE(repository.list_connections());
    CHECK_FALSE(repository.find_variable("v"));
}

TEST_CASE("a rotation re-seals every value in one transaction", "[connections][store]") {
    TempFolder folder;
    auto database = folder.path / "mayaflow.db";
    auto old_key = *generate_secret_key();
    auto new_key = *generate_secret_key();
    auto store = open_store(database);
    {
        SecretsRepository repository(*store, SecretKeyring({old_key}, "test"));
        REQUIRE(repository.put_connections({sample_connection()}, false));
        REQUIRE(repository.put_variables({Variable{"v", "value", std::nullopt}}));
    }
    SECTION("with the old key still known, everything moves to the new key") {
        SecretsRepository rotating(*store, SecretKeyring({new_key, old_key}, "test"));
        auto count = rotating.reseal_all();
        REQUIRE(count);
        CHECK(*count == 3);  // password, extra, variable
        SecretsRepository only_new(*store, SecretKeyring({new_key}, "test"));
        CHECK(**only_new.find_connection("bq_main") == sample_connection());
        CHECK((*only_new.find_variable("v"))->value == "value");
    }
    SECTION("without the old key nothing changes") {
        SecretsRepository wrong(*store, SecretKeyring({new_key}, "test"));
        auto count = wrong.reseal_all();
        REQUIRE_FALSE(count);
        CHECK_THAT(count.error().message, Catch::Contains(old_key.id));
        SecretsRepository old(*store, SecretKeyring({old_key}, "test"));
        CHECK(**old.find_connection("bq_main") == sample_connection());
    }
}

TEST_CASE("a write with keys read before a rotation is refused, whichever write it is",
          "[connections][store]") {
    TempFolder folder;
    auto database = folder.path / "mayaflow.db";
    auto old_key = *generate_secret_key();
    auto new_key = *generate_secret_key();
    auto store = open_store(database);
    SecretsRepository before(*store, SecretKeyring({old_key}, "file"));  // read the key file before
    REQUIRE(before.put_connections({sample_connection()}, false));
    // A second process: the rotation, committed.
    auto rotating_store = open_store(database);
    SecretsRepository rotating(*rotating_store, SecretKeyring({new_key, old_key}, "file"));
    REQUIRE(rotating.reseal_all());

    Connection late{.conn_id = "late", .conn_type = "http"};
    late.set_password("late-pw");
    auto refused = before.put_connections({late}, true);
    REQUIRE_FALSE(refused);
    CHECK(is_key_rotated(refused.error()));
    CHECK_THAT(refused.error().message, Catch::Contains(new_key.id) && Catch::Contains(old_key.id) &&
                                            Catch::Contains("Run the command again") &&
                                            !Catch::Contains("late-pw"));
    auto refused_variable = before.put_variables({Variable{"v", "value", std::nullopt}});
    REQUIRE_FALSE(refused_variable);
    CHECK(is_key_rotated(refused_variable.error()));
    auto refused_rotation = before.reseal_all();  // a rotation that read the old key file, too
    REQUIRE_FALSE(refused_rotation);
    CHECK(is_key_rotated(refused_rotation.error()));
    // Nothing was written: only the new key is needed to open everything.
    SecretsRepository after(*store, SecretKeyring({new_key}, "file"));
    auto listed = after.list_connections();
    REQUIRE(listed);
    CHECK(listed->size() == 1);
    CHECK((*after.list_variables()).empty());
    // With the new key read, the same writes go through; keys listing the recorded one are accepted
    // (MAYAFLOW_SECRET_KEY=NEW,OLD set before a rotation is run).
    REQUIRE(after.put_connections({late}, true));
    auto newer = *generate_secret_key();
    SecretsRepository ahead(*store, SecretKeyring({newer, new_key}, "MAYAFLOW_SECRET_KEY"));
    REQUIRE(ahead.put_variables({Variable{"v", "value", std::nullopt}}));
    CHECK((*ahead.find_variable("v"))->value == "value");
}

TEST_CASE("the secrets' version moves with every write and delete, from any connection",
          "[connections][store]") {
    TempFolder folder;
    auto database = folder.path / "mayaflow.db";
    auto key = *generate_secret_key();
    auto store = open_store(database);
    auto other = open_store(database);
    SecretsRepository repository(*store, SecretKeyring({key}, "test"));
    SecretsRepository elsewhere(*other, SecretKeyring({key}, "test"));
    std::int64_t seen = *repository.version();
    auto moved = [&] {
        const std::int64_t now = *repository.version();
        const bool changed = now != seen;
        seen = now;
        return changed;
    };
    CHECK_FALSE(moved());
    REQUIRE(repository.put_connections({sample_connection()}, false));
    CHECK(moved());
    REQUIRE(repository.put_connections({sample_connection()}, false));  // kept as it was: no change
    CHECK_FALSE(moved());
    REQUIRE(elsewhere.put_connections({sample_connection()}, true));
    CHECK(moved());
    REQUIRE(elsewhere.put_variables({Variable{"v", "1", std::nullopt}}));
    CHECK(moved());
    REQUIRE(*elsewhere.delete_variable("v"));
    CHECK(moved());
    REQUIRE(*repository.delete_connection("bq_main"));
    CHECK(moved());
    CHECK_FALSE(moved());
}

}  // namespace
}  // namespace mayaflow
