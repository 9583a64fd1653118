// Connections and variables looked up by name: the environment first, then the database, every
// secret handed out registered with the masker.

#include "engine/connections/secrets_lookup.h"

#include <unistd.h>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "engine/connections/secret_masker.h"
#include "engine/connections/secrets_repository.h"
#include "engine/store/sqlite_store.h"

namespace mayaflow {
namespace {

TEST_CASE("environment connections are found by upper-cased id, MAYAFLOW_ before AIRFLOW_",
          "[connections][env]") {
    EnvironmentSecrets environment(
        {{"AIRFLOW_CONN_MY_DB", "postgres://u:p@airflow-host/db"},
         {"MAYAFLOW_CONN_MY_DB", "postgres://u:p@mayaflow-host/db"},
         {"AIRFLOW_CONN_JSON_ONE", R"( {"conn_type": "http", "host": "h", "port": "8080"})"},
         {"AIRFLOW_CONN_BROKEN", "http://h:port"},
         {"AIRFLOW_VAR_DATASET", "sales"},
         {"MAYAFLOW_VAR_REGION", "eu"},
         {"PATH", "/bin"}});
    auto found = environment.find_connection("my_db");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->host == "mayaflow-host");
    CHECK((*found)->conn_id == "my_db");
    auto json = environment.find_connection("json_one");
    REQUIRE(json);
    CHECK((**json).port == 8080);
    auto broken = environment.find_connection("broken");
    REQUIRE_FALSE(broken);
    CHECK_THAT(broken.error().message, Catch::Contains("AIRFLOW_CONN_BROKEN"));
    CHECK_FALSE(*environment.find_connection("absent"));

    auto listed = environment.list_connections();
    REQUIRE(listed.size() == 3);
    CHECK(listed[0].conn_id == "broken");
    CHECK_FALSE(listed[0].connection);
    CHECK(listed[2].conn_id == "my_db");
    CHECK(listed[2].variable_name == "MAYAFLOW_CONN_MY_DB");

    CHECK(environment.find_variable("dataset")->value == "sales");
    CHECK(environment.find_variable("DataSet")->value == "sales");
    auto variables = environment.list_variables();
    REQUIRE(variables.size() == 2);
    CHECK(variables[1].variable.key == "region");
}

struct TempFolder {
    std::filesystem::path path;
    TempFolder() {
        char pattern[] = "/tmp/mayaflow_lookup_test_XXXXXX";
        path = ::mkdtemp(pattern);
    }
    ~TempFolder() { std::filesystem::remove_all(path); }
};

TEST_CASE("a lookup prefers the environment, falls back to the database, and masks what it hands out",
          "[connections][env]") {
    TempFolder folder;
    auto store = SqliteStore::open(StoreOptions{.path = folder.path / "mayaflow.db"});
    REQUIRE(store);
    SecretsRepository repository(**store, SecretKeyring({*generate_secret_key()}, "test"));
    Connection stored{.conn_id = "bq_main", .conn_type = "google_cloud_platform"};
    stored.login = "svc";
    stored.set_password("stored-pw");
    stored.extra = R"({"project": "p", "access_token": "at-1"})";
    Connection shadowed{.conn_id = "shadowed", .conn_type = "http"};
    shadowed.host = "database-host";
    REQUIRE(repository.put_connections({stored, shadowed}, false));
    REQUIRE(repository.put_variables({Variable{"config", R"({"key": {"deep": 1}})", std::nullopt},
                                      Variable{"api_key", "ak-2", std::nullopt},
                                      Variable{"plain", "seen", std::nullopt}}));

    SecretMasker masker;
    SecretsLookup lookup(
        EnvironmentSecrets(std::map<std::string, std::string>{{"AIRFLOW_CONN_SHADOWED", "http://env-host"}}),
        &repository, &masker);
    ConnectionSource& connections = lookup;
    VariableSource& variables = lookup;

    auto found = connections.find_connection("bq_main");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->login == "svc");
    auto with_origin = lookup.find_connection_with_origin("shadowed");
    REQUIRE(with_origin);
    CHECK((*with_origin)->first.host == "env-host");
    CHECK((*with_origin)->second == SecretOrigin::environment);
    CHECK_FALSE(*connections.find_connection("absent"));

    CHECK(*variables.find_variable("plain") == std::optional<std::string>("seen"));
    CHECK(*variables.find_variable("api_key") == std::optional<std::string>("ak-2"));
    auto config = variable_as_json(variables, "config");
    REQUIRE(config);
    CHECK((*config)["key"]["deep"] == 1);
    auto missing = variable_as_json(variables, "absent");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message == "Variable absent does not exist");
    CHECK_FALSE(variable_as_json(variables, "plain"));

    CHECK(masker.mask("stored-pw at-1 ak-2 seen p") == "*** *** *** seen p");

    auto value = connection_template_value(**found);
    CHECK(value["login"] == "svc");
    CHECK(value["port"].is_null());
    CHECK(value["extra_dejson"]["project"] == "p");
    CHECK(value["host"].is_null());

    // Registering everything masks what no lookup has handed out yet.
    SecretMasker everything;
    SecretsLookup registering(EnvironmentSecrets(std::map<std::string, std::string>{
                                  {"AIRFLOW_CONN_ENV_DB", "postgres://u:env-pw@h/db"},
                                  {"MAYAFLOW_VAR_SLACK_TOKEN", "xoxb-1"},
                                  {"MAYAFLOW_VAR_REGION", "eu-west"},
                                  {"AIRFLOW_CONN_BROKEN", "http://h:port"}}),
                              &repository, &everything);
    auto registered = registering.register_every_secret();
    REQUIRE_FALSE(registered);
    CHECK_THAT(registered.error().message, Catch::Contains("AIRFLOW_CONN_BROKEN"));
    CHECK(everything.mask("env-pw xoxb-1 eu-west stored-pw at-1 ak-2 seen") ==
          "*** *** eu-west *** *** *** seen");

    // A connection sealed with a key this repository does not hold (the repository of another key
    // may not write here: the store refuses a keyring without the database's key, so it is written
    // past it): the others are still masked.
    SecretKeyring other_key({*generate_secret_key()}, "other");
    SecretsRepository other(**store, other_key);
    Connection foreign{.conn_id = "foreign", .conn_type = "http"};
    foreign.set_password("foreign-pw");
    auto refused = other.put_connections({foreign}, false);
    REQUIRE_FALSE(refused);
    CHECK(is_key_rotated(refused.error()));
    ConnectionRow foreign_row{.conn_id = "foreign", .conn_type = "http"};
    foreign_row.sealed_password =
        *other_key.seal("foreign-pw", sealed_value_context("connection", "foreign", "password"));
    const auto& own = repository.keyring().sealing_key().id;
    REQUIRE((*store)->put_connections({foreign_row}, false, SealingKeys{own, {own}}));
    SecretMasker despite;
    SecretsLookup tolerant(EnvironmentSecrets(std::map<std::string, std::string>{}), &repository, &despite);
    auto partly = tolerant.register_every_secret();
    REQUIRE_FALSE(partly);
    CHECK_THAT(partly.error().message, Catch::Contains("foreign"));
    CHECK(despite.mask("stored-pw at-1") == "*** ***");

    SecretsLookup environment_only(
        EnvironmentSecrets(std::map<std::string, std::string>{{"MAYAFLOW_VAR_X", "1"}}), nullptr, nullptr);
    CHECK(*environment_only.find_variable("x") == std::optional<std::string>("1"));
    CHECK_FALSE(*environment_only.find_connection("bq_main"));
}

// Rows written before mayaflow bounded nesting (or by hand): each is its own problem, not the daemon's end.
TEST_CASE("stored values nested too deep are named, and every other secret is still masked",
          "[connections]") {
    TempFolder folder;
    auto store = SqliteStore::open(StoreOptions{.path = folder.path / "mayaflow.db"});
    REQUIRE(store);
    SecretKeyring keyring({*generate_secret_key()}, "test");
    SecretsRepository repository(**store, keyring);
    Connection fine{.conn_id = "fine", .conn_type = "http"};
    fine.set_password("fine-pw");
    fine.extra = R"({"api_key": "fine-key"})";
    REQUIRE(repository.put_connections({fine}, false));

    for (int depth : {150, 20'000, 200'000}) {
        CAPTURE(depth);
        // Past the repository, which refuses such values now.
        const std::string deep_extra =
            "{\"token\": " + std::string(depth, '[') + "\"deep-tok\"" + std::string(depth, ']') + "}";
        ConnectionRow row{.conn_id = "deep", .conn_type = "http"};
        row.sealed_password =
            *keyring.seal("deep-pw", sealed_value_context("connection", "deep", "password"));
        row.sealed_extra = *keyring.seal(deep_extra, sealed_value_context("connection", "deep", "extra"));
        const SealingKeys keys{keyring.sealing_key().id, {keyring.sealing_key().id}};
        REQUIRE((*store)->put_connections({row}, true, keys));
        REQUIRE((*store)->put_variables(
            {VariableRow{"deep_var",
                         *keyring.seal("[" + std::string(depth, '[') + "]",
                                       sealed_value_context("variable", "deep_var", "val")),
                         std::nullopt}},
            keys));

        SecretMasker masker;
        SecretsLookup lookup(EnvironmentSecrets(std::map<std::string, std::string>{}), &repository, &masker);
        auto registered = lookup.register_every_secret();
        REQUIRE_FALSE(registered);
        CHECK_THAT(registered.error().message,
                   Catch::Contains("the extra of connection 'deep' cannot be read"));
        CHECK_THAT(registered.error().message, Catch::Contains("variable 'deep_var' cannot be read"));
        CHECK_THAT(registered.error().message, !Catch::Contains("deep-tok"));
        CHECK(masker.mask("fine-pw fine-key deep-pw") == "*** *** ***");

        // Looked up by a template: found, its extra read as {} with the reason.
        auto found = lookup.find_connection("deep");
        REQUIRE(found);
        REQUIRE(*found);
        CHECK_THAT(*(*found)->parse_extra().problem, Catch::Contains("nested deeper than 100 levels"));
        auto as_json = variable_as_json(lookup, "deep_var");
        REQUIRE_FALSE(as_json);
        CHECK_THAT(as_json.error().message, Catch::Contains("nested deeper than 100 levels"));
    }
    // The same values are refused on the way in.
    Connection deep{.conn_id = "deep2", .conn_type = "http"};
    deep.extra = "{\"a\": " + std::string(101, '[') + std::string(101, ']') + "}";
    auto refused = repository.put_connections({deep}, false);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("the extra of connection 'deep2' cannot be stored"));
    auto refused_variable =
        repository.put_variables({Variable{"v", " " + std::string(101, '{'), std::nullopt}});
    REQUIRE_FALSE(refused_variable);
    CHECK_THAT(refused_variable.error().message,
               Catch::Contains("the value of variable 'v' cannot be stored"));
    CHECK(repository.put_variables({Variable{"text", std::string(101, '(') + "[[", std::nullopt}}));
}

TEST_CASE("text that is not UTF-8 is refused on the way in, naming the field and never the value",
          "[connections]") {
    TempFolder folder;
    auto store = SqliteStore::open(StoreOptions{.path = folder.path / "mayaflow.db"});
    REQUIRE(store);
    SecretsRepository repository(**store, SecretKeyring({*generate_secret_key()}, "test"));
    const std::string bad = "s3cr\xff\xfet";
    for (const char* field : {"conn_type", "description", "host", "login", "password", "schema", "extra"}) {
        CAPTURE(field);
        Connection connection{.conn_id = "c", .conn_type = "http"};
        const std::string name = field;
        if (name == "conn_type") connection.conn_type = bad;
        if (name == "description") connection.description = bad;
        if (name == "host") connection.host = bad;
        if (name == "login") connection.login = bad;
        if (name == "password") connection.set_password(bad);
        if (name == "schema") connection.schema = bad;
        if (name == "extra") connection.extra = "{\"a\": \"" + bad + "\"}";
        auto written = repository.put_connections({connection}, true);
        REQUIRE_FALSE(written);
        CHECK_THAT(written.error().message,
                   Catch::Contains(fmt::format("the {} of connection 'c' is not UTF-8 text", field)));
        CHECK_THAT(written.error().message, !Catch::Contains("s3cr"));
    }
    for (auto variable : {Variable{"k", bad, std::nullopt}, Variable{"k" + bad, "v", std::nullopt},
                          Variable{"k", "v", bad}}) {
        auto written = repository.put_variables({variable});
        REQUIRE_FALSE(written);
        CHECK_THAT(written.error().message,
                   Catch::Contains("of variable 'k") && Catch::Contains("is not UTF-8 text"));
        CHECK_THAT(written.error().message, !Catch::Contains("\xff"));
    }
    CHECK((*repository.list_connections()).empty());
    CHECK((*repository.list_variables()).empty());
}

TEST_CASE(
    "registering every secret follows the database: deleted ones are forgotten, unchanged ones not read "
    "again",
    "[connections][masker]") {
    TempFolder folder;
    auto store = SqliteStore::open(StoreOptions{.path = folder.path / "mayaflow.db"});
    auto writer_store = SqliteStore::open(StoreOptions{.path = folder.path / "mayaflow.db"});
    REQUIRE(store);
    REQUIRE(writer_store);
    SecretKeyring keyring({*generate_secret_key()}, "test");
    SecretsRepository repository(**store, keyring);
    SecretsRepository writer(**writer_store, keyring);  // another process: the CLI
    Connection pg{.conn_id = "pg", .conn_type = "postgres"};
    pg.set_password("pg-pw-1");
    REQUIRE(writer.put_connections({pg}, false));
    REQUIRE(writer.put_variables({Variable{"api_key", "vk-1", std::nullopt}}));

    SecretMasker masker;
    SecretsLookup lookup(
        EnvironmentSecrets(std::map<std::string, std::string>{{"MAYAFLOW_VAR_TOKEN", "env-tok"}}),
        &repository, &masker);
    REQUIRE(lookup.register_every_secret());
    CHECK(masker.mask("pg-pw-1 vk-1 env-tok") == "*** *** ***");
    auto registered = masker.secret_list();
    REQUIRE(lookup.register_every_secret());
    CHECK(masker.secret_list() == registered);  // nothing changed: the same list, nothing rebuilt

    // A template's lookup registers what it read; the next registration sets the whole set again.
    REQUIRE(*lookup.find_connection("pg"));
    REQUIRE(writer.delete_connection("pg"));
    pg.set_password("pg-pw-2");
    Connection other{.conn_id = "other", .conn_type = "http"};
    other.set_password("other-pw");
    REQUIRE(writer.put_connections({other}, false));
    REQUIRE(*writer.delete_variable("api_key"));
    REQUIRE(lookup.register_every_secret());
    CHECK(masker.mask("pg-pw-1 vk-1 env-tok other-pw") == "pg-pw-1 vk-1 *** ***");

    // Something else registered in between (a lookup of a secret not in the set): set again too.
    masker.add_secret("stray");
    REQUIRE(lookup.register_every_secret());
    CHECK(masker.mask("stray other-pw") == "stray ***");
}

}  // namespace
}  // namespace mayaflow
