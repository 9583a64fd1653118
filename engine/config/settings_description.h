#pragma once
// The settings as Airflow's `airflow config list` and its REST API's /config present them: in
// Airflow's sections and option names where a mayaflow setting means the same ([core] dags_folder,
// [database] sql_alchemy_conn, [webserver] web_server_port…), mayaflow's own names otherwise, each
// value with where it came from. One description for `mayaflow config` and GET /api/v1/config.
// Secrets (the key that encrypts connections and variables, anything named like a key, secret,
// password or token) are never shown: their value is "< hidden >", as Airflow writes it.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/settings.h"

namespace mayaflow {

inline constexpr std::string_view kHiddenValue = "< hidden >";

// Where a value came from, in Airflow's words where it has them.
inline constexpr std::string_view kSourceEnvironment = "env var";
inline constexpr std::string_view kSourceConfigFile = "mayaflow.yaml";
inline constexpr std::string_view kSourceDefault = "default";
inline constexpr std::string_view kSourceCommandLine = "cmd";  // a flag such as `standalone --port`
inline constexpr std::string_view kSourceKeyFile = "key file";  // $MAYAFLOW_HOME/secret.key

struct SettingOption {
    std::string key;
    std::string value;  // kHiddenValue when sensitive
    std::string source;
    bool sensitive = false;
    std::string variable;     // the MAYAFLOW_* environment variable that sets it
    std::string file_key;     // its name in mayaflow.yaml; empty: environment only
    std::string description;  // one line
};

struct SettingSection {
    std::string name;
    std::vector<SettingOption> options;
};

// The settings in effect (`effective`: as the command or daemon runs with them, flags applied) with
// their sources, found from `environment` and the config file in the home folder. A value that
// differs from what the environment and the file give came from the command line.
std::vector<SettingSection> describe_settings(const Settings& effective,
                                              const std::map<std::string, std::string>& environment);

// The section, or the option of a section; names compared exactly, as Airflow does.
const SettingSection* find_section(const std::vector<SettingSection>& sections, std::string_view name);
const SettingOption* find_option(const std::vector<SettingSection>& sections, std::string_view section,
                                 std::string_view option);

// Whether an option's name says it holds a secret (key, secret, password, token, credential…).
bool looks_sensitive(std::string_view name);

// Airflow's text form of the configuration (its airflow.cfg layout): "[section]" lines, each option as
// "key = value", a blank line between sections; with `with_sources`, "# source: …" after each value.
std::string settings_as_text(const std::vector<SettingSection>& sections, bool with_sources);

}  // namespace mayaflow
