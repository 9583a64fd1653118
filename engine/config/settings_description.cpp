#include "engine/config/settings_description.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include "engine/connections/secret_key_file.h"
#include "engine/time/duration_text.h"

namespace mayaflow {
namespace {

// One setting: where it is shown, where it is set, and how its value reads.
struct OptionSpec {
    const char* section;
    const char* key;
    const char* file_key;  // "" : not in mayaflow.yaml
    const char* variable;  // "" : no environment variable
    std::function<std::string(const Settings&)> value;
    const char* description;
};

std::string durability_text(Durability durability) { return durability == Durability::full ? "full" : "normal"; }

std::string base_url_of(const Settings& settings) {
    return settings.base_url.empty() ? fmt::format("http://{}:{}", settings.web_host, settings.web_port)
                                     : settings.base_url;
}

const std::vector<OptionSpec>& option_specs() {
    static const std::vector<OptionSpec> specs = {
        {"core", "mayaflow_home", "", "MAYAFLOW_HOME", [](const Settings& s) { return s.home.string(); },
         "The folder that holds the database, the logs, the key file and mayaflow.yaml"},
        {"core", "dags_folder", "dags_folder", "MAYAFLOW_DAGS_FOLDER",
         [](const Settings& s) { return s.dags_folder.string(); }, "The folder of DAG files"},
        {"core", "parallelism", "parallelism", "MAYAFLOW_PARALLELISM",
         [](const Settings& s) { return std::to_string(s.parallelism); }, "Task tries running at once, over all DAGs"},
        {"core", "fernet_key", "", "MAYAFLOW_SECRET_KEY", [](const Settings&) { return std::string(); },
         "The key that encrypts stored passwords, extras and variables"},
        {"database", "sql_alchemy_conn", "database", "MAYAFLOW_DATABASE",
         [](const Settings& s) { return s.database.string(); }, "The SQLite database file"},
        {"database", "durability", "durability", "MAYAFLOW_DURABILITY",
         [](const Settings& s) { return durability_text(s.durability); },
         "full: each commit on disk before it is acted on; normal: survives a crash, not a power cut"},
        {"logging", "base_log_folder", "logs_folder", "MAYAFLOW_LOGS_FOLDER",
         [](const Settings& s) { return s.logs_folder.string(); }, "The folder of the tasks' logs"},
        {"logging", "logging_level", "log_level", "MAYAFLOW_LOG_LEVEL", [](const Settings& s) { return s.log_level; },
         "trace, debug, info, warning, error or off"},
        {"logging", "log_format", "log_format", "MAYAFLOW_LOG_FORMAT", [](const Settings& s) { return s.log_format; },
         "text, or json: the daemon's log as one JSON object per line"},
        {"webserver", "web_server_host", "web_host", "MAYAFLOW_WEB_HOST", [](const Settings& s) { return s.web_host; },
         "The address the web UI and API listen on"},
        {"webserver", "web_server_port", "web_port", "MAYAFLOW_WEB_PORT",
         [](const Settings& s) { return std::to_string(s.web_port); }, "The port the web UI and API listen on"},
        {"webserver", "base_url", "base_url", "MAYAFLOW_BASE_URL", base_url_of,
         "The web UI's address as its users reach it, for links in notifications"},
        {"webserver", "web_max_connections", "web_max_connections", "MAYAFLOW_WEB_MAX_CONNECTIONS",
         [](const Settings& s) { return std::to_string(s.web_max_connections); }, "HTTP connections open at once"},
        {"webserver", "web_keep_alive_timeout", "web_keep_alive_timeout", "MAYAFLOW_WEB_KEEP_ALIVE_TIMEOUT",
         [](const Settings& s) { return format_duration(s.web_keep_alive_timeout); },
         "How long an idle connection stays open"},
        {"scheduler", "dag_scan_interval", "dag_scan_interval", "MAYAFLOW_DAG_SCAN_INTERVAL",
         [](const Settings& s) { return format_duration(s.dag_scan_interval); },
         "Where the DAG folder cannot be watched, how often it is looked at"},
        {"scheduler", "shutdown_grace_period", "shutdown_grace_period", "MAYAFLOW_SHUTDOWN_GRACE_PERIOD",
         [](const Settings& s) { return format_duration(s.shutdown_grace_period); },
         "On SIGTERM, how long running tries may go on to finish"},
    };
    return specs;
}

// The top-level keys of the config file, when it can be read (a file that cannot be read fails
// load_settings, which every command calls first).
std::set<std::string> config_file_keys(const std::filesystem::path& file) {
    std::set<std::string> keys;
    std::error_code error;
    if (!std::filesystem::exists(file, error)) return keys;
    try {
        YAML::Node config = YAML::LoadFile(file.string());
        if (!config.IsMap()) return keys;
        for (auto it = config.begin(); it != config.end(); ++it) keys.insert(it->first.as<std::string>());
    } catch (const YAML::Exception&) {
    }
    return keys;
}

std::string source_of(const OptionSpec& spec, const Settings& effective, const std::optional<Settings>& baseline,
                      const std::map<std::string, std::string>& environment, const std::set<std::string>& file_keys) {
    if (std::string_view(spec.key) == "fernet_key") {
        auto variable = environment.find(spec.variable);
        if (variable != environment.end() && !variable->second.empty()) return std::string(kSourceEnvironment);
        std::error_code error;
        if (std::filesystem::exists(secret_key_file_path(effective.home), error)) return std::string(kSourceKeyFile);
        return std::string(kSourceDefault);
    }
    if (baseline && spec.value(*baseline) != spec.value(effective)) return std::string(kSourceCommandLine);
    auto variable = environment.find(spec.variable);
    if (variable != environment.end() && !variable->second.empty()) return std::string(kSourceEnvironment);
    if (*spec.file_key && file_keys.contains(spec.file_key)) return std::string(kSourceConfigFile);
    return std::string(kSourceDefault);
}

}  // namespace

bool looks_sensitive(std::string_view name) {
    std::string lower;
    for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::string_view word : {"key", "secret", "password", "passwd", "token", "credential", "fernet"}) {
        if (lower.find(word) != std::string::npos) return true;
    }
    return false;
}

std::vector<SettingSection> describe_settings(const Settings& effective,
                                              const std::map<std::string, std::string>& environment) {
    std::optional<Settings> baseline;
    if (auto loaded = load_settings(environment)) baseline = *loaded;
    // Only when the environment names the same home: otherwise the effective settings were made
    // elsewhere (a test, an embedding) and a comparison says nothing.
    if (baseline && baseline->home != effective.home) baseline.reset();
    const auto file_keys = config_file_keys(effective.home / "mayaflow.yaml");
    std::vector<SettingSection> sections;
    for (const auto& spec : option_specs()) {
        if (sections.empty() || sections.back().name != spec.section) sections.push_back({spec.section, {}});
        SettingOption option;
        option.key = spec.key;
        option.sensitive = std::string_view(spec.key) == "fernet_key" || looks_sensitive(spec.key);
        option.value = option.sensitive ? std::string(kHiddenValue) : spec.value(effective);
        option.source = source_of(spec, effective, baseline, environment, file_keys);
        option.variable = spec.variable;
        option.file_key = spec.file_key;
        option.description = spec.description;
        sections.back().options.push_back(std::move(option));
    }
    return sections;
}

const SettingSection* find_section(const std::vector<SettingSection>& sections, std::string_view name) {
    auto found = std::find_if(sections.begin(), sections.end(), [&](const auto& section) { return section.name == name; });
    return found == sections.end() ? nullptr : &*found;
}

const SettingOption* find_option(const std::vector<SettingSection>& sections, std::string_view section,
                                 std::string_view option) {
    const SettingSection* found = find_section(sections, section);
    if (!found) return nullptr;
    for (const auto& candidate : found->options) {
        if (candidate.key == option) return &candidate;
    }
    return nullptr;
}

std::string settings_as_text(const std::vector<SettingSection>& sections, bool with_sources) {
    std::string text;
    for (const auto& section : sections) {
        if (!text.empty()) text += "\n";
        text += "[" + section.name + "]\n";
        for (const auto& option : section.options) {
            std::string value;
            for (char c : option.value) value += c == '\n' ? std::string("\\n") : std::string(1, c);
            text += option.key + " = " + value + "\n";
            if (with_sources) text += "# source: " + option.source + "\n";
        }
    }
    return text;
}

}  // namespace mayaflow
