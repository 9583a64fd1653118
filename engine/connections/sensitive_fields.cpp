#include "engine/connections/sensitive_fields.h"

#include <string>

#include "engine/connections/python_url.h"

namespace mayaflow {
namespace {

constexpr int kMaxDepth = 5;

std::string_view trim(std::string_view text) {
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    auto first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// _redact_all: every string under a sensitive key becomes "***".
pyjson::Json redact_all(const pyjson::Json& value, int depth) {
    if (depth > kMaxDepth || value.is_string()) return "***";
    if (value.is_object()) {
        pyjson::Json out = pyjson::Json::object();
        for (auto it = value.begin(); it != value.end(); ++it)
            out[it.key()] = redact_all(it.value(), depth + 1);
        return out;
    }
    if (value.is_array()) {
        pyjson::Json out = pyjson::Json::array();
        for (const auto& item : value) out.push_back(redact_all(item, depth + 1));
        return out;
    }
    return value;
}

pyjson::Json redact(const pyjson::Json& value, std::string_view name, int depth) {
    if (depth > kMaxDepth) return value;
    if (!name.empty() && is_sensitive_name(name)) return redact_all(value, depth);
    if (value.is_object()) {
        pyjson::Json out = pyjson::Json::object();
        for (auto it = value.begin(); it != value.end(); ++it)
            out[it.key()] = redact(it.value(), it.key(), depth + 1);
        return out;
    }
    if (value.is_array()) {
        pyjson::Json out = pyjson::Json::array();
        for (const auto& item : value) out.push_back(redact(item, {}, depth + 1));
        return out;
    }
    return value;
}

}  // namespace

bool is_sensitive_name(std::string_view name) {
    std::string lowered = pyurl::python_lower(trim(name));
    for (auto word : kSensitiveFieldWords) {
        if (lowered.find(word) != std::string::npos) return true;
    }
    return false;
}

pyjson::Json redact_sensitive_fields(const pyjson::Json& value) {
    return redact(value, {}, 0);
}

}  // namespace mayaflow
