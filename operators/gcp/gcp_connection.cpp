#include "operators/gcp/gcp_connection.h"

#include <fmt/format.h>

#include <charconv>

#include "engine/util/text.h"

namespace mayaflow::gcp {
namespace {

// Airflow's GoogleBaseHook._get_field: the short name, else the prefixed one.
const pyjson::Json* extra_field(const pyjson::Json& extras, const std::string& name) {
    for (const std::string& key : {name, "extra__google_cloud_platform__" + name}) {
        auto found = extras.find(key);
        if (found != extras.end() && !found->is_null() && !(found->is_string() && found->get<std::string>().empty())) {
            return &*found;
        }
    }
    return nullptr;
}

Result<std::string> text_field(const pyjson::Json& extras, const std::string& name, const std::string& conn_id) {
    const pyjson::Json* value = extra_field(extras, name);
    if (!value) return std::string();
    if (!value->is_string()) {
        return make_error("connection '{}': the extra {} must be a string, not {}", conn_id, name, value->type_name());
    }
    return value->get<std::string>();
}

std::string without_trailing_slash(std::string url) {
    while (url.size() > 1 && url.back() == '/') url.pop_back();
    return url;
}

}  // namespace

std::string emulator_base_url(std::string_view host) {
    std::string url(host);
    if (url.find("://") == std::string::npos) url = "http://" + url;
    return without_trailing_slash(url);
}

std::string GcpConnection::cache_key() const {
    return fmt::format("{}|{}|{}|{}|{}|{}", static_cast<int>(source), key ? key->client_email : "",
                       key ? key->private_key_id : "", join(scopes, " "), endpoints.token_uri.value_or(""),
                       endpoints.metadata);
}

Result<GcpConnection> read_gcp_connection(const Connection& connection,
                                          const std::map<std::string, std::string>& environment) {
    GcpConnection gcp;
    gcp.conn_id = connection.conn_id;
    if (connection.conn_type != "google_cloud_platform" && connection.conn_type != "gcpbigquery" &&
        connection.conn_type != "gcp") {
        return make_error("connection '{}' is of type {}, not google_cloud_platform", connection.conn_id,
                          connection.conn_type);
    }
    ParsedExtra parsed = connection.parse_extra();
    if (parsed.problem) return make_error("connection '{}': {}", connection.conn_id, *parsed.problem);
    const pyjson::Json& extras = parsed.value;
    const std::string& id = connection.conn_id;

    for (const char* unsupported : {"key_secret_name", "credential_config_file", "impersonation_chain"}) {
        if (extra_field(extras, unsupported)) {
            return make_error("connection '{}': the extra {} is not supported by mayaflow; give the service "
                              "account's key as key_path or keyfile_dict, or run where the metadata server "
                              "provides credentials",
                              id, unsupported);
        }
    }
    auto key_path = text_field(extras, "key_path", id);
    if (!key_path) return key_path.error();
    const pyjson::Json* keyfile_dict = extra_field(extras, "keyfile_dict");
    if (!key_path->empty() && keyfile_dict) {
        return make_error("connection '{}': the keyfile_dict and key_path fields are mutually exclusive; "
                          "give only one",
                          id);
    }
    if (!key_path->empty()) {
        if (key_path->ends_with(".p12")) {
            return make_error("connection '{}': key_path {} is a legacy P12 key; mayaflow reads JSON keys only",
                              id, *key_path);
        }
        auto key = read_service_account_key_file(*key_path);
        if (!key) return make_error("connection '{}': {}", id, key.error().message);
        gcp.key = std::move(*key);
        gcp.key_where = "key file " + *key_path;
        gcp.source = CredentialSource::key_path;
    } else if (keyfile_dict) {
        const std::string where = fmt::format("the keyfile_dict of connection '{}'", id);
        std::string text = keyfile_dict->is_string() ? keyfile_dict->get<std::string>() : pyjson::dumps(*keyfile_dict);
        auto key = parse_service_account_key(text, where);
        if (!key) return key.error();
        gcp.key = std::move(*key);
        gcp.key_where = where;
        gcp.source = CredentialSource::keyfile_dict;
    } else if (auto token = text_field(extras, "access_token", id); token && !token->empty()) {
        gcp.access_token = *token;
        gcp.source = CredentialSource::access_token;
    } else if (auto adc = environment.find("GOOGLE_APPLICATION_CREDENTIALS");
               adc != environment.end() && !adc->second.empty()) {
        auto key = read_service_account_key_file(adc->second);
        if (!key) return make_error("GOOGLE_APPLICATION_CREDENTIALS: {}", key.error().message);
        gcp.key = std::move(*key);
        gcp.key_where = "GOOGLE_APPLICATION_CREDENTIALS " + adc->second;
        gcp.source = CredentialSource::application_default;
    }

    auto project = text_field(extras, "project", id);
    if (!project) return project.error();
    gcp.project = !project->empty() ? *project : (gcp.key ? gcp.key->project_id : "");
    auto scope = text_field(extras, "scope", id);
    if (!scope) return scope.error();
    if (!scope->empty()) {
        gcp.scopes.clear();
        std::size_t start = 0;
        while (start <= scope->size()) {
            const std::size_t comma = scope->find(',', start);
            std::string item = scope->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            item.erase(0, item.find_first_not_of(" \t"));
            item.erase(item.find_last_not_of(" \t") + 1);
            if (!item.empty()) gcp.scopes.push_back(item);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    if (const pyjson::Json* retries = extra_field(extras, "num_retries")) {
        int value = -1;
        if (retries->is_number_integer()) value = retries->get<int>();
        else if (retries->is_string()) {
            const std::string& text = retries->get_ref<const std::string&>();
            auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (error != std::errc() || end != text.data() + text.size()) value = -1;
        }
        if (value < 0 || value > 20) {
            return make_error("connection '{}': num_retries must be a whole number from 0 to 20", id);
        }
        gcp.num_retries = value;
    }

    auto setting = [&](const char* extra, const char* variable) -> std::optional<std::string> {
        if (auto value = text_field(extras, extra, id); value && !value->empty()) return without_trailing_slash(*value);
        if (variable) {
            if (auto found = environment.find(variable); found != environment.end() && !found->second.empty()) {
                return emulator_base_url(found->second);
            }
        }
        return std::nullopt;
    };
    if (auto bigquery = setting("bigquery_endpoint", "BIGQUERY_EMULATOR_HOST")) gcp.endpoints.bigquery = *bigquery;
    if (auto storage = setting("storage_endpoint", "STORAGE_EMULATOR_HOST")) gcp.endpoints.storage = *storage;
    if (auto metadata = setting("metadata_host", "GCE_METADATA_HOST")) gcp.endpoints.metadata = *metadata;
    if (auto token_uri = setting("token_uri", nullptr)) gcp.endpoints.token_uri = *token_uri;
    return gcp;
}

}  // namespace mayaflow::gcp
