#pragma once
// Python strings are sequences of code points; mayaflow keeps strings as UTF-8. These helpers give
// the template engine code-point views of UTF-8 text and the character classes Python's str methods
// use. Case mapping and classification cover ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic and
// full-width Latin; other scripts are treated as uncased letters.

#include <cstddef>
#include <string>
#include <string_view>

namespace mayaflow::tmpl::unicode {

bool is_ascii(std::string_view text);
// Number of code points (invalid bytes count as one each).
std::size_t length(std::string_view text);

// Decodes one code point at `pos`, advancing it; invalid bytes decode as U+FFFD.
char32_t decode_next(std::string_view text, std::size_t& pos);
std::u32string decode(std::string_view text);
void append_utf8(std::string& out, char32_t cp);
std::string encode(std::u32string_view text);

// Byte offset of the code point with the given index (text.size() when index == length).
std::size_t byte_offset(std::string_view text, std::size_t index);

// Python's str.isspace() for one code point.
bool is_space(char32_t cp);
// Python's line boundaries for str.splitlines().
bool is_line_break(char32_t cp);
bool is_digit(char32_t cp);
bool is_alpha(char32_t cp);
bool is_upper(char32_t cp);
bool is_lower(char32_t cp);
// A letter that has case (Python's "cased" characters).
bool is_cased(char32_t cp);
// Python's str.isprintable() for one code point (approximate outside the covered scripts).
bool is_printable(char32_t cp);

// Simple one-to-one case mappings; append_upper also expands 'ß' to "SS" as Python does.
char32_t to_upper(char32_t cp);
char32_t to_lower(char32_t cp);
void append_upper(std::u32string& out, char32_t cp);

}  // namespace mayaflow::tmpl::unicode
