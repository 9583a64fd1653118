#include "engine/connections/connection_files.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "engine/connections/connection_json.h"
#include "engine/connections/connection_uri.h"
#include "engine/connections/python_url.h"
#include "engine/connections/pyyaml_reader.h"
#include "engine/connections/pyyaml_writer.h"
#include "engine/util/text.h"

namespace mayaflow {
namespace {

std::string_view trim(std::string_view text) {
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    auto first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// Python's str.splitlines() for the line ends text files use.
std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' || text[i] == '\r') {
            lines.push_back(text.substr(start, i - start));
            if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            start = i + 1;
        }
    }
    if (start < text.size()) lines.push_back(text.substr(start));
    return lines;
}

// (conn_id, value, line) entries of a file; the env format gives each line, the others 0.
struct FileEntry {
    std::string conn_id;
    pyjson::Json value;
    std::size_t line = 0;
};

Result<std::vector<FileEntry>> env_entries(std::string_view text, std::vector<std::string>& problems) {
    std::vector<FileEntry> entries;
    std::set<std::string> seen;
    auto lines = split_lines(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto line = lines[i];
        if (line.empty() || trim(line).starts_with('#')) continue;
        auto equals = line.find('=');
        if (equals == std::string_view::npos) {
            problems.push_back(
                fmt::format("line {}: invalid line format; the line should contain at least one equal "
                            "sign (\"=\")",
                            i + 1));
            continue;
        }
        std::string conn_id(line.substr(0, equals));
        auto value = line.substr(equals + 1);
        if (value.empty()) {
            problems.push_back(
                fmt::format("line {}: invalid line format; the value of {} is empty", i + 1, conn_id));
            continue;
        }
        if (!seen.insert(conn_id).second) {
            problems.push_back(fmt::format("line {}: found multiple values for {}", i + 1, conn_id));
            continue;
        }
        entries.push_back({conn_id, std::string(value), i + 1});
    }
    return entries;
}

Result<std::vector<FileEntry>> document_entries(std::string_view text, ConnectionFileFormat format,
                                                std::vector<std::string>& problems) {
    if (text.empty()) return make_error("the file is empty");
    const bool json = format == ConnectionFileFormat::json;
    auto document = json ? pyjson::loads(text) : pyyaml::safe_load(text);
    if (!document) return document.error();
    if (!document->is_object()) return make_error("the file should contain an object (conn_id → connection)");
    // json.loads and yaml.safe_load keep the last of two entries with one conn_id; an import that
    // did so would drop the first without a word.
    auto places = json ? Result<std::vector<pyjson::KeyPlace>>(pyjson::top_level_keys(text))
                       : pyyaml::top_level_keys(text);
    if (!places) return places.error();
    std::map<std::string, std::size_t> first_line;
    for (const auto& place : *places) {
        auto [known, inserted] = first_line.emplace(place.key, place.line);
        if (!inserted) {
            problems.push_back(fmt::format("line {}: found multiple values for {} (the first on line {})",
                                           place.line, place.key, known->second));
        }
    }
    std::vector<FileEntry> entries;
    for (auto it = document->begin(); it != document->end(); ++it) {
        auto line = first_line.find(it.key());
        entries.push_back({it.key(), it.value(), line == first_line.end() ? 0 : line->second});
    }
    return entries;
}

}  // namespace

std::optional<ConnectionFileFormat> connection_file_format_named(std::string_view name) {
    std::string lowered = pyurl::python_lower(name);
    if (lowered == "json") return ConnectionFileFormat::json;
    if (lowered == "yaml" || lowered == "yml") return ConnectionFileFormat::yaml;
    if (lowered == "env") return ConnectionFileFormat::env;
    return std::nullopt;
}

std::optional<ConnectionFileFormat> connection_file_format_of(const std::filesystem::path& file) {
    auto extension = file.extension().string();
    if (extension.empty()) return std::nullopt;
    return connection_file_format_named(std::string_view(extension).substr(1));
}

std::string format_connections(const std::vector<Connection>& connections, ConnectionFileFormat format,
                               ConnectionSerialization serialization) {
    if (format == ConnectionFileFormat::env) {
        std::string text;
        for (const auto& connection : connections) {
            text += connection.conn_id + "=";
            text += serialization == ConnectionSerialization::uri
                        ? connection_to_uri(connection)
                        : pyjson::dumps(connection_to_export_object(connection));
            text += "\n";
        }
        return text;
    }
    pyjson::Json all = pyjson::Json::object();
    for (const auto& connection : connections)
        all[connection.conn_id] = connection_to_export_object(connection);
    if (format == ConnectionFileFormat::yaml) return pyyaml::dump(all);
    return pyjson::dumps(all, {.indent = 2});
}

Result<std::string> export_connections_text(const std::vector<Connection>& connections, ConnectionFileFormat format,
                                            ConnectionSerialization serialization) {
    for (const auto& connection : connections) {
        if (Status text = validate_connection_text(connection); !text) {
            return make_error("nothing was exported: {}; add it again with `mayaflow connections add`",
                              text.error().message);
        }
    }
    return format_connections(connections, format, serialization);
}

Result<Connection> connection_from_env_value(std::string conn_id, std::string_view value) {
    auto trimmed = trim(value);
    if (trimmed.starts_with('{')) return connection_from_json(std::move(conn_id), trimmed);
    return connection_from_uri(std::move(conn_id), trimmed);
}

Result<std::vector<Connection>> parse_connections_file(std::string_view text, ConnectionFileFormat format,
                                                       const std::string& file_name) {
    std::vector<std::string> problems;
    Result<std::vector<FileEntry>> entries = format == ConnectionFileFormat::env
                                                 ? env_entries(text, problems)
                                                 : document_entries(text, format, problems);
    if (!entries) return make_error("{}: {}", file_name, entries.error().message);
    std::vector<Connection> connections;
    for (auto& entry : *entries) {
        auto where = entry.line ? fmt::format("line {}: ", entry.line) : std::string();
        if (auto valid = validate_conn_id(entry.conn_id); !valid) {
            problems.push_back(
                fmt::format("{}could not import connection: {}", where, valid.error().message));
            continue;
        }
        auto connection = format == ConnectionFileFormat::env
                              ? connection_from_env_value(entry.conn_id, entry.value.get<std::string>())
                              : connection_from_file_value(entry.conn_id, entry.value);
        if (!connection) {
            problems.push_back(
                fmt::format("{}connection {}: {}", where, entry.conn_id, connection.error().message));
            continue;
        }
        if (Status storable = validate_connection_for_storage(*connection); !storable) {
            problems.push_back(where + storable.error().message);
            continue;
        }
        connections.push_back(std::move(*connection));
    }
    if (!problems.empty()) {
        return make_error("{} was not imported (nothing was):\n  {}", file_name, join(problems, "\n  "));
    }
    return connections;
}

}  // namespace mayaflow
