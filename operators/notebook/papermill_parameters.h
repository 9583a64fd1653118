#pragma once
// Papermill's parameter injection, redone in C++ so that notebooks run with Debian's nbconvert behave as
// they would under papermill (nteract/papermill, parameterize.py and translators.py): a new code cell
// tagged `injected-parameters` holding "# Parameters" and one `name = <Python literal>` line per
// parameter, placed instead of an earlier injected cell, else right after the first cell tagged
// `parameters`, else at the top; the values recorded in metadata.papermill.parameters.
// See ../../shared/contracts/NOTEBOOK-NOTES.md and docs/operators.md ("notebook").

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "engine/util/result.h"

namespace mayaflow::notebook {

// The Python literal of a JSON value as papermill's PythonTranslator writes it: strings in double quotes
// after Python's unicode_escape codec (so "é" is "\xe9" and a newline "\n"), None, True/False, integers,
// floats as Python's repr (1.0, 1e+16, float('nan'), float('inf')), lists and dicts. Strings should be
// valid UTF-8 (check_parameter_text()); a byte that is not is written as \ufffd, never read past.
std::string python_literal(const nlohmann::json& value);

// The source of the injected cell: "# Parameters\n" and "name = <literal>\n" per parameter, in order.
std::string injected_source(const nlohmann::json& parameters);

// Why `name` cannot be a parameter's name, or nullopt when it can. Parameters are injected as
// `name = value`, so a name must be one Python assigns as written: ASCII letters, digits and _, not
// starting with a digit (Python would NFKC-normalise other letters, so the notebook could see another
// name: a mathematical bold 𝐓𝐫𝐮𝐞 is True), not a keyword (True, None, class, ...), and not starting and
// ending with __ (Python's own names, such as __builtins__).
std::optional<std::string> why_not_parameter_name(std::string_view name);

// Every string of `parameters` (values at any depth, and keys) must be valid UTF-8: a Python str holds
// text, and the injected cell is UTF-8. The error names the first bad one ("parameters.p",
// "parameters.p[2].k"), the bad byte's offset and why it is not UTF-8, never the value (it may be a
// secret).
Status check_parameter_text(const nlohmann::json& parameters);

// The notebook in `text` (read from `file`, which errors name): valid UTF-8, JSON, an object of
// nbformat 4 with a `cells` list of objects, each with a string or list-of-strings `source`.
Result<nlohmann::json> parse_notebook(std::string_view text, const std::filesystem::path& file);

// parse_notebook() of the file's contents; errors name the file (missing, not a file, unreadable).
Result<nlohmann::json> read_notebook(const std::filesystem::path& file);

// `notebook` (as parse_notebook() accepts it) with `parameters` (a JSON object that passed
// check_parameter_text()) injected as papermill injects them.
nlohmann::json inject_parameters(nlohmann::json notebook, const nlohmann::json& parameters);

// A cell's source as one string (nbformat allows a string or a list of lines).
std::string cell_source(const nlohmann::json& cell);

// The index of the first cell whose metadata.tags holds `tag`.
std::optional<std::size_t> first_tagged_cell(const nlohmann::json& notebook, std::string_view tag);

}  // namespace mayaflow::notebook
