#include "engine/connections/environment_secrets.h"

#include <fmt/format.h>

#include <set>

#include "engine/connections/connection_files.h"
#include "engine/connections/python_url.h"
#include "engine/template/unicode.h"

namespace mayaflow {
namespace {

constexpr const char* kPrefixes[] = {"MAYAFLOW_", "AIRFLOW_"};

std::string python_upper(std::string_view text) {
    std::u32string upper;
    for (char32_t cp : tmpl::unicode::decode(text)) tmpl::unicode::append_upper(upper, cp);
    return tmpl::unicode::encode(upper);
}

}  // namespace

std::optional<std::pair<std::string, std::string>> EnvironmentSecrets::lookup(const std::string& kind,
                                                                              const std::string& name) const {
    for (const char* prefix : kPrefixes) {
        std::string variable = fmt::format("{}{}_{}", prefix, kind, python_upper(name));
        if (auto it = environment_.find(variable); it != environment_.end())
            return std::pair{variable, it->second};
    }
    return std::nullopt;
}

Result<std::optional<Connection>> EnvironmentSecrets::find_connection(const std::string& conn_id) const {
    auto found = lookup("CONN", conn_id);
    if (!found) return std::optional<Connection>();
    auto connection = connection_from_env_value(conn_id, found->second);
    if (!connection)
        return make_error("the environment variable {} does not hold a connection: {}", found->first,
                          connection.error().message);
    return std::optional<Connection>(std::move(*connection));
}

std::optional<Variable> EnvironmentSecrets::find_variable(const std::string& key) const {
    auto found = lookup("VAR", key);
    if (!found) return std::nullopt;
    return Variable{key, found->second, std::nullopt};
}

std::vector<EnvironmentConnection> EnvironmentSecrets::list_connections() const {
    std::vector<EnvironmentConnection> found;
    std::set<std::string> seen;
    for (const char* prefix : kPrefixes) {
        std::string start = std::string(prefix) + "CONN_";
        for (auto it = environment_.lower_bound(start);
             it != environment_.end() && it->first.starts_with(start); ++it) {
            std::string conn_id = pyurl::python_lower(std::string_view(it->first).substr(start.size()));
            if (conn_id.empty() || !seen.insert(conn_id).second) continue;
            auto connection = connection_from_env_value(conn_id, it->second);
            if (!connection) {
                connection = make_error("the environment variable {} does not hold a connection: {}",
                                        it->first, connection.error().message);
            }
            found.push_back({conn_id, it->first, std::move(connection)});
        }
    }
    std::sort(found.begin(), found.end(), [](auto& a, auto& b) { return a.conn_id < b.conn_id; });
    return found;
}

std::vector<EnvironmentVariable> EnvironmentSecrets::list_variables() const {
    std::vector<EnvironmentVariable> found;
    std::set<std::string> seen;
    for (const char* prefix : kPrefixes) {
        std::string start = std::string(prefix) + "VAR_";
        for (auto it = environment_.lower_bound(start);
             it != environment_.end() && it->first.starts_with(start); ++it) {
            std::string key = pyurl::python_lower(std::string_view(it->first).substr(start.size()));
            if (key.empty() || !seen.insert(key).second) continue;
            found.push_back({it->first, Variable{key, it->second, std::nullopt}});
        }
    }
    std::sort(found.begin(), found.end(), [](auto& a, auto& b) { return a.variable.key < b.variable.key; });
    return found;
}

}  // namespace mayaflow
