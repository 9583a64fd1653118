#include "engine/connections/pyyaml_reader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <regex>

#include <limits>

namespace mayaflow::pyyaml {
namespace {

bool matches(const std::string& text, const char* pattern) {
    return std::regex_match(text, std::regex(pattern));
}

// YAML 1.1 int: 0b…, 0x…, 0… (octal), decimal, with '_' separators (sexagesimal is left as text).
std::optional<pyjson::Json> as_int(std::string text) {
    if (!matches(text, "[-+]?(?:0b[0-1_]+|0[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+)")) return std::nullopt;
    text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
    bool negative = text[0] == '-';
    if (text[0] == '-' || text[0] == '+') text.erase(0, 1);
    int base = 10;
    if (text.starts_with("0b"))
        base = 2, text.erase(0, 2);
    else if (text.starts_with("0x"))
        base = 16, text.erase(0, 2);
    else if (text.size() > 1 && text[0] == '0')
        base = 8, text.erase(0, 1);
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return pyjson::Json(negative ? -value : value);
}

std::optional<pyjson::Json> as_float(std::string text) {
    if (matches(text, "[-+]?\\.(?:inf|Inf|INF)")) {
        return pyjson::Json(text[0] == '-' ? -std::numeric_limits<double>::infinity()
                                           : std::numeric_limits<double>::infinity());
    }
    if (matches(text, "\\.(?:nan|NaN|NAN)")) return pyjson::Json(std::numeric_limits<double>::quiet_NaN());
    if (!matches(text,
                 "[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?")) {
        return std::nullopt;
    }
    text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
    try {
        return pyjson::Json(std::stod(text));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

pyjson::Json plain_scalar(const std::string& text) {
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
    if (matches(text, "yes|Yes|YES|true|True|TRUE|on|On|ON")) return true;
    if (matches(text, "no|No|NO|false|False|FALSE|off|Off|OFF")) return false;
    if (auto number = as_int(text)) return *number;
    if (auto number = as_float(text)) return *number;
    return text;  // timestamps and sexagesimal numbers stay text: connection fields are text
}

pyjson::Json to_json(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Null:
            return nullptr;
        case YAML::NodeType::Scalar:
            if (node.Tag() == "?") return plain_scalar(node.Scalar());
            return node.Scalar();
        case YAML::NodeType::Sequence: {
            pyjson::Json array = pyjson::Json::array();
            for (const auto& item : node) array.push_back(to_json(item));
            return array;
        }
        case YAML::NodeType::Map: {
            pyjson::Json object = pyjson::Json::object();
            for (const auto& item : node) {
                auto key = to_json(item.first);
                object[key.is_string() ? key.get<std::string>() : pyjson::dumps(key)] = to_json(item.second);
            }
            return object;
        }
        default:
            return nullptr;
    }
}

}  // namespace

Result<pyjson::Json> safe_load(std::string_view text) {
    try {
        return to_json(YAML::Load(std::string(text)));
    } catch (const YAML::Exception& e) {
        return make_error("line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg);
    }
}

}  // namespace mayaflow::pyyaml
