#pragma once
// The YAML 1.2 core schema's typing of a plain (unquoted) scalar: null, true/false, an integer, a
// float, or else the text itself. Scanned by hand in one pass, so a value of any length (a number of
// 40,000 digits, a pasted megabyte) costs time in proportion to its length and no stack.

#include <nlohmann/json.hpp>

#include <string_view>

namespace mayaflow {

// null for ~, null, Null, NULL and the empty text; true/false in their three spellings; integers
// (decimal with an optional sign, or 0x hex) that fit in 64 bits; floats that a double can hold,
// and .inf/-.inf. An integer too large for 64 bits or a float beyond a double's range stays text, as
// written.
nlohmann::json plain_scalar_to_json(std::string_view text);

}  // namespace mayaflow
