#pragma once
// The limits that keep one render from running for long or exhausting memory, in one place
// (docs/templates.md, "Errors"). Everything that builds a string or a list checks the size it is
// about to build against them before building it, so a hostile template fails at once and small.

#include <cstddef>
#include <cstdint>

namespace mayaflow::tmpl {

// One string, and one list (or the items iterated out of a string or dict).
inline constexpr std::size_t kMaxStringBytes = 64u << 20;
inline constexpr std::size_t kMaxListItems = 1'000'000;
// Work in one render: loop iterations, items processed by filters and every 64 bytes of text built.
inline constexpr std::size_t kMaxWork = 10'000'000;
// The text one render produces.
inline constexpr std::size_t kMaxOutputBytes = 64u << 20;
// range() items, as in Airflow's sandboxed Jinja (MAX_RANGE).
inline constexpr std::int64_t kMaxRange = 100'000;

// Throw a runtime TemplateError when a string of `bytes`, or a list of `items`, would be too large.
void check_string_size(std::size_t bytes);
void check_list_size(std::size_t items);
// The same for `count` pieces of `each` bytes (a repetition, a padding), without overflowing.
void check_repeated_size(std::size_t each, std::int64_t count);

}  // namespace mayaflow::tmpl
