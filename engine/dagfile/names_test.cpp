#include "engine/dagfile/names.h"

#include <catch2/catch.hpp>

#include <string>

#include "engine/dagfile/plain_scalar.h"

namespace mayaflow {

TEST_CASE("ids and identifiers are scanned by hand, whatever their length", "[dagfile][names]") {
    CHECK(is_id_text("sales_daily.v2-final"));
    CHECK_FALSE(is_id_text(""));
    CHECK_FALSE(is_id_text("with space"));
    CHECK_FALSE(is_id_text("caf\xc3\xa9"));
    CHECK_FALSE(is_id_text("a/b"));
    CHECK(is_identifier("_table2"));
    CHECK_FALSE(is_identifier("2table"));
    CHECK_FALSE(is_identifier("a-b"));
    CHECK_FALSE(is_identifier(""));
    // std::regex recursed once per character here and overflowed the stack.
    for (size_t length : {30'000u, 1'000'000u}) {
        CHECK(is_id_text(std::string(length, 'a')));
        CHECK(is_identifier(std::string(length, 'a')));
        CHECK_FALSE(is_id_text(std::string(length, 'a') + "!"));
    }
}

TEST_CASE("plain scalars are typed as YAML 1.2's core schema types them", "[dagfile][names]") {
    CHECK(plain_scalar_to_json("").is_null());
    CHECK(plain_scalar_to_json("~").is_null());
    CHECK(plain_scalar_to_json("NULL").is_null());
    CHECK(plain_scalar_to_json("True") == true);
    CHECK(plain_scalar_to_json("FALSE") == false);
    CHECK(plain_scalar_to_json("yes") == "yes");
    CHECK(plain_scalar_to_json("42") == 42);
    CHECK(plain_scalar_to_json("+42") == 42);
    CHECK(plain_scalar_to_json("-7") == -7);
    CHECK(plain_scalar_to_json("0x1F") == 31);
    CHECK(plain_scalar_to_json("0x") == "0x");
    CHECK(plain_scalar_to_json("2.5") == 2.5);
    CHECK(plain_scalar_to_json(".5") == 0.5);
    CHECK(plain_scalar_to_json("5.") == 5.0);
    CHECK(plain_scalar_to_json("1e3") == 1000.0);
    CHECK(plain_scalar_to_json("-1.5E-2") == -0.015);
    CHECK(plain_scalar_to_json("1e") == "1e");
    CHECK(plain_scalar_to_json(".") == ".");
    CHECK(plain_scalar_to_json("-") == "-");
    CHECK(plain_scalar_to_json("1.2.3") == "1.2.3");
    CHECK(plain_scalar_to_json("12:30") == "12:30");
    CHECK(plain_scalar_to_json("-.inf") == -std::numeric_limits<double>::infinity());
    CHECK(plain_scalar_to_json("9223372036854775807") == 9223372036854775807LL);
    CHECK(plain_scalar_to_json("9223372036854775808") == "9223372036854775808");
}

TEST_CASE("numbers of 40,000 digits stay text or become floats, without recursion", "[dagfile][names]") {
    const std::string digits(40'000, '7');
    CHECK(plain_scalar_to_json(digits) == digits);
    CHECK(plain_scalar_to_json("-" + digits) == "-" + digits);
    CHECK(plain_scalar_to_json("0x" + std::string(40'000, 'f')) == "0x" + std::string(40'000, 'f'));
    CHECK(plain_scalar_to_json(digits + ".5") == digits + ".5");  // beyond a double: kept as written
    CHECK(plain_scalar_to_json("0." + digits) == Approx(0.7777777777777778));
    CHECK(plain_scalar_to_json("1e" + digits) == "1e" + digits);
    CHECK(plain_scalar_to_json(digits + "x") == digits + "x");
}

}  // namespace mayaflow
