// The automaton against the obvious algorithm: at each position the longest pattern that starts
// there, leftmost first, on random texts over a small alphabet where patterns overlap, nest and
// share prefixes, whole and in random pieces.

#include "engine/connections/secret_matcher.h"

#include <catch2/catch.hpp>

#include <random>

namespace mayaflow {
namespace {

std::string naive_mask(std::string_view text, const std::vector<std::string>& patterns) {
    std::string out;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t longest = 0;
        for (const auto& pattern : patterns) {
            if (!pattern.empty() && pattern.size() > longest && text.substr(pos).starts_with(pattern))
                longest = pattern.size();
        }
        if (longest == 0) {
            out.push_back(text[pos++]);
        } else {
            out += "*";
            pos += longest;
        }
    }
    return out;
}

std::string random_text(std::mt19937& random, std::string_view alphabet, std::size_t length) {
    std::string text;
    while (text.size() < length) text.push_back(alphabet[random() % alphabet.size()]);
    return text;
}

TEST_CASE("the automaton masks what the obvious algorithm masks", "[connections][masker]") {
    std::mt19937 random(8);
    for (int round = 0; round < 400; ++round) {
        std::vector<std::string> patterns;
        const std::size_t count = 1 + random() % 8;
        for (std::size_t i = 0; i < count; ++i)
            patterns.push_back(random_text(random, "ab%c", 1 + random() % 5));
        if (round % 3 == 0) patterns.push_back(patterns[0] + patterns[0]);  // nested, repeated
        SecretMatcher matcher(patterns);
        const std::string text = random_text(random, "ab%cd", random() % 80);
        INFO("text " << text << ", patterns " << Catch::Detail::stringify(patterns));
        std::string whole;
        REQUIRE(matcher.mask_into(whole, text, "*", false) == text.size());
        REQUIRE(whole == naive_mask(text, patterns));
        // In pieces: what is held back comes again with the next piece.
        std::string pieces, pending;
        for (std::size_t pos = 0; pos < text.size();) {
            const std::size_t step = 1 + random() % 6;
            pending += text.substr(pos, step);
            pos += step;
            pending.erase(0, matcher.mask_into(pieces, pending, "*", true));
        }
        matcher.mask_into(pieces, pending, "*", false);
        REQUIRE(pieces == whole);
    }
}

TEST_CASE("the automaton holds back only a tail that a pattern continues", "[connections][masker]") {
    SecretMatcher matcher({"hunter2", "ab", "abcd"});
    std::string out;
    CHECK(matcher.mask_into(out, "say hun", "*", true) == 4);
    CHECK(out == "say ");
    out.clear();
    CHECK(matcher.mask_into(out, "x ab", "*", true) == 2);  // "ab" may yet be "abcd"
    out.clear();
    CHECK(matcher.mask_into(out, "x abc", "*", true) == 2);
    out.clear();
    CHECK(matcher.mask_into(out, "x abx", "*", true) == 5);
    CHECK(out == "x *x");
    out.clear();
    CHECK(matcher.mask_into(out, "hunter2", "*", true) == 7);
    CHECK(out == "*");
    CHECK(matcher.longest() == 7);
    CHECK(matcher.pattern_count() == 3);
    SecretMatcher none({"", ""});
    CHECK(none.empty());
    out.clear();
    CHECK(none.mask_into(out, "text", "*", true) == 4);
    CHECK(out == "text");
}

TEST_CASE("many secrets sharing a long prefix are matched in one pass", "[connections][masker]") {
    const std::string prefix(300, 'p');
    std::vector<std::string> patterns;
    for (int i = 0; i < 1'000; ++i) patterns.push_back(prefix + std::to_string(i) + "!");
    SecretMatcher matcher(patterns);
    std::string text;
    for (int i = 0; i < 200; ++i) text += prefix + "x " + prefix + std::to_string(i * 5) + "! ";
    std::string out;
    matcher.mask_into(out, text, "*", false);
    CHECK(out.find(prefix + "x ") != std::string::npos);
    CHECK(out.find('!') == std::string::npos);
    CHECK(out == naive_mask(text, patterns));
}

}  // namespace
}  // namespace mayaflow
