#include "scheduler/command_payload.h"

namespace mayaflow {

Result<std::string> required_string(const nlohmann::json& payload, const char* name) {
    if (!payload.contains(name) || !payload[name].is_string() || payload[name].get<std::string>().empty()) {
        return make_error("'{}' is required and must be a string", name);
    }
    return payload[name].get<std::string>();
}

}  // namespace mayaflow
