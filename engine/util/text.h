#pragma once
// Small text helpers shared by the loaders and the CLI.

#include <string>
#include <string_view>
#include <vector>

namespace mayaflow {

// Levenshtein distance, for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a likely typo, else "".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "" when nothing is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// "a, b, c"
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

// Quotes text for an error message, shortening it when long: "so much te…".
std::string quote_for_message(std::string_view text, size_t max_length = 60);

bool glob_match(std::string_view pattern, std::string_view text);
bool has_glob_chars(std::string_view text);

}  // namespace mayaflow
