#include "engine/util/text.h"

#include <fnmatch.h>

#include <algorithm>
#include <numeric>

namespace mayaflow {

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

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
    std::string best;
    size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
    for (const auto& candidate : candidates) {
        size_t distance = edit_distance(word, candidate);
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
    std::string shown(text.substr(0, max_length));
    for (auto& c : shown) {
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
    if (text.size() > max_length) shown += "...";
    return "\"" + shown + "\"";
}

bool glob_match(std::string_view pattern, std::string_view text) {
    return fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

bool has_glob_chars(std::string_view text) { return text.find_first_of("*?[") != std::string_view::npos; }

}  // namespace mayaflow
