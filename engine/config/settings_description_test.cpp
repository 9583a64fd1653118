#include "engine/config/settings_description.h"

#include <catch2/catch.hpp>
#include <unistd.h>

#include <fstream>

namespace mayaflow {
namespace {

struct Home {
    std::filesystem::path folder;
    Home() {
        static int counter = 0;
        folder = std::filesystem::temp_directory_path() /
                 ("mayaflow-settings-description-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(folder);
        std::filesystem::create_directories(folder);
    }
    ~Home() { std::filesystem::remove_all(folder); }
    std::map<std::string, std::string> environment(std::map<std::string, std::string> more = {}) const {
        more["MAYAFLOW_HOME"] = folder.string();
        more["HOME"] = folder.string();
        return more;
    }
};

TEST_CASE("each value says whether it came from the environment, the config file or the default", "[settings]") {
    Home home;
    std::ofstream(home.folder / "mayaflow.yaml") << "web_port: 9090\nlog_level: debug\n";
    auto environment = home.environment({{"MAYAFLOW_LOG_LEVEL", "warning"}, {"MAYAFLOW_PARALLELISM", "8"}});
    auto settings = load_settings(environment);
    REQUIRE(settings);
    auto sections = describe_settings(*settings, environment);

    auto port = find_option(sections, "webserver", "web_server_port");
    REQUIRE(port);
    CHECK(port->value == "9090");
    CHECK(port->source == kSourceConfigFile);
    auto level = find_option(sections, "logging", "logging_level");
    REQUIRE(level);
    CHECK(level->value == "warning");  // the environment wins over the file
    CHECK(level->source == kSourceEnvironment);
    CHECK(find_option(sections, "core", "parallelism")->value == "8");
    auto host = find_option(sections, "webserver", "web_server_host");
    CHECK(host->value == "127.0.0.1");
    CHECK(host->source == kSourceDefault);
    auto database = find_option(sections, "database", "sql_alchemy_conn");
    CHECK(database->value == (home.folder / "mayaflow.db").string());
    CHECK(database->variable == "MAYAFLOW_DATABASE");
    CHECK(find_option(sections, "webserver", "base_url")->value == "http://127.0.0.1:9090");
}

TEST_CASE("every option's environment variable is one load_settings reads", "[settings]") {
    Home home;
    auto plain = load_settings(home.environment());
    REQUIRE(plain);
    auto sections = describe_settings(*plain, home.environment());
    // A value each variable takes, that differs from its default.
    std::map<std::string, std::string> values = {
        {"MAYAFLOW_DAGS_FOLDER", "/srv/dags"},     {"MAYAFLOW_PARALLELISM", "3"},
        {"MAYAFLOW_DATABASE", "/srv/m.db"},        {"MAYAFLOW_DURABILITY", "normal"},
        {"MAYAFLOW_LOGS_FOLDER", "/srv/logs"},     {"MAYAFLOW_LOG_LEVEL", "error"},
        {"MAYAFLOW_WEB_HOST", "0.0.0.0"},          {"MAYAFLOW_WEB_PORT", "1234"},
        {"MAYAFLOW_BASE_URL", "https://x.example"}, {"MAYAFLOW_WEB_MAX_CONNECTIONS", "7"},
        {"MAYAFLOW_WEB_KEEP_ALIVE_TIMEOUT", "9s"}, {"MAYAFLOW_DAG_SCAN_INTERVAL", "2s"},
        {"MAYAFLOW_SHUTDOWN_GRACE_PERIOD", "1m"},   {"MAYAFLOW_LOG_FORMAT", "json"},
    };
    for (const auto& section : sections) {
        for (const auto& option : section.options) {
            if (option.sensitive || option.variable == "MAYAFLOW_HOME") continue;
            INFO(option.variable);
            REQUIRE(values.contains(option.variable));
            auto environment = home.environment({{option.variable, values[option.variable]}});
            auto changed = load_settings(environment);
            REQUIRE(changed);
            auto changed_sections = describe_settings(*changed, environment);
            auto described = find_option(changed_sections, section.name, option.key);
            REQUIRE(described);
            CHECK(described->source == kSourceEnvironment);
            CHECK(described->value != option.value);
        }
    }
}

TEST_CASE("log_format is text or json, and a wrong one names where it came from", "[settings][log-format]") {
    Home home;
    CHECK(load_settings(home.environment())->log_format == "text");
    CHECK(load_settings(home.environment({{"MAYAFLOW_LOG_FORMAT", "json"}}))->log_format == "json");
    auto wrong = load_settings(home.environment({{"MAYAFLOW_LOG_FORMAT", "JSONL"}}));
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().message ==
          "environment variable MAYAFLOW_LOG_FORMAT: log_format must be 'text' or 'json' (one JSON object per line); "
          "got \"JSONL\"");
    std::ofstream(home.folder / "mayaflow.yaml") << "web_port: 9090\nlog_format: yaml\n";
    auto in_file = load_settings(home.environment());
    REQUIRE_FALSE(in_file);
    CHECK(in_file.error().message.find("mayaflow.yaml:2: log_format must be") != std::string::npos);
}

TEST_CASE("the secret key is hidden wherever it comes from", "[settings]") {
    Home home;
    const std::string key(64, 'a');
    auto environment = home.environment({{"MAYAFLOW_SECRET_KEY", key}});
    auto settings = load_settings(environment);
    REQUIRE(settings);
    auto sections = describe_settings(*settings, environment);
    auto fernet = find_option(sections, "core", "fernet_key");
    REQUIRE(fernet);
    CHECK(fernet->value == kHiddenValue);
    CHECK(fernet->sensitive);
    CHECK(fernet->source == kSourceEnvironment);
    CHECK(settings_as_text(sections, true).find(key) == std::string::npos);

    std::ofstream(home.folder / "secret.key") << key << "\n";
    auto from_file = describe_settings(*load_settings(home.environment()), home.environment());
    CHECK(find_option(from_file, "core", "fernet_key")->source == kSourceKeyFile);
    CHECK(find_option(from_file, "core", "fernet_key")->value == kHiddenValue);
}

TEST_CASE("names that hold secrets are told apart from the others", "[settings]") {
    CHECK(looks_sensitive("fernet_key"));
    CHECK(looks_sensitive("secret_key"));
    CHECK(looks_sensitive("SMTP_PASSWORD"));
    CHECK(looks_sensitive("api_token"));
    CHECK(looks_sensitive("google_credentials"));
    CHECK_FALSE(looks_sensitive("dags_folder"));
    CHECK_FALSE(looks_sensitive("web_server_port"));
}

TEST_CASE("a value other than the environment and the file give came from the command line", "[settings]") {
    Home home;
    auto settings = load_settings(home.environment());
    REQUIRE(settings);
    settings->web_port = 0;  // standalone --port 0
    auto sections = describe_settings(*settings, home.environment());
    CHECK(find_option(sections, "webserver", "web_server_port")->source == kSourceCommandLine);
    CHECK(find_option(sections, "webserver", "web_server_host")->source == kSourceDefault);
}

TEST_CASE("the text form is Airflow's cfg layout", "[settings]") {
    std::vector<SettingSection> sections = {{"core", {{.key = "dags_folder", .value = "/d\nx", .source = "default"}}},
                                            {"logging", {{.key = "logging_level", .value = "info", .source = "env var"}}}};
    CHECK(settings_as_text(sections, false) == "[core]\ndags_folder = /d\\nx\n\n[logging]\nlogging_level = info\n");
    CHECK(settings_as_text(sections, true) ==
          "[core]\ndags_folder = /d\\nx\n# source: default\n\n[logging]\nlogging_level = info\n# source: env var\n");
}

TEST_CASE("sections and options are found by their exact names", "[settings]") {
    Home home;
    auto sections = describe_settings(*load_settings(home.environment()), home.environment());
    CHECK(find_section(sections, "core"));
    CHECK_FALSE(find_section(sections, "Core"));
    CHECK_FALSE(find_section(sections, "' OR 1=1 --"));
    CHECK_FALSE(find_option(sections, "core", "nope"));
    CHECK_FALSE(find_option(sections, "nope", "dags_folder"));
}

}  // namespace
}  // namespace mayaflow
