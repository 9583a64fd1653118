#pragma once
// Python's str and number behaviour on UTF-8 strings: what templates see when they call str methods,
// slice strings, print floats or convert text to numbers. Indexes count code points, as in Python.
// Functions that build strings or lists refuse, before building, a result larger than the limits in
// limits.h (a runtime TemplateError).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mayaflow::tmpl::py {

// repr() of a str: single quotes unless the text has a single quote and no double quote.
std::string repr_string(std::string_view text);
// repr()/str() of a float: shortest round-trip digits, "1.0", "1e+20", "inf", "nan".
std::string repr_float(double value);

// Start, step and count of a slice after Python's index adjustment (PySlice_AdjustIndices).
struct SliceRange {
    std::int64_t start = 0;
    std::int64_t step = 1;
    std::int64_t count = 0;
};
// Throws a runtime TemplateError when step is zero.
SliceRange adjust_slice(std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
                        std::optional<std::int64_t> step, std::int64_t length);

std::string slice(std::string_view text, const SliceRange& range);
// The code point at a (possibly negative) index, or nullopt when out of range.
std::optional<std::string> char_at(std::string_view text, std::int64_t index);
std::vector<std::string> chars(std::string_view text);

std::string upper(std::string_view text);
std::string lower(std::string_view text);
std::string swapcase(std::string_view text);
std::string capitalize(std::string_view text);
// str.title(): a cased letter after an uncased character starts a word.
std::string title(std::string_view text);
bool is_upper(std::string_view text);
bool is_lower(std::string_view text);

enum class StripSide { both, left, right };
// `chars` absent means Python whitespace.
std::string strip(std::string_view text, std::optional<std::string_view> chars,
                  StripSide side = StripSide::both);

// str.split(sep, maxsplit) and str.rsplit; sep absent splits on runs of whitespace.
std::vector<std::string> split(std::string_view text, std::optional<std::string_view> sep,
                               std::int64_t maxsplit = -1);
std::vector<std::string> rsplit(std::string_view text, std::optional<std::string_view> sep,
                                std::int64_t maxsplit = -1);
std::vector<std::string> splitlines(std::string_view text, bool keepends = false);
// Calls `on_line` with each line splitlines() would give, in order, until it returns false.
void for_each_line(std::string_view text, bool keepends, const std::function<bool(std::string_view)>& on_line);

std::string replace(std::string_view text, std::string_view old, std::string_view replacement,
                    std::int64_t count = -1);
// Code-point index of the first/last occurrence, or -1.
std::int64_t find(std::string_view text, std::string_view sub);
std::int64_t rfind(std::string_view text, std::string_view sub);
std::int64_t count(std::string_view text, std::string_view sub);

// str.center/ljust/rjust with a one-character fill, and str.zfill.
std::string pad(std::string_view text, std::int64_t width, std::string_view fill, char align);
std::string zfill(std::string_view text, std::int64_t width);
std::string repeat(std::string_view text, std::int64_t times);

// int(text, base) and float(text) as Python parses them (whitespace around, '_' between digits).
std::optional<std::int64_t> parse_int(std::string_view text, int base = 10);
// True when text is a valid Python int literal whose value does not fit in 64 bits.
bool int_text_overflows(std::string_view text, int base = 10);
std::optional<double> parse_float(std::string_view text);

}  // namespace mayaflow::tmpl::py
