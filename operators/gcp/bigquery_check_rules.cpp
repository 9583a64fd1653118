#include "operators/gcp/bigquery_check_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "engine/util/text.h"

namespace mayaflow::gcp {
namespace {

constexpr size_t kShownValues = 10;

std::string_view trimmed(std::string_view text) {
    const size_t first = text.find_first_not_of(" \t\r\n\f\v");
    if (first == std::string_view::npos) return {};
    const size_t last = text.find_last_not_of(" \t\r\n\f\v");
    return text.substr(first, last - first + 1);
}

// 10, 1.5, 1e+20: whole numbers without a ".0".
std::string show_number(double number) {
    if (std::trunc(number) == number && std::fabs(number) < 1e15) return fmt::format("{}", static_cast<long long>(number));
    return nlohmann::json(number).dump();
}

}  // namespace

bool is_falsy(const nlohmann::json& value, std::string_view bigquery_type) {
    if (value.is_null()) return true;
    if (value.is_boolean()) return !value.get<bool>();
    if (value.is_number()) return value.get<double>() == 0.0;
    if (value.is_array() || value.is_object()) return value.empty();
    const std::string& text = value.get_ref<const std::string&>();
    if (text.empty()) return true;
    if (bigquery_type == "NUMERIC" || bigquery_type == "BIGNUMERIC" || bigquery_type == "DECIMAL" ||
        bigquery_type == "BIGDECIMAL") {
        const auto number = python_float(value);
        return number && *number == 0.0;
    }
    return false;
}

std::optional<double> python_float(const nlohmann::json& value) {
    if (value.is_boolean()) return value.get<bool>() ? 1.0 : 0.0;
    if (value.is_number()) return value.get<double>();
    if (!value.is_string()) return std::nullopt;
    std::string text(trimmed(value.get_ref<const std::string&>()));
    // strtod also reads hexadecimal ("0x1p3"), which float() refuses.
    if (text.empty() || text.find_first_of("xX") != std::string::npos) return std::nullopt;
    char* end = nullptr;
    const double number = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size()) return std::nullopt;
    return number;
}

std::string python_str(const nlohmann::json& value) {
    if (value.is_null()) return "None";
    if (value.is_boolean()) return value.get<bool>() ? "True" : "False";
    if (value.is_string()) return value.get<std::string>();
    return value.dump();
}

std::string show_value(const nlohmann::json& value) {
    if (value.is_null()) return "NULL";
    if (value.is_string()) return quote_for_message(value.get_ref<const std::string&>());
    return shorten_message(value.dump(), 60);
}

std::string show_first_ten(const std::vector<std::string>& values, long long total) {
    std::vector<std::string> shown(values.begin(), values.begin() + std::min(values.size(), kShownValues));
    std::string text = join(shown);
    if (total > static_cast<long long>(shown.size())) {
        text += fmt::format(" (and {} more)", total - static_cast<long long>(shown.size()));
    }
    return text;
}

Result<ValueCheck> ValueCheck::read(const nlohmann::json& pass_value, const nlohmann::json& tolerance) {
    if (pass_value.is_null() || pass_value.is_array() || pass_value.is_object()) {
        return make_error("pass_value must be a number, text or true/false");
    }
    ValueCheck check;
    check.pass_value = python_str(pass_value);
    // Airflow: pass_value is str()'d, then float()'d where possible; True becomes "True", never 1.0.
    check.pass_number = python_float(nlohmann::json(check.pass_value));
    if (!tolerance.is_null()) {
        if (!tolerance.is_number() || tolerance.get<double>() < 0) {
            return make_error("tolerance must be a fraction of pass_value (0.1 for ±10%), got {}", tolerance.dump());
        }
        check.tolerance = tolerance.get<double>();
    }
    return check;
}

Result<bool> ValueCheck::matches(const nlohmann::json& value) const {
    if (!pass_number) return python_str(value) == pass_value;
    const auto number = python_float(value);
    if (!number) return make_error("the value {} is not a number, so it cannot be compared with {}", show_value(value), describe());
    if (tolerance) return *pass_number * (1 - *tolerance) <= *number && *number <= *pass_number * (1 + *tolerance);
    return *number == *pass_number;
}

std::string ValueCheck::describe() const {
    std::string text = "pass_value " + (pass_number ? pass_value : quote_for_message(pass_value));
    if (tolerance) text += fmt::format(" (tolerance ±{}%)", show_number(*tolerance * 100));
    return text;
}

Result<CheckBounds> CheckBounds::read(const nlohmann::json& spec, std::string_view where) {
    if (!spec.is_object()) return make_error("{} must be a mapping such as {{equal_to: 0}}", where);
    CheckBounds bounds;
    const std::vector<std::pair<std::string, std::optional<double> CheckBounds::*>> keys = {
        {"equal_to", &CheckBounds::equal_to}, {"greater_than", &CheckBounds::greater_than},
        {"geq_to", &CheckBounds::geq_to},     {"less_than", &CheckBounds::less_than},
        {"leq_to", &CheckBounds::leq_to},     {"tolerance", &CheckBounds::tolerance}};
    std::vector<std::string> names;
    for (const auto& [name, _] : keys) names.push_back(name);
    for (const auto& [key, value] : spec.items()) {
        auto known =
            std::find_if(keys.begin(), keys.end(), [&key = key](const auto& entry) { return entry.first == key; });
        if (known == keys.end()) {
            return make_error("{}: unknown key {}{}; a check takes {}", where, quote_name(key), did_you_mean(key, names),
                              join(names));
        }
        if (!value.is_number()) return make_error("{}.{} must be a number, got {}", where, key, value.dump());
        bounds.*(known->second) = value.get<double>();
    }
    if (!bounds.equal_to && !bounds.greater_than && !bounds.geq_to && !bounds.less_than && !bounds.leq_to) {
        return make_error("{} needs one or more of equal_to, greater_than, geq_to, less_than, leq_to", where);
    }
    if (bounds.greater_than && bounds.less_than && *bounds.greater_than >= *bounds.less_than) {
        return make_error("{}: greater_than must be less than less_than", where);
    }
    if (bounds.geq_to && bounds.leq_to && *bounds.geq_to > *bounds.leq_to) {
        return make_error("{}: geq_to must not be more than leq_to", where);
    }
    return bounds;
}

bool CheckBounds::matches(const nlohmann::json& measured) const {
    const double record = measured.is_null() ? 0.0 : python_float(measured).value_or(std::nan(""));
    const double low = 1 - tolerance.value_or(0);
    const double high = 1 + tolerance.value_or(0);
    bool match = true;
    if (geq_to) match = record >= *geq_to * low;
    else if (greater_than) match = record > *greater_than * low;
    if (leq_to) match = match && record <= *leq_to * high;
    else if (less_than) match = match && record < *less_than * high;
    if (equal_to) {
        match = match && (tolerance ? *equal_to * low <= record && record <= *equal_to * high : record == *equal_to);
    }
    return match;
}

std::string CheckBounds::describe() const {
    std::vector<std::string> parts;
    for (const auto& [name, bound] : {std::pair{"equal_to", equal_to}, std::pair{"greater_than", greater_than},
                                      std::pair{"geq_to", geq_to}, std::pair{"less_than", less_than},
                                      std::pair{"leq_to", leq_to}, std::pair{"tolerance", tolerance}}) {
        if (bound) parts.push_back(fmt::format("{} {}", name, show_number(*bound)));
    }
    return join(parts);
}

}  // namespace mayaflow::gcp
