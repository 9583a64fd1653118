#include "operators/firebase/firebase_export_data.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <map>

#include "engine/connections/python_json.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow::firebase {
namespace {

std::string upper_type(const nlohmann::json& field) {
    std::string type = field.is_object() ? field.value("type", "STRING") : "STRING";
    for (auto& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return type;
}

// Howard Hinnant's civil_from_days: the proleptic Gregorian date of a day count since 1970-01-01.
void civil_from_days(long long days, long long& year, unsigned& month, unsigned& day) {
    days += 719468;
    const long long era = (days >= 0 ? days : days - 146096) / 146097;
    const auto doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    day = doy - (153 * mp + 2) / 5 + 1;
    month = mp < 10 ? mp + 3 : mp - 9;
    year = static_cast<long long>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
}

Result<nlohmann::json> convert_scalar(const std::string& type, nlohmann::json value, const ValueOptions& options,
                                      const std::string& where) {
    if (value.is_null()) return value;
    if (type == "TIMESTAMP" && value.is_string()) {
        const std::string& text = value.get_ref<const std::string&>();
        long long micros = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), micros);
        if (error != std::errc() || end != text.data() + text.size()) {
            return make_error("{}: {} is not a TIMESTAMP in microseconds", where, value.dump());
        }
        return nlohmann::json(iso_timestamp_from_micros(micros));
    }
    if ((type == "FLOAT" || type == "FLOAT64") && value.is_string()) {
        switch (options.non_finite) {
            case ValueOptions::NonFinite::string: return value;
            case ValueOptions::NonFinite::drop: return nlohmann::json(nullptr);
            case ValueOptions::NonFinite::fail:
                return make_error("{} is {}, which JSON has no number for (non_finite_floats: string or drop "
                                  "writes it)",
                                  where, value.get<std::string>());
        }
    }
    if ((type == "NUMERIC" || type == "BIGNUMERIC" || type == "DECIMAL" || type == "BIGDECIMAL") &&
        value.is_string() && options.numeric_as_number) {
        const std::string& text = value.get_ref<const std::string&>();
        char* end = nullptr;
        const double number = std::strtod(text.c_str(), &end);
        if (end != text.c_str() + text.size() || !std::isfinite(number)) {
            return make_error("{}: {} is not a number", where, value.dump());
        }
        return nlohmann::json(number);
    }
    if (type == "JSON" && value.is_string()) {
        auto parsed = pyjson::parse_or_discarded(value.get<std::string>());
        if (!parsed.is_discarded()) return parsed;
    }
    return value;
}

Result<nlohmann::json> convert_field(const nlohmann::json& field, nlohmann::json value, const ValueOptions& options,
                                     const std::string& where);

Result<nlohmann::json> convert_record(const nlohmann::json& fields, nlohmann::json record,
                                      const ValueOptions& options, const std::string& where) {
    if (!record.is_object() || !fields.is_array()) return record;
    for (const auto& field : fields) {
        if (!field.is_object() || !field.contains("name") || !field["name"].is_string()) continue;
        const std::string name = field["name"].get<std::string>();
        auto found = record.find(name);
        if (found == record.end()) continue;
        auto converted = convert_field(field, std::move(*found), options, where + "." + name);
        if (!converted) return converted.error();
        *found = std::move(*converted);
    }
    return record;
}

Result<nlohmann::json> convert_field(const nlohmann::json& field, nlohmann::json value, const ValueOptions& options,
                                     const std::string& where) {
    const std::string type = upper_type(field);
    const bool record = type == "RECORD" || type == "STRUCT";
    auto one = [&](nlohmann::json item, const std::string& at) -> Result<nlohmann::json> {
        if (record) return convert_record(field.value("fields", nlohmann::json::array()), std::move(item), options, at);
        return convert_scalar(type, std::move(item), options, at);
    };
    if (field.value("mode", "NULLABLE") == "REPEATED" && value.is_array()) {
        for (std::size_t i = 0; i < value.size(); ++i) {
            auto item = one(std::move(value[i]), fmt::format("{}[{}]", where, i));
            if (!item) return item.error();
            value[i] = std::move(*item);
        }
        return value;
    }
    return one(std::move(value), where);
}

// Deeper than this, a value is refused before Firebase's depth is even counted: it bounds the
// recursion below, whatever nesting of NULLs a result holds.
constexpr int kMaxNesting = 1000;

// Whether a cleaned container at `depth` puts its members deeper than Firebase's 32 levels. Checked
// after cleaning, so NULLs and empty containers, which Firebase drops, do not count.
Status too_deep(const nlohmann::json& value, int depth, const std::string& where) {
    if (value.is_null() || depth + 1 <= kMaxDepth) return Status::success();
    return make_error("{} nests deeper than Firebase's {} levels (the path's keys included)", where, kMaxDepth);
}

// Firebase's view of a value, checked: keys inside it (per `mode`), depth, string sizes; NULLs and
// empty objects and lists become null (dropped by the caller). `depth`: the value's own depth.
Status clean_value(nlohmann::json& value, int depth, const std::string& where, InvalidKeys mode, ExportTree& out) {
    if (value.is_string()) {
        const auto bytes = value.get_ref<const std::string&>().size();
        if (bytes > kMaxStringBytes) {
            return make_error("{} is a string of {} bytes; Firebase takes at most {} (10 MB)", where, bytes,
                              kMaxStringBytes);
        }
        return Status::success();
    }
    if (value.is_number_float() && !std::isfinite(value.get<double>())) {
        return make_error("{} is not a finite number", where);
    }
    if ((value.is_array() || value.is_object()) && depth > kMaxNesting) {
        return make_error("{} nests more than {} levels deep", where, kMaxNesting);
    }
    if (value.is_array()) {
        bool any = false;
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (auto status = clean_value(value[i], depth + 1, fmt::format("{}[{}]", where, i), mode, out); !status) {
                return status;
            }
            any = any || !value[i].is_null();
        }
        if (!any) value = nullptr;
        return too_deep(value, depth, where);
    }
    if (!value.is_object()) return Status::success();
    nlohmann::json cleaned = nlohmann::json::object();
    std::map<std::string, std::string> originals;  // cleaned key → the key it came from
    for (auto& [key, member] : value.items()) {
        const std::string at = where + "." + escape_invalid_utf8(key);
        std::string final_key = key;
        if (auto problem = key_problem(key)) {
            if (mode == InvalidKeys::fail) {
                return make_error("{}: the key {} {}; Firebase refuses it (invalid_keys: sanitize or skip)", where,
                                  quote_name(escape_invalid_utf8(key)), *problem);
            }
            if (mode == InvalidKeys::skip) {
                out.notes.push_back(fmt::format("skipped {}: the key {}", at, *problem));
                continue;
            }
            auto sanitized = sanitize_key(key);
            if (!sanitized) return make_error("{}: an empty key cannot be sanitized", where);
            final_key = *sanitized;
            out.notes.push_back(fmt::format("sanitized key in {}: {} → {}", where, quote_name(escape_invalid_utf8(key), 800),
                                            quote_name(final_key, 800)));
        }
        if (auto [it, inserted] = originals.emplace(final_key, key); !inserted) {
            return make_error("{}: the keys {} and {} are both {} once sanitized", where,
                              quote_name(escape_invalid_utf8(it->second)), quote_name(escape_invalid_utf8(key)),
                              quote_name(final_key));
        }
        if (auto status = clean_value(member, depth + 1, at, mode, out); !status) return status;
        if (!member.is_null()) cleaned[final_key] = std::move(member);
    }
    value = cleaned.empty() ? nlohmann::json(nullptr) : std::move(cleaned);
    return too_deep(value, depth, where);
}

// The key a row's key column gives, or why it gives none.
Result<std::string> key_text(const nlohmann::json& value) {
    if (value.is_string()) return value.get<std::string>();
    if (value.is_number_integer()) return value.dump();
    if (value.is_null()) return make_error("is NULL");
    return make_error("is {}, not text or a whole number", value.dump());
}

}  // namespace

std::string iso_timestamp_from_micros(long long micros) {
    constexpr long long kPerDay = 86'400'000'000LL;
    long long days = micros / kPerDay;
    long long rest = micros % kPerDay;
    if (rest < 0) {
        rest += kPerDay;
        days -= 1;
    }
    long long year = 0;
    unsigned month = 0;
    unsigned day = 0;
    civil_from_days(days, year, month, day);
    const long long seconds = rest / 1'000'000;
    const long long fraction = rest % 1'000'000;
    std::string text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", year, month, day, seconds / 3600,
                                   seconds / 60 % 60, seconds % 60);
    if (fraction != 0) text += fmt::format(".{:06}", fraction);
    return text + "Z";
}

Result<nlohmann::json> convert_bigquery_row(const nlohmann::json& fields, const nlohmann::json& row,
                                            const ValueOptions& options, const std::string& where) {
    return convert_record(fields, row, options, where);
}

Result<ExportTree> build_export_tree(const nlohmann::json& rows, const ExportOptions& options) {
    ExportTree out;
    if (!rows.is_array()) return make_error("the rows are {}, not a list of rows", rows.type_name());
    if (options.path_depth + 1 > kMaxDepth) {
        return make_error("the path has {} keys: a row's key below it would be deeper than Firebase's {} levels",
                          options.path_depth, kMaxDepth);
    }
    struct Owner {
        long long row;
        std::string original;
    };
    std::map<std::string, Owner> owners;  // final key → the row that has it
    const std::string& column = options.key_column;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const long long number = static_cast<long long>(i) + 1;
        ++out.rows_read;
        const nlohmann::json& row = rows[i];
        if (!row.is_object()) return make_error("row {} is {}, not an object of columns", number, row.type_name());
        auto found = row.find(column);
        if (found == row.end()) {
            return make_error("row {} has no column {} (key_column); its columns: {}", number, quote_name(column),
                              row.empty() ? "none" : join(tree_keys(row), ", "));
        }
        auto key = key_text(*found);
        std::optional<std::string> problem;
        if (!key) problem = key.error().message;
        else problem = key_problem(*key);
        // What the row's key is, in messages: the key, or the column's value that gives none.
        const std::string shown = key ? fmt::format("the key {} ({})", quote_name(escape_invalid_utf8(*key), 800), column)
                                      : fmt::format("the key column {}", quote_name(column));
        std::string final_key = key ? *key : "";
        if (problem) {
            switch (options.invalid_keys) {
                case InvalidKeys::fail:
                    return make_error("row {}: {} {}; Firebase refuses it as a key (invalid_keys: sanitize or skip)",
                                      number, shown, *problem);
                case InvalidKeys::skip:
                    ++out.rows_skipped;
                    out.notes.push_back(fmt::format("skipped row {}: {} {}", number, shown, *problem));
                    continue;
                case InvalidKeys::sanitize: {
                    auto sanitized = key ? sanitize_key(*key) : std::nullopt;
                    if (!sanitized) {
                        return make_error("row {}: {} {}, which cannot be sanitized: filter such rows out, "
                                          "or use invalid_keys: skip",
                                          number, shown, *problem);
                    }
                    final_key = *sanitized;
                    ++out.keys_sanitized;
                    out.notes.push_back(fmt::format("sanitized key of row {}: {} → {}", number,
                                                    quote_name(escape_invalid_utf8(*key), 800),
                                                    quote_name(final_key, 800)));
                    break;
                }
            }
        }
        if (auto [it, inserted] = owners.emplace(final_key, Owner{number, key ? *key : ""}); !inserted) {
            if (it->second.original == (key ? *key : "")) {
                return make_error("rows {} and {} have the same key {} ({}); each key can be written once", it->second.row,
                                  number, quote_name(escape_invalid_utf8(*key), 800), column);
            }
            return make_error("rows {} and {} have the keys {} and {}, which are both {} once sanitized", it->second.row,
                              number, quote_name(escape_invalid_utf8(it->second.original), 800),
                              quote_name(escape_invalid_utf8(key ? *key : ""), 800), quote_name(final_key, 800));
        }
        nlohmann::json value = row;
        value.erase(column);
        const std::string where = fmt::format("row {} ({})", number, quote_name(escape_invalid_utf8(final_key)));
        if (auto status = clean_value(value, options.path_depth + 1, where, options.invalid_keys, out); !status) {
            return status.error();
        }
        if (value.is_null()) {
            ++out.rows_empty;
            out.notes.push_back(fmt::format("left out row {} (key {}): its other columns are all NULL or empty, and "
                                            "Firebase stores nothing for an empty object",
                                            number, quote_name(final_key, 800)));
            continue;
        }
        out.tree[final_key] = std::move(value);
    }
    return out;
}

std::vector<std::string> split_into_chunks(const nlohmann::json& tree, std::size_t max_rows, std::size_t max_bytes) {
    std::vector<std::string> chunks;
    std::string current;
    std::size_t members = 0;
    auto close = [&] {
        if (members == 0) return;
        chunks.push_back(current + "}");
        current.clear();
        members = 0;
    };
    for (const auto& [key, value] : tree.items()) {
        std::string member = dump_json(nlohmann::json(key)) + ":" + dump_json(value);
        if (members > 0 && (members >= max_rows || current.size() + 1 + member.size() + 1 > max_bytes)) close();
        current += members == 0 ? "{" : ",";
        current += member;
        ++members;
    }
    close();
    return chunks;
}

std::vector<std::string> tree_keys(const nlohmann::json& tree) {
    std::vector<std::string> keys;
    if (!tree.is_object()) return keys;
    for (const auto& [key, value] : tree.items()) keys.push_back(key);
    return keys;
}

}  // namespace mayaflow::firebase
