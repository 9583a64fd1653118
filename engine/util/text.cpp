#include "engine/util/text.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <numeric>

#include "engine/util/utf8.h"

namespace mayaflow {
namespace {

// The largest cut <= `at` that does not split a UTF-8 sequence.
size_t character_boundary(std::string_view text, size_t at) {
    if (at >= text.size()) return text.size();
    size_t cut = at;
    // Back over continuation bytes (10xxxxxx), at most three of them.
    while (cut > 0 && at - cut < 3 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    if ((static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) return at;  // not UTF-8 here anyway
    return cut;
}

}  // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), 0);
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t above = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
            diagonal = above;
        }
    }
    return row[b.size()];
}

size_t edit_distance_within(std::string_view a, std::string_view b, size_t limit) {
    const size_t too_far = limit + 1;
    if (a.size() > b.size()) std::swap(a, b);
    if (b.size() - a.size() > limit) return too_far;
    // row[j] is the distance between a[0..i) and b[0..j); cells outside |i - j| <= limit stay at
    // too_far, which is all any of them can contribute to an answer within the limit.
    std::vector<size_t> row(b.size() + 1, too_far);
    for (size_t j = 0; j <= std::min(b.size(), limit); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        const size_t first = i > limit ? i - limit : 1;
        const size_t last = std::min(b.size(), i + limit);
        size_t diagonal = row[first - 1];
        row[first - 1] = i <= limit ? i : too_far;
        size_t best_in_row = row[first - 1];
        for (size_t j = first; j <= last; ++j) {
            const size_t above = row[j];
            const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + cost, too_far});
            diagonal = above;
            best_in_row = std::min(best_in_row, row[j]);
        }
        if (last < b.size()) row[last + 1] = too_far;
        if (best_in_row > limit) return too_far;
    }
    return std::min(row[b.size()], too_far);
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
    if (word.size() > kMaxSuggestedWordLength) return "";
    std::string best;
    size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
    for (const auto& candidate : candidates) {
        size_t distance = edit_distance_within(word, candidate, best_distance - 1);
        if (distance < best_distance) {
            best_distance = distance;
            best = candidate;
        }
    }
    return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
    std::string match = closest_match(word, candidates);
    return match.empty() ? "" : " (did you mean '" + match + "'?)";
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string text;
    for (const auto& item : items) {
        if (!text.empty()) text += separator;
        text += item;
    }
    return text;
}

std::string quote_for_message(std::string_view text, size_t max_length) {
    const size_t cut = character_boundary(text, max_length);
    std::string shown = escape_invalid_utf8(text.substr(0, cut));
    for (auto& c : shown) {
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
    if (cut < text.size()) shown += "...";
    return "\"" + shown + "\"";
}

std::string quote_name(std::string_view name, size_t max_length) {
    std::string quoted = quote_for_message(name, max_length);
    quoted.front() = '\'';
    quoted.back() = '\'';
    return quoted;
}

std::string shorten_message(std::string_view text, size_t max_length) {
    if (text.size() <= max_length) return escape_invalid_utf8(text);
    const size_t cut = character_boundary(text, max_length);
    return escape_invalid_utf8(text.substr(0, cut)) +
           fmt::format("... ({} more bytes left out)", text.size() - cut);
}

bool glob_match(std::string_view pattern, std::string_view text) {
    return fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

bool has_glob_chars(std::string_view text) { return text.find_first_of("*?[") != std::string_view::npos; }

std::optional<size_t> first_control_character(std::string_view name) {
    for (size_t i = 0; i < name.size(); ++i) {
        const auto byte = static_cast<unsigned char>(name[i]);
        if (byte < 0x20 || byte == 0x7f) return i;
    }
    return std::nullopt;
}

}  // namespace mayaflow
