#include "engine/util/text.h"

#include <catch2/catch.hpp>

#include <random>

#include "engine/util/utf8.h"

namespace mayaflow {

TEST_CASE("the banded edit distance agrees with the full one within its limit", "[util][text]") {
    std::mt19937 random(7);
    auto word = [&] {
        std::string text;
        size_t length = random() % 12;
        for (size_t i = 0; i < length; ++i) text += static_cast<char>('a' + random() % 4);
        return text;
    };
    for (int i = 0; i < 2000; ++i) {
        std::string a = word();
        std::string b = word();
        size_t limit = random() % 6;
        size_t full = edit_distance(a, b);
        CAPTURE(a, b, limit);
        CHECK(edit_distance_within(a, b, limit) == std::min(full, limit + 1));
    }
    CHECK(edit_distance_within("schedul", "schedule", 0) == 1);
    CHECK(edit_distance_within("", "abc", 3) == 3);
    CHECK(edit_distance_within("abc", "", 1) == 2);
}

TEST_CASE("did you mean: long words get no suggestion and short ones still do", "[util][text]") {
    std::vector<std::string> fields = {"schedule", "start_date", "timezone", "tasks"};
    CHECK(did_you_mean("schedul", fields) == " (did you mean 'schedule'?)");
    CHECK(did_you_mean("timezome", fields) == " (did you mean 'timezone'?)");
    CHECK(did_you_mean("xyz", fields).empty());
    // A pasted megabyte against candidates as long as itself: answered without comparing.
    const std::string huge(1'000'000, 'q');
    CHECK(closest_match(huge, {huge, huge + "x"}).empty());
    CHECK(closest_match(std::string(kMaxSuggestedWordLength, 'a'),
                        {std::string(kMaxSuggestedWordLength, 'a')}) ==
          std::string(kMaxSuggestedWordLength, 'a'));
}

TEST_CASE("quoted values are short, valid UTF-8 and never cut inside a character", "[util][text]") {
    CHECK(quote_for_message("three") == "\"three\"");
    CHECK(quote_for_message("a\nb") == "\"a b\"");
    std::string accents;
    for (int i = 0; i < 100; ++i) accents += "\xc3\xa9";  // é
    std::string quoted = quote_for_message(accents, 61);
    CHECK(is_valid_utf8(quoted));
    CHECK(quoted.size() <= 61 + 5);
    CHECK(quote_for_message("caf\xe9") == "\"caf\\xe9\"");
    CHECK(quote_name("schedul") == "'schedul'");
    CHECK(quote_name(std::string(1'000'000, 'k')).size() < 70);
    std::string message = shorten_message(std::string(5000, 'm') + "\xff", 100);
    CHECK(message.size() < 150);
    CHECK_THAT(message, Catch::Contains("more bytes left out"));
    CHECK(shorten_message("short \xff", 100) == "short \\xff");
}

TEST_CASE("control characters in a name are found", "[text]") {
    CHECK_FALSE(first_control_character("sales_pool é ~%'"));
    CHECK(first_control_character(std::string("p\0x", 3)) == 1u);
    CHECK(first_control_character("a\nb") == 1u);
    CHECK(first_control_character("\x7f") == 0u);
    CHECK(first_control_character("tab\there") == 3u);
}

}  // namespace mayaflow
