#include "engine/util/utf8.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace mayaflow;

TEST_CASE("first_invalid_utf8 finds the first byte that is not UTF-8", "[utf8]") {
    CHECK_FALSE(first_invalid_utf8(""));
    CHECK_FALSE(first_invalid_utf8("plain ascii"));
    CHECK_FALSE(first_invalid_utf8("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80"));
    CHECK(first_invalid_utf8("caf\xE9") == 3u);                   // Latin-1 é
    CHECK(first_invalid_utf8("ab\xFF") == 2u);                    // never valid
    CHECK(first_invalid_utf8("\xC0\xAF") == 0u);                  // overlong '/'
    CHECK(first_invalid_utf8("\xE0\x80\xAF") == 0u);              // overlong, three bytes
    CHECK(first_invalid_utf8("x\xED\xA0\x80") == 1u);             // a UTF-16 surrogate
    CHECK(first_invalid_utf8("\xF4\x90\x80\x80") == 0u);          // past U+10FFFF
    CHECK(first_invalid_utf8("ok\xE6\x97") == 2u);                // cut short at the end
    CHECK(first_invalid_utf8("\x80") == 0u);                      // a lone continuation byte
}

TEST_CASE("to_valid_utf8 replaces each bad byte and keeps the rest", "[utf8]") {
    CHECK(to_valid_utf8("caf\xE9!") == "caf\xEF\xBF\xBD!");
    CHECK(to_valid_utf8("\xC3\xA9") == "\xC3\xA9");
    CHECK(is_valid_utf8(to_valid_utf8("\xFF\xFE\xC3")));
}

TEST_CASE("escape_invalid_utf8 writes bad bytes as \\xNN", "[utf8]") {
    CHECK(escape_invalid_utf8("a\xFF" "b\xC3\xA9") == "a\\xffb\xC3\xA9");
}

TEST_CASE("dump_json never throws on bad bytes", "[utf8]") {
    nlohmann::json value = {{"message", std::string("caf\xE9")}};
    CHECK_THROWS(value.dump());
    CHECK(dump_json(value) == "{\"message\":\"caf\xEF\xBF\xBD\"}");
}

TEST_CASE("utf8_sequence_length never reads past the end, and invalid_utf8_reason says why", "[utf8]") {
    CHECK(utf8_sequence_length("a", 0) == 1);
    CHECK(utf8_sequence_length("\xC3\xA9", 0) == 2);
    CHECK(utf8_sequence_length("\xF0\x9F\x98\x80", 0) == 4);
    CHECK(utf8_sequence_length("a", 1) == 0);  // past the end
    // Each a std::string_view of its exact bytes, so a lead byte at the very end has nothing after it.
    const std::pair<std::string_view, std::string_view> bad[] = {
        {"\xF0", "a sequence cut short"},
        {"\xF0\x9F\x98", "a sequence cut short"},
        {"\xE6\x97", "a sequence cut short"},
        {"\xC3", "a sequence cut short"},
        {"\xE9!", "a sequence cut short"},
        {"\x80", "a continuation byte with no lead byte before it"},
        {"\xBF\xBF", "a continuation byte with no lead byte before it"},
        {"\xC0\xAF", "an overlong form"},
        {"\xE0\x80\xAF", "an overlong form"},
        {"\xF0\x80\x80\xAF", "an overlong form"},
        {"\xED\xA0\x80", "a surrogate (U+D800 to U+DFFF)"},
        {"\xED\xBF\xBF", "a surrogate (U+D800 to U+DFFF)"},
        {"\xF4\x90\x80\x80", "a code point past U+10FFFF"},
        {"\xF5\x80\x80\x80", "a byte that never occurs in UTF-8"},
        {"\xFF", "a byte that never occurs in UTF-8"},
    };
    for (const auto& [text, reason] : bad) {
        INFO(escape_invalid_utf8(text));
        CHECK(utf8_sequence_length(text, 0) == 0);
        CHECK(invalid_utf8_reason(text, 0) == reason);
    }
}
