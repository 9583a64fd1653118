#include "operators/notebook/papermill_parameters.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <system_error>

#include "engine/connections/python_json.h"
#include "engine/util/utf8.h"

namespace mayaflow::notebook {

namespace {

namespace fs = std::filesystem;

// The code point of the `length` bytes of valid UTF-8 at text[at] (utf8_sequence_length()).
char32_t decode_at(std::string_view text, std::size_t at, std::size_t length) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[at + i]); };
    switch (length) {
        case 1:
            return byte(0);
        case 2:
            return (char32_t(byte(0) & 0x1F) << 6) | (byte(1) & 0x3F);
        case 3:
            return (char32_t(byte(0) & 0x0F) << 12) | (char32_t(byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
        default:
            return (char32_t(byte(0) & 0x07) << 18) | (char32_t(byte(1) & 0x3F) << 12) |
                   (char32_t(byte(2) & 0x3F) << 6) | (byte(3) & 0x3F);
    }
}

// Python's str.encode('unicode_escape').decode() followed by papermill's '"' -> '\"'.
std::string escaped_string(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t length = utf8_sequence_length(text, at);
        const char32_t cp = length == 0 ? U'\uFFFD' : decode_at(text, at, length);
        at += std::max<std::size_t>(length, 1);
        if (cp == '\\') {
            out += "\\\\";
        } else if (cp == '"') {
            out += "\\\"";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp >= 0x20 && cp < 0x7F) {
            out += static_cast<char>(cp);
        } else if (cp < 0x100) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned>(cp));
        } else if (cp < 0x10000) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
        } else {
            out += fmt::format("\\U{:08x}", static_cast<unsigned>(cp));
        }
    }
    return out;
}

// Python's repr() of a finite float: the shortest digits that read back the same, in fixed notation when
// the exponent is in [-4, 16) (with ".0" when there is no fraction), else as d.ddde+XX.
std::string python_float_repr(double value) {
    std::array<char, 64> buffer{};
    const auto [end, error] =
        std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::scientific);
    if (error != std::errc()) return fmt::format("{}", value);
    const std::string_view text(buffer.data(), end - buffer.data());
    const std::size_t e = text.find('e');
    std::string_view mantissa = text.substr(0, e);
    const int exponent = std::stoi(std::string(text.substr(e + 1)));
    const bool negative = mantissa.starts_with('-');
    if (negative) mantissa.remove_prefix(1);
    std::string digits;
    for (char c : mantissa) {
        if (c != '.') digits += c;
    }

    std::string out = negative ? "-" : "";
    if (exponent >= -4 && exponent < 16) {
        const int point = exponent + 1;  // digits before the decimal point
        if (point <= 0) {
            out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
        } else if (static_cast<std::size_t>(point) >= digits.size()) {
            out += digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, point) + "." + digits.substr(point);
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out;
}

std::string float_literal(double value) {
    if (std::isnan(value)) return "float('nan')";
    if (std::isinf(value)) return value < 0 ? "float('-inf')" : "float('inf')";
    return python_float_repr(value);
}

bool has_tag(const nlohmann::json& cell, std::string_view tag) {
    if (!cell.is_object()) return false;
    const auto metadata = cell.find("metadata");
    if (metadata == cell.end() || !metadata->is_object()) return false;
    const auto tags = metadata->find("tags");
    if (tags == metadata->end() || !tags->is_array()) return false;
    for (const auto& item : *tags) {
        if (item.is_string() && item.get_ref<const std::string&>() == tag) return true;
    }
    return false;
}

// Lines as nbformat writes a multi-line source: each keeps its "\n", the last may have none.
nlohmann::json source_lines(std::string_view source) {
    nlohmann::json lines = nlohmann::json::array();
    while (!source.empty()) {
        const std::size_t newline = source.find('\n');
        const std::size_t length = newline == std::string_view::npos ? source.size() : newline + 1;
        lines.push_back(std::string(source.substr(0, length)));
        source.remove_prefix(length);
    }
    return lines;
}

// An id for the injected cell that no other cell has (nbformat 4.5 requires unique ids of 1-64 of
// [a-zA-Z0-9-_]).
std::string new_cell_id(const nlohmann::json& cells) {
    std::set<std::string> taken;
    for (const auto& cell : cells) {
        if (cell.is_object() && cell.contains("id") && cell["id"].is_string()) taken.insert(cell["id"].get<std::string>());
    }
    std::string id = "injected-parameters";
    for (int n = 2; taken.count(id) != 0; ++n) id = fmt::format("injected-parameters-{}", n);
    return id;
}

}  // namespace

std::string python_literal(const nlohmann::json& value) {
    switch (value.type()) {
        case nlohmann::json::value_t::null:
            return "None";
        case nlohmann::json::value_t::string:
            return "\"" + escaped_string(value.get_ref<const std::string&>()) + "\"";
        case nlohmann::json::value_t::boolean:
            return value.get<bool>() ? "True" : "False";
        case nlohmann::json::value_t::number_integer:
            return std::to_string(value.get<std::int64_t>());
        case nlohmann::json::value_t::number_unsigned:
            return std::to_string(value.get<std::uint64_t>());
        case nlohmann::json::value_t::number_float:
            return float_literal(value.get<double>());
        case nlohmann::json::value_t::array: {
            std::string out = "[";
            for (std::size_t i = 0; i < value.size(); ++i) {
                if (i > 0) out += ", ";
                out += python_literal(value[i]);
            }
            return out + "]";
        }
        case nlohmann::json::value_t::object: {
            std::string out = "{";
            bool first = true;
            for (const auto& [key, item] : value.items()) {
                if (!first) out += ", ";
                first = false;
                out += "\"" + escaped_string(key) + "\": " + python_literal(item);
            }
            return out + "}";
        }
        case nlohmann::json::value_t::binary:
        case nlohmann::json::value_t::discarded:
            break;
    }
    return "None";
}

std::string injected_source(const nlohmann::json& parameters) {
    std::string source = "# Parameters\n";
    if (!parameters.is_object()) return source;
    for (const auto& [name, value] : parameters.items()) source += name + " = " + python_literal(value) + "\n";
    return source;
}

std::optional<std::string> why_not_parameter_name(std::string_view name) {
    static const std::set<std::string, std::less<>> keywords = {
        "False", "None",   "True",  "and",      "as",   "assert", "async",  "await",    "break",
        "class", "continue", "def", "del",      "elif", "else",   "except", "finally",  "for",
        "from",  "global", "if",    "import",   "in",   "is",     "lambda", "nonlocal", "not",
        "or",    "pass",   "raise", "return",   "try",  "while",  "with",   "yield"};
    if (name.empty()) return "it is empty";
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x80) {
            return "it holds a character that is not ASCII, and Python normalises such names (NFKC), so the "
                   "notebook could see another name";
        }
        const bool word = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                          (byte >= '0' && byte <= '9') || byte == '_';
        if (!word) {
            return byte >= 0x21 && byte < 0x7F ? fmt::format("it holds '{}'", c)
                                               : fmt::format("it holds the character 0x{:02x}", byte);
        }
    }
    if (name[0] >= '0' && name[0] <= '9') return "it starts with a digit";
    if (keywords.count(name) != 0) return "it is a Python keyword";
    if (name.starts_with("__") && name.ends_with("__")) {
        return "names that start and end with __ are Python's own (__builtins__, __name__, ...)";
    }
    return std::nullopt;
}

namespace {

// The first string in `value` (or key of it) that is not valid UTF-8, as an error naming it by `where`.
Status check_text_in(const nlohmann::json& value, const std::string& where) {
    if (value.is_string()) {
        const std::string& text = value.get_ref<const std::string&>();
        if (const auto bad = first_invalid_utf8(text)) {
            return make_error(
                "{} is not valid UTF-8 text: the byte at offset {} (0x{:02x}) is {}; a notebook "
                "parameter is a Python str, so give it as UTF-8",
                where, *bad, static_cast<unsigned char>(text[*bad]), invalid_utf8_reason(text, *bad));
        }
        return Status::success();
    }
    if (value.is_array()) {
        for (std::size_t i = 0; i < value.size(); ++i) {
            if (Status item = check_text_in(value[i], fmt::format("{}[{}]", where, i)); !item) return item;
        }
        return Status::success();
    }
    if (value.is_object()) {
        for (const auto& [key, item] : value.items()) {
            const std::string item_where = where + "." + escape_invalid_utf8(key);
            if (const auto bad = first_invalid_utf8(key)) {
                return make_error(
                    "the key {} is not valid UTF-8 text: the byte at offset {} (0x{:02x}) is {}", item_where,
                    *bad, static_cast<unsigned char>(key[*bad]), invalid_utf8_reason(key, *bad));
            }
            if (Status checked = check_text_in(item, item_where); !checked) return checked;
        }
    }
    return Status::success();
}

}  // namespace

Status check_parameter_text(const nlohmann::json& parameters) {
    return check_text_in(parameters, "parameters");
}

Result<nlohmann::json> parse_notebook(std::string_view text, const fs::path& file) {
    const std::string name = escape_invalid_utf8(file.string());
    if (const auto bad = first_invalid_utf8(text)) {
        return make_error("notebook {} is not valid UTF-8 (the byte at offset {} is 0x{:02x}); notebooks are JSON in UTF-8",
                          name, *bad, static_cast<unsigned char>(text[*bad]));
    }
    if (Status shallow = pyjson::check_nesting(text); !shallow) {
        return make_error("notebook {} is refused: {}", name, shallow.error().message);
    }
    nlohmann::json notebook;
    try {
        notebook = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& error) {
        return make_error("notebook {} is not valid JSON: {}", name, error.what());
    } catch (const nlohmann::json::out_of_range& error) {
        // A number beyond a double (1e400): nlohmann throws out_of_range.406 rather than parse_error.
        return make_error("notebook {} has a number too large for a double: {}", name, error.what());
    }
    if (!notebook.is_object()) return make_error("notebook {} is not a notebook: its JSON is not an object", name);
    const auto version = notebook.find("nbformat");
    if (version == notebook.end() || !version->is_number_integer()) {
        return make_error("notebook {} is not a notebook: it has no \"nbformat\" version", name);
    }
    if (*version != 4) {
        return make_error(
            "notebook {} is nbformat {}; only nbformat 4 notebooks can be run (open and save it in Jupyter "
            "to upgrade it)",
            name, version->dump());
    }
    const auto cells = notebook.find("cells");
    if (cells == notebook.end() || !cells->is_array()) {
        return make_error("notebook {} is not a notebook: it has no \"cells\" list", name);
    }
    for (std::size_t i = 0; i < cells->size(); ++i) {
        const nlohmann::json& cell = (*cells)[i];
        if (!cell.is_object() || !cell.contains("cell_type") || !cell["cell_type"].is_string()) {
            return make_error("notebook {}: cell {} is not a cell (an object with a cell_type)", name, i + 1);
        }
        const auto source = cell.find("source");
        const bool good_source =
            source != cell.end() &&
            (source->is_string() ||
             (source->is_array() && std::all_of(source->begin(), source->end(), [](auto& line) { return line.is_string(); })));
        if (!good_source) {
            return make_error("notebook {}: cell {} has no source (a string or a list of strings)", name, i + 1);
        }
        if (cell.contains("metadata") && !cell["metadata"].is_object()) {
            return make_error("notebook {}: the metadata of cell {} is not an object", name, i + 1);
        }
    }
    if (notebook.contains("metadata") && !notebook["metadata"].is_object()) {
        return make_error("notebook {}: its metadata is not an object", name);
    }
    return notebook;
}

Result<nlohmann::json> read_notebook(const fs::path& file) {
    const std::string name = escape_invalid_utf8(file.string());
    std::error_code error;
    const fs::file_status status = fs::status(file, error);
    if (!fs::exists(status)) return make_error("notebook {} does not exist", name);
    if (!fs::is_regular_file(status)) return make_error("notebook {} is not a file", name);
    std::ifstream in(file, std::ios::binary);
    if (!in) return make_error("cannot read notebook {}: {}", name, std::strerror(errno));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return make_error("cannot read notebook {}: {}", name, std::strerror(errno));
    return parse_notebook(text, file);
}

nlohmann::json inject_parameters(nlohmann::json notebook, const nlohmann::json& parameters) {
    nlohmann::json& cells = notebook["cells"];
    nlohmann::json cell = {{"cell_type", "code"},
                           {"execution_count", nullptr},
                           {"metadata", {{"tags", nlohmann::json::array({"injected-parameters"})}}},
                           {"outputs", nlohmann::json::array()},
                           {"source", source_lines(injected_source(parameters))}};

    const std::optional<std::size_t> injected = first_tagged_cell(notebook, "injected-parameters");
    const std::optional<std::size_t> parameters_cell = first_tagged_cell(notebook, "parameters");
    const int minor = notebook.value("nbformat_minor", 0);
    if (minor >= 5) {
        const nlohmann::json* replaced = injected ? &cells[*injected] : nullptr;
        cell["id"] = replaced && replaced->contains("id") ? (*replaced)["id"] : nlohmann::json(new_cell_id(cells));
    }
    if (injected) {
        cells[*injected] = std::move(cell);
    } else if (parameters_cell) {
        cells.insert(cells.begin() + static_cast<std::ptrdiff_t>(*parameters_cell + 1), std::move(cell));
    } else {
        cells.insert(cells.begin(), std::move(cell));
    }
    nlohmann::json& metadata = notebook["metadata"];
    if (!metadata.is_object()) metadata = nlohmann::json::object();
    if (!metadata["papermill"].is_object()) metadata["papermill"] = nlohmann::json::object();
    metadata["papermill"]["parameters"] = parameters.is_object() ? parameters : nlohmann::json::object();
    return notebook;
}

std::string cell_source(const nlohmann::json& cell) {
    const auto source = cell.find("source");
    if (source == cell.end()) return {};
    if (source->is_string()) return source->get<std::string>();
    std::string text;
    if (source->is_array()) {
        for (const auto& line : *source) {
            if (line.is_string()) text += line.get_ref<const std::string&>();
        }
    }
    return text;
}

std::optional<std::size_t> first_tagged_cell(const nlohmann::json& notebook, std::string_view tag) {
    const auto cells = notebook.find("cells");
    if (cells == notebook.end() || !cells->is_array()) return std::nullopt;
    for (std::size_t i = 0; i < cells->size(); ++i) {
        if (has_tag((*cells)[i], tag)) return i;
    }
    return std::nullopt;
}

}  // namespace mayaflow::notebook
