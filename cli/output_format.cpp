#include "cli/output_format.h"

#include <algorithm>
#include <cctype>
#include <iostream>
#include <map>

#include "engine/connections/pyyaml_writer.h"
#include "engine/util/utf8.h"

namespace mayaflow::cli {
namespace {

// Strings (and keys) with their bytes that are not UTF-8 written as \xNN: JSON and YAML hold only
// UTF-8, and a terminal should not be handed half a character.
pyjson::Json as_utf8(const pyjson::Json& value) {
    if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        return is_valid_utf8(text) ? value : pyjson::Json(escape_invalid_utf8(text));
    }
    if (value.is_array()) {
        pyjson::Json copy = pyjson::Json::array();
        for (const auto& item : value) copy.push_back(as_utf8(item));
        return copy;
    }
    if (value.is_object()) {
        pyjson::Json copy = pyjson::Json::object();
        for (auto it = value.begin(); it != value.end(); ++it) copy[escape_invalid_utf8(it.key())] = as_utf8(it.value());
        return copy;
    }
    return value;
}

// A cell on one line: the characters that would break a row or a tab-separated line, escaped.
std::string one_line(std::string_view text) {
    std::string line;
    line.reserve(text.size());
    for (char c : text) {
        if (c == '\t') line += "\\t";
        else if (c == '\n') line += "\\n";
        else if (c == '\r') line += "\\r";
        else line += c;
    }
    return line;
}

pyjson::Json records_array(const Listing& listing) {
    pyjson::Json array = pyjson::Json::array();
    for (const auto& row : listing.rows) {
        pyjson::Json object = pyjson::Json::object();
        for (size_t i = 0; i < listing.columns.size(); ++i) {
            object[escape_invalid_utf8(listing.columns[i])] = i < row.size() ? as_utf8(row[i]) : pyjson::Json();
        }
        array.push_back(std::move(object));
    }
    return array;
}

std::string render_table(const Listing& listing) {
    if (listing.rows.empty()) return "No data found\n";
    std::vector<std::string> header;
    for (const auto& column : listing.columns) header.push_back(one_line(escape_invalid_utf8(column)));
    std::vector<std::vector<std::string>> cells;
    for (const auto& row : listing.rows) {
        std::vector<std::string> line;
        for (size_t i = 0; i < header.size(); ++i) line.push_back(i < row.size() ? cell_text(row[i]) : "");
        cells.push_back(std::move(line));
    }
    std::vector<size_t> widths(header.size());
    for (size_t i = 0; i < header.size(); ++i) widths[i] = display_width(header[i]);
    for (const auto& line : cells) {
        for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], display_width(line[i]));
    }
    std::string text;
    auto add_row = [&](const std::vector<std::string>& row) {
        std::string line;
        for (size_t i = 0; i < widths.size(); ++i) {
            if (i) line += " | ";
            line += row[i];
            // The last column is not padded: no trailing blanks.
            if (i + 1 < widths.size()) line += std::string(widths[i] - display_width(row[i]), ' ');
        }
        text += line + "\n";
    };
    add_row(header);
    std::string rule;
    for (size_t i = 0; i < widths.size(); ++i) rule += (i ? "=+=" : "") + std::string(widths[i], '=');
    text += rule + "\n";
    for (const auto& line : cells) add_row(line);
    return text;
}

std::string render_plain(const Listing& listing) {
    std::string text;
    for (const auto& row : listing.rows) {
        std::string line;
        for (size_t i = 0; i < listing.columns.size(); ++i) {
            if (i) line += '\t';
            if (i < row.size()) line += cell_text(row[i]);
        }
        text += line + "\n";
    }
    return text;
}

}  // namespace

std::optional<OutputFormat> parse_output_format(std::string_view text) {
    std::string lower;
    for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "table") return OutputFormat::table;
    if (lower == "json") return OutputFormat::json;
    if (lower == "yaml") return OutputFormat::yaml;
    if (lower == "plain") return OutputFormat::plain;
    return std::nullopt;
}

std::string cell_text(const pyjson::Json& value) {
    if (value.is_string()) return one_line(escape_invalid_utf8(value.get_ref<const std::string&>()));
    if (value.is_null()) return "None";
    if (value.is_boolean()) return value.get<bool>() ? "True" : "False";
    return one_line(pyjson::dumps(as_utf8(value), {.ensure_ascii = false}));
}

std::size_t display_width(std::string_view text) {
    std::size_t width = 0;
    for (char c : text) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
    }
    return width;
}

std::string render_listing(const Listing& listing, OutputFormat format) {
    switch (format) {
        case OutputFormat::json:
            if (listing.rows.empty()) return "[]\n";
            return pyjson::dumps(records_array(listing), {.indent = 2, .ensure_ascii = false}) + "\n";
        case OutputFormat::yaml:
            if (listing.rows.empty()) return "[]\n";
            return pyyaml::dump(records_array(listing));
        case OutputFormat::plain:
            return render_plain(listing);
        case OutputFormat::table:
            break;
    }
    return render_table(listing);
}

Listing listing_of_records(const std::vector<pyjson::Json>& records) {
    Listing listing;
    if (records.empty()) return listing;
    for (auto it = records.front().begin(); it != records.front().end(); ++it) listing.columns.push_back(it.key());
    for (const auto& record : records) {
        std::vector<pyjson::Json> row;
        for (const auto& column : listing.columns) row.push_back(record.contains(column) ? record[column] : pyjson::Json());
        listing.add(std::move(row));
    }
    return listing;
}

CLI::Option* add_output_option(CLI::App& command, OutputFormat& format) {
    static const std::map<std::string, OutputFormat> kNames = {{"table", OutputFormat::table},
                                                               {"json", OutputFormat::json},
                                                               {"yaml", OutputFormat::yaml},
                                                               {"plain", OutputFormat::plain}};
    return command.add_option("-o,--output", format, "Output format: table, json, yaml or plain")
        ->transform(CLI::CheckedTransformer(kNames, CLI::ignore_case))
        ->option_text("table|json|yaml|plain");
}

void print_listing(const Listing& listing, OutputFormat format) { std::cout << render_listing(listing, format) << std::flush; }

}  // namespace mayaflow::cli
