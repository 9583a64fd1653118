#include "operators/gcp/discovery_schema.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/util/text.h"

namespace mayaflow::gcp {
namespace {

bool is_template_text(const nlohmann::json& value) {
    if (!value.is_string()) return false;
    const auto& text = value.get_ref<const std::string&>();
    return text.find("{{") != std::string::npos || text.find("{%") != std::string::npos;
}

std::string shown(const nlohmann::json& value) {
    if (value.is_string()) return quote_for_message(value.get_ref<const std::string&>());
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).substr(0, 60);
}

// Whether `value` is a whole number in [low, high], given as a JSON number or as decimal text (as
// proto3 JSON reads int64 and uint64).
bool whole_number_in(const nlohmann::json& value, long double low, long double high) {
    long double number = 0;
    if (value.is_number_integer()) {
        number = value.is_number_unsigned() ? static_cast<long double>(value.get<unsigned long long>())
                                            : static_cast<long double>(value.get<long long>());
    } else if (value.is_number_float()) {
        const double d = value.get<double>();
        if (!std::isfinite(d) || std::floor(d) != d) return false;
        number = d;
    } else if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        const bool negative = !text.empty() && text[0] == '-';
        const std::string_view digits = std::string_view(text).substr(negative ? 1 : 0);
        if (digits.empty() || digits.size() > 20 || digits.find_first_not_of("0123456789") != std::string_view::npos) {
            return false;
        }
        unsigned long long magnitude = 0;
        if (std::from_chars(digits.data(), digits.data() + digits.size(), magnitude).ec != std::errc()) return false;
        number = negative ? -static_cast<long double>(magnitude) : static_cast<long double>(magnitude);
    } else {
        return false;
    }
    return number >= low && number <= high;
}

class Checker {
  public:
    explicit Checker(const nlohmann::json& schemas) : schemas_(schemas) {}

    std::optional<ParamProblem> object(const std::string& schema_name, const nlohmann::json& value) {
        const nlohmann::json* schema = find_schema(schema_name);
        if (!schema) return problem(fmt::format("the discovery document has no schema {}", schema_name));
        if (!value.is_object()) {
            return problem(fmt::format("must be a mapping (BigQuery's {}), got {}", schema_name, shown(value)));
        }
        return members(*schema, schema_name, value);
    }

  private:
    const nlohmann::json* find_schema(const std::string& name) const {
        auto it = schemas_.find(name);
        return it == schemas_.end() || !it->is_object() ? nullptr : &*it;
    }

    std::optional<ParamProblem> problem(std::string message) const {
        return ParamProblem{.path = path_, .message = std::move(message)};
    }

    std::optional<ParamProblem> members(const nlohmann::json& schema, const std::string& schema_name,
                                        const nlohmann::json& value) {
        static const nlohmann::json no_properties = nlohmann::json::object();
        const nlohmann::json& properties = schema.contains("properties") ? schema["properties"] : no_properties;
        for (const auto& [key, member] : value.items()) {
            path_.emplace_back(key);
            auto property = properties.find(key);
            if (property == properties.end()) {
                std::vector<std::string> names;
                for (const auto& [name, ignored] : properties.items()) names.push_back(name);
                return problem(fmt::format(
                    "unknown field {}{}: BigQuery's {} has no such field, and Google refuses the request (see "
                    "https://cloud.google.com/bigquery/docs/reference/rest/v2/Job)",
                    quote_name(key), did_you_mean(key, names), schema_name));
            }
            if (auto found = field(*property, schema_name + "." + key, member)) return found;
            path_.pop_back();
        }
        return std::nullopt;
    }

    std::optional<ParamProblem> field(const nlohmann::json& property, const std::string& name,
                                      const nlohmann::json& value) {
        if (value.is_null()) return std::nullopt;  // proto3 JSON: null is the field's default
        if (property.contains("$ref")) {
            const std::string ref = property["$ref"].get<std::string>();
            if (!value.is_object()) {
                return problem(fmt::format("must be a mapping (BigQuery's {}), got {}", ref, shown(value)));
            }
            const nlohmann::json* schema = find_schema(ref);
            if (!schema) return problem(fmt::format("the discovery document has no schema {}", ref));
            return members(*schema, ref, value);
        }
        const std::string type = property.value("type", "");
        const std::string format = property.value("format", "");
        if (type == "any") return std::nullopt;
        if (type == "array") {
            if (!value.is_array()) return problem(fmt::format("must be a list ({}), got {}", name, shown(value)));
            const nlohmann::json items = property.value("items", nlohmann::json::object());
            for (std::size_t i = 0; i < value.size(); ++i) {
                path_.emplace_back(i);
                if (value[i].is_null()) return problem("a list item may not be null");
                if (auto found = field(items, name, value[i])) return found;
                path_.pop_back();
            }
            return std::nullopt;
        }
        if (type == "object") {
            if (!value.is_object()) return problem(fmt::format("must be a mapping ({}), got {}", name, shown(value)));
            if (property.contains("additionalProperties")) {
                for (const auto& [key, member] : value.items()) {
                    path_.emplace_back(key);
                    if (auto found = field(property["additionalProperties"], name, member)) return found;
                    path_.pop_back();
                }
                return std::nullopt;
            }
            return members(property, name, value);
        }
        if (is_template_text(value)) return std::nullopt;
        if (type == "boolean") {
            if (!value.is_boolean()) return problem(fmt::format("must be true or false ({}), got {}", name, shown(value)));
        } else if (type == "integer" || format == "int64" || format == "uint64") {
            long double low = std::numeric_limits<int>::min(), high = std::numeric_limits<int>::max();
            if (format == "uint32") low = 0, high = std::numeric_limits<unsigned>::max();
            if (format == "int64") {
                low = static_cast<long double>(std::numeric_limits<long long>::min());
                high = static_cast<long double>(std::numeric_limits<long long>::max());
            }
            if (format == "uint64") low = 0, high = static_cast<long double>(std::numeric_limits<unsigned long long>::max());
            if (value.is_boolean() || !whole_number_in(value, low, high)) {
                return problem(fmt::format("must be a whole number ({} is {}), got {}", name,
                                           format.empty() ? "int32" : format, shown(value)));
            }
        } else if (type == "number") {
            const bool special = value.is_string() && (value == "NaN" || value == "Infinity" || value == "-Infinity");
            if (!value.is_number() && !special) {
                return problem(fmt::format("must be a number ({}), got {}", name, shown(value)));
            }
        } else if (type == "string") {
            if (!value.is_string()) return problem(fmt::format("must be text ({}), got {}", name, shown(value)));
            if (property.contains("enum") && property["enum"].is_array()) {
                std::vector<std::string> allowed;
                for (const auto& item : property["enum"]) {
                    if (item.is_string()) allowed.push_back(item.get<std::string>());
                }
                const auto& text = value.get_ref<const std::string&>();
                if (std::find(allowed.begin(), allowed.end(), text) == allowed.end()) {
                    return problem(fmt::format("must be one of {} ({}), got {}{}", join(allowed), name,
                                               quote_name(text), did_you_mean(text, allowed)));
                }
            }
        }
        return std::nullopt;
    }

    const nlohmann::json& schemas_;
    std::vector<nlohmann::json> path_;
};

}  // namespace

Result<DiscoverySchemas> DiscoverySchemas::read(std::string_view document) {
    auto parsed = nlohmann::json::parse(document, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("schemas") || !parsed["schemas"].is_object()) {
        return make_error("not a discovery document: no \"schemas\" object");
    }
    DiscoverySchemas schemas;
    schemas.schemas_ = std::move(parsed["schemas"]);
    return schemas;
}

std::optional<ParamProblem> DiscoverySchemas::check(std::string_view schema, const nlohmann::json& value) const {
    return Checker(schemas_).object(std::string(schema), value);
}

}  // namespace mayaflow::gcp
