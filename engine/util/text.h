#pragma once
// Small text helpers shared by the loaders and the CLI.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mayaflow {

// Levenshtein distance, for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b);

// The Levenshtein distance when it is at most `limit`, else limit + 1. It looks only at the band of
// cells within `limit` of the diagonal, so it costs O(limit * length) rather than O(length²) and
// answers at once when the lengths alone differ by more than `limit`.
size_t edit_distance_within(std::string_view a, std::string_view b, size_t limit);

// Words longer than this get no "did you mean" hint: no name mayaflow suggests is that long, and
// comparing a pasted megabyte with every candidate would take seconds.
inline constexpr size_t kMaxSuggestedWordLength = 64;

// The candidate closest to `word` when it is close enough to be a likely typo, else "".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" when nothing is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// The position (from 0) of the first ASCII control character (below 0x20, or DEL) in a name, if any:
// names of pools, variables and the like may not hold them (a newline or NUL would break a log line
// or a CLI table).
std::optional<size_t> first_control_character(std::string_view name);

// "a, b, c"
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

// Quotes text for an error message, shortening it when long: "so much te...". The cut never splits a
// UTF-8 character, line breaks and tabs become spaces, and bytes that are not UTF-8 show as \xNN, so
// the message is always valid UTF-8 whatever the text was.
std::string quote_for_message(std::string_view text, size_t max_length = 60);

// A name for an error message in single quotes, shortened and escaped like quote_for_message:
// 'schedul', 'a_very_long_na...'.
std::string quote_name(std::string_view name, size_t max_length = 60);

// `text` cut to at most about `max_length` bytes (at a character boundary) with a note of how much was
// left out, and with bytes that are not UTF-8 shown as \xNN; for whole messages that may embed
// values of any size.
std::string shorten_message(std::string_view text, size_t max_length);

bool glob_match(std::string_view pattern, std::string_view text);
bool has_glob_chars(std::string_view text);

}  // namespace mayaflow
