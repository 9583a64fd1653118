#include "operators/gcp/bigquery_rows.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace mayaflow::gcp {
namespace {

constexpr int kMaxRecordDepth = 15;  // BigQuery's own limit on nested RECORD columns

std::string type_of(const nlohmann::json& field) {
    std::string type = field.value("type", "STRING");
    for (auto& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return type;
}

Result<nlohmann::json> decode_record(const nlohmann::json& fields, const nlohmann::json& row, const std::string& where,
                                     int depth);

Result<nlohmann::json> decode_scalar(const nlohmann::json& field, const nlohmann::json& value, const std::string& where) {
    if (value.is_null()) return nlohmann::json(nullptr);
    if (!value.is_string()) return make_error("{}: expected a string cell, got {}", where, value.dump());
    const std::string text = value.get<std::string>();
    const std::string type = type_of(field);
    if (type == "INTEGER" || type == "INT64") {
        long long number = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (error != std::errc() || end != text.data() + text.size()) {
            return make_error("{}: {} is not an INTEGER", where, value.dump());
        }
        // Beyond 2^53 a JSON number loses digits in most readers: kept as text.
        // (Compared without std::llabs, which is undefined for INT64's smallest value.)
        if (number > (1LL << 53) || number < -(1LL << 53)) return nlohmann::json(text);
        return nlohmann::json(number);
    }
    if (type == "FLOAT" || type == "FLOAT64") {
        if (text == "NaN" || text == "Infinity" || text == "-Infinity") return nlohmann::json(text);
        char* end = nullptr;
        double number = std::strtod(text.c_str(), &end);
        if (end != text.c_str() + text.size() || text.empty()) return make_error("{}: {} is not a FLOAT", where, value.dump());
        return nlohmann::json(number);
    }
    if (type == "BOOLEAN" || type == "BOOL") {
        if (text == "true") return nlohmann::json(true);
        if (text == "false") return nlohmann::json(false);
        return make_error("{}: {} is not a BOOLEAN", where, value.dump());
    }
    return nlohmann::json(text);
}

Result<nlohmann::json> decode_cell(const nlohmann::json& field, const nlohmann::json& cell, const std::string& where,
                                   int depth) {
    if (!cell.is_object() || !cell.contains("v")) return make_error("{}: a cell without 'v'", where);
    const nlohmann::json& value = cell["v"];
    const bool repeated = field.value("mode", "NULLABLE") == "REPEATED";
    const std::string type = type_of(field);
    const bool record = type == "RECORD" || type == "STRUCT";
    auto one = [&](const nlohmann::json& item, const std::string& at) -> Result<nlohmann::json> {
        if (!record) return decode_scalar(field, item, at);
        if (item.is_null()) return nlohmann::json(nullptr);
        return decode_record(field.value("fields", nlohmann::json::array()), item, at, depth + 1);
    };
    if (!repeated) return one(value, where);
    if (value.is_null()) return nlohmann::json::array();
    if (!value.is_array()) return make_error("{}: a REPEATED cell that is not a list", where);
    nlohmann::json items = nlohmann::json::array();
    for (size_t i = 0; i < value.size(); ++i) {
        const auto& item = value[i];
        if (!item.is_object() || !item.contains("v")) return make_error("{}[{}]: an item without 'v'", where, i);
        auto decoded = one(item["v"], fmt::format("{}[{}]", where, i));
        if (!decoded) return decoded.error();
        items.push_back(std::move(*decoded));
    }
    return items;
}

Result<nlohmann::json> decode_record(const nlohmann::json& fields, const nlohmann::json& row, const std::string& where,
                                     int depth) {
    if (depth > kMaxRecordDepth) return make_error("{}: records nested deeper than {} levels", where, kMaxRecordDepth);
    if (!fields.is_array()) return make_error("{}: the schema's fields are not a list", where);
    if (!row.is_object() || !row.contains("f") || !row["f"].is_array()) return make_error("{}: a row without 'f'", where);
    const auto& cells = row["f"];
    if (cells.size() != fields.size()) {
        return make_error("{}: {} cells for {} columns", where, cells.size(), fields.size());
    }
    nlohmann::json object = nlohmann::json::object();
    for (size_t i = 0; i < fields.size(); ++i) {
        const std::string name = fields[i].is_object() ? fields[i].value("name", fmt::format("f{}", i)) : fmt::format("f{}", i);
        auto cell = decode_cell(fields[i], cells[i], where + "." + name, depth);
        if (!cell) return cell.error();
        object[name] = std::move(*cell);
    }
    return object;
}

}  // namespace

Result<nlohmann::json> decode_bigquery_rows(const nlohmann::json& schema, const nlohmann::json& rows) {
    nlohmann::json decoded = nlohmann::json::array();
    if (rows.is_null()) return decoded;  // BigQuery leaves out `rows` when there are none
    if (!rows.is_array()) return make_error("the result's rows are not a list");
    const nlohmann::json fields = schema.is_object() ? schema.value("fields", nlohmann::json()) : nlohmann::json();
    for (size_t i = 0; i < rows.size(); ++i) {
        auto row = decode_record(fields, rows[i], fmt::format("row {}", i + 1), 0);
        if (!row) return row.error();
        decoded.push_back(std::move(*row));
    }
    return decoded;
}

}  // namespace mayaflow::gcp
