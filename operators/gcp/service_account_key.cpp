#include "operators/gcp/service_account_key.h"
#include "engine/connections/python_json.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace mayaflow::gcp {

Result<ServiceAccountKey> parse_service_account_key(std::string_view json, std::string_view where) {
    auto parsed = pyjson::parse_or_discarded(json);
    if (parsed.is_discarded() || !parsed.is_object()) {
        return make_error("{} is not a JSON object; expected a service-account key file", where);
    }
    const std::string type = parsed.value("type", "");
    if (type != "service_account") {
        return make_error(
            "{} is not a service-account key (its \"type\" is \"{}\"); create one with `gcloud iam "
            "service-accounts keys create`, or leave the connection without a key to use the metadata server",
            where, type);
    }
    ServiceAccountKey key;
    for (const auto& [field, target] : {std::pair<const char*, std::string*>{"client_email", &key.client_email},
                                        {"private_key", &key.private_key}}) {
        auto found = parsed.find(field);
        if (found == parsed.end() || !found->is_string() || found->get<std::string>().empty()) {
            return make_error("{} has no \"{}\"", where, field);
        }
        *target = found->get<std::string>();
    }
    if (auto id = parsed.find("private_key_id"); id != parsed.end() && id->is_string()) key.private_key_id = *id;
    if (auto project = parsed.find("project_id"); project != parsed.end() && project->is_string()) {
        key.project_id = *project;
    }
    if (auto uri = parsed.find("token_uri"); uri != parsed.end() && uri->is_string() && !uri->get<std::string>().empty()) {
        key.token_uri = *uri;
    }
    return key;
}

Result<ServiceAccountKey> read_service_account_key_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("cannot read the key file {}: it does not exist or is not readable", path);
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > (1 << 20)) return make_error("the key file {} is larger than 1 MiB: not a key file", path);
    return parse_service_account_key(text.str(), "key file " + path);
}

}  // namespace mayaflow::gcp
