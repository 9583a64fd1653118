#pragma once
// How mayaflow treats text that is not UTF-8, in one place (docs/dag-format.md, "Text encoding"):
// - DAG files and the files they include must be UTF-8: a load error names the file, line and byte;
// - names from outside (file names, URL paths, CLI arguments) that are not UTF-8 are refused with an
//   error that shows the bad bytes as \xNN;
// - process output is kept as it came in the task's log; whatever is shown or served as JSON has each
//   invalid byte replaced by U+FFFD, so one stray byte never turns an answer into an error.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace mayaflow {

// The offset of the first byte that does not start or continue a valid UTF-8 sequence (overlong
// forms, surrogates and code points past U+10FFFF are invalid), or nullopt when all of it is valid.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);
inline bool is_valid_utf8(std::string_view text) { return !first_invalid_utf8(text); }

// The length (1-4) of the valid UTF-8 sequence that starts at text[at], or 0 when none does there.
// Never reads past the end of `text`.
std::size_t utf8_sequence_length(std::string_view text, std::size_t at);

// Why no valid UTF-8 sequence starts at text[at] (where utf8_sequence_length() is 0), for error
// messages: "a sequence cut short", "an overlong form", "a surrogate", ...
std::string_view invalid_utf8_reason(std::string_view text, std::size_t at);

// `text` with each invalid byte replaced by U+FFFD.
std::string to_valid_utf8(std::string_view text);

// `text` with each invalid byte written as \xNN, for error messages about names.
std::string escape_invalid_utf8(std::string_view text);

// json.dump() that never throws on invalid UTF-8 in strings: such bytes become U+FFFD.
std::string dump_json(const nlohmann::json& value, int indent = -1);

}  // namespace mayaflow
