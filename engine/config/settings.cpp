#include "engine/config/settings.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "engine/time/duration_text.h"

extern char** environ;

namespace mayaflow {
namespace {

std::filesystem::path expand_home(const std::string& text, const std::map<std::string, std::string>& env) {
    if (text.starts_with("~/") || text == "~") {
        auto home = env.find("HOME");
        return std::filesystem::path(home != env.end() ? home->second : "/root") / text.substr(text.size() > 1 ? 2 : 1);
    }
    return text;
}

Status apply(Settings& settings, const std::string& key, const std::string& value, const std::string& source,
             const std::map<std::string, std::string>& env) {
    if (key == "dags_folder") settings.dags_folder = expand_home(value, env);
    else if (key == "database") settings.database = expand_home(value, env);
    else if (key == "logs_folder") settings.logs_folder = expand_home(value, env);
    else if (key == "web_host") settings.web_host = value;
    else if (key == "base_url") {
        if (value.find("://") == std::string::npos) {
            return make_error("{}: base_url must be a URL such as https://mayaflow.example.com, got \"{}\"", source, value);
        }
        settings.base_url = value;
    }
    else if (key == "web_port") {
        try {
            size_t used = 0;
            int port = std::stoi(value, &used);
            if (used != value.size() || port < 0 || port > 65535) throw std::out_of_range("port");
            settings.web_port = port;
        } catch (const std::exception&) {
            return make_error("{}: web_port must be a port number from 0 to 65535, got \"{}\"", source, value);
        }
    } else if (key == "web_max_connections") {
        try {
            size_t used = 0;
            int count = std::stoi(value, &used);
            if (used != value.size() || count < 1 || count > 1'000'000) throw std::out_of_range("connections");
            settings.web_max_connections = count;
        } catch (const std::exception&) {
            return make_error("{}: web_max_connections must be a whole number from 1 to 1000000, got \"{}\"", source, value);
        }
    } else if (key == "web_keep_alive_timeout") {
        auto duration = parse_duration(value);
        if (!duration) return make_error("{}: web_keep_alive_timeout: {}", source, duration.error().message);
        if (duration->count() <= 0) return make_error("{}: web_keep_alive_timeout must be longer than zero", source);
        settings.web_keep_alive_timeout = *duration;
    } else if (key == "parallelism") {
        try {
            size_t used = 0;
            int count = std::stoi(value, &used);
            if (used != value.size() || count < 1 || count > 4096) throw std::out_of_range("parallelism");
            settings.parallelism = count;
        } catch (const std::exception&) {
            return make_error("{}: parallelism must be a whole number from 1 to 4096, got \"{}\"", source, value);
        }
    } else if (key == "dag_scan_interval") {
        auto duration = parse_duration(value);
        if (!duration) return make_error("{}: dag_scan_interval: {}", source, duration.error().message);
        if (duration->count() <= 0) return make_error("{}: dag_scan_interval must be longer than zero", source);
        settings.dag_scan_interval = *duration;
    } else if (key == "shutdown_grace_period") {
        auto duration = parse_duration(value);
        if (!duration) return make_error("{}: shutdown_grace_period: {}", source, duration.error().message);
        if (duration->count() < 0) return make_error("{}: shutdown_grace_period cannot be negative", source);
        settings.shutdown_grace_period = *duration;
    } else if (key == "bigquery_usd_per_tib") {
        try {
            size_t used = 0;
            const double price = std::stod(value, &used);
            if (used != value.size() || !(price >= 0) || price > 1e6) throw std::out_of_range("price");
            settings.bigquery_usd_per_tib = price;
        } catch (const std::exception&) {
            return make_error("{}: bigquery_usd_per_tib must be a price in US dollars per TiB billed, like 6.25; got \"{}\"",
                              source, value);
        }
    } else if (key == "durability") {
        if (value == "normal") settings.durability = Durability::normal;
        else if (value == "full") settings.durability = Durability::full;
        else return make_error("{}: durability must be 'normal' or 'full', got \"{}\"", source, value);
    } else if (key == "log_level") {
        static const std::vector<std::string> levels = {"trace", "debug", "info", "warning", "warn", "error", "critical", "off"};
        if (std::find(levels.begin(), levels.end(), value) == levels.end()) {
            return make_error("{}: log_level must be one of trace, debug, info, warning, error, off; got \"{}\"", source, value);
        }
        settings.log_level = value;
    } else if (key == "log_format") {
        if (value != "text" && value != "json") {
            return make_error("{}: log_format must be 'text' or 'json' (one JSON object per line); got \"{}\"", source, value);
        }
        settings.log_format = value;
    } else {
        return make_error("{}: unknown setting '{}'; see docs/configuration.md", source, key);
    }
    return Status::success();
}

}  // namespace

std::map<std::string, std::string> process_environment() {
    std::map<std::string, std::string> env;
    for (char** entry = environ; entry && *entry; ++entry) {
        std::string text = *entry;
        auto equals = text.find('=');
        if (equals != std::string::npos) env[text.substr(0, equals)] = text.substr(equals + 1);
    }
    return env;
}

Result<Settings> load_settings(const std::map<std::string, std::string>& env) {
    Settings settings;
    auto home = env.find("MAYAFLOW_HOME");
    settings.home = home != env.end() && !home->second.empty() ? expand_home(home->second, env)
                                                               : expand_home("~/mayaflow", env);
    settings.home = std::filesystem::absolute(settings.home).lexically_normal();

    auto config_file = settings.home / "mayaflow.yaml";
    if (std::filesystem::exists(config_file)) {
        try {
            YAML::Node config = YAML::LoadFile(config_file.string());
            if (!config.IsMap() && !config.IsNull()) {
                return make_error("{}: expected a mapping of setting names to values", config_file.string());
            }
            for (auto it = config.begin(); config.IsMap() && it != config.end(); ++it) {
                std::string key = it->first.as<std::string>();
                if (!it->second.IsScalar()) {
                    return make_error("{}:{}: {} must be a single value", config_file.string(), it->second.Mark().line + 1, key);
                }
                auto status = apply(settings, key, it->second.Scalar(),
                                    fmt::format("{}:{}", config_file.string(), it->first.Mark().line + 1), env);
                if (!status) return status.error();
            }
        } catch (const YAML::Exception& e) {
            return make_error("{}:{}: {}", config_file.string(), e.mark.line + 1, e.msg);
        }
    }
    static const std::pair<const char*, const char*> kVariables[] = {
        {"MAYAFLOW_DAGS_FOLDER", "dags_folder"}, {"MAYAFLOW_DATABASE", "database"},
        {"MAYAFLOW_LOGS_FOLDER", "logs_folder"}, {"MAYAFLOW_WEB_HOST", "web_host"},
        {"MAYAFLOW_WEB_PORT", "web_port"},       {"MAYAFLOW_DAG_SCAN_INTERVAL", "dag_scan_interval"},
        {"MAYAFLOW_DURABILITY", "durability"},   {"MAYAFLOW_LOG_LEVEL", "log_level"},
        {"MAYAFLOW_LOG_FORMAT", "log_format"},
        {"MAYAFLOW_PARALLELISM", "parallelism"}, {"MAYAFLOW_SHUTDOWN_GRACE_PERIOD", "shutdown_grace_period"},
        {"MAYAFLOW_WEB_MAX_CONNECTIONS", "web_max_connections"},
        {"MAYAFLOW_WEB_KEEP_ALIVE_TIMEOUT", "web_keep_alive_timeout"},
        {"MAYAFLOW_BASE_URL", "base_url"},
        {"MAYAFLOW_BIGQUERY_USD_PER_TIB", "bigquery_usd_per_tib"},
    };
    for (const auto& [variable, key] : kVariables) {
        auto it = env.find(variable);
        if (it == env.end() || it->second.empty()) continue;
        auto status = apply(settings, key, it->second, std::string("environment variable ") + variable, env);
        if (!status) return status.error();
    }
    if (settings.dags_folder.empty()) settings.dags_folder = settings.home / "dags";
    if (settings.database.empty()) settings.database = settings.home / "mayaflow.db";
    if (settings.logs_folder.empty()) settings.logs_folder = settings.home / "logs";
    settings.dags_folder = std::filesystem::absolute(settings.dags_folder).lexically_normal();
    settings.database = std::filesystem::absolute(settings.database).lexically_normal();
    settings.logs_folder = std::filesystem::absolute(settings.logs_folder).lexically_normal();
    return settings;
}

}  // namespace mayaflow
