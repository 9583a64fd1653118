#include "operators/gcp/bigquery_rows.h"

#include <catch2/catch.hpp>

namespace mayaflow::gcp {
namespace {

nlohmann::json one_int64_row(const std::string& value) {
    return nlohmann::json::array({{{"f", nlohmann::json::array({{{"v", value}}})}}});
}

TEST_CASE("INT64 values are numbers up to 2^53 and text beyond, down to INT64's smallest", "[gcp][rows]") {
    const nlohmann::json schema = {{"fields", nlohmann::json::array({{{"name", "n"}, {"type", "INT64"}}})}};
    auto value_of = [&](const std::string& text) {
        auto rows = decode_bigquery_rows(schema, one_int64_row(text));
        REQUIRE(rows);
        return (*rows)[0]["n"];
    };
    CHECK(value_of("9007199254740992") == nlohmann::json(9007199254740992LL));
    CHECK(value_of("9007199254740993") == nlohmann::json("9007199254740993"));
    CHECK(value_of("-9007199254740992") == nlohmann::json(-9007199254740992LL));
    CHECK(value_of("-9007199254740993") == nlohmann::json("-9007199254740993"));
    CHECK(value_of("-9223372036854775808") == nlohmann::json("-9223372036854775808"));
    CHECK(value_of("9223372036854775807") == nlohmann::json("9223372036854775807"));
    CHECK_FALSE(decode_bigquery_rows(schema, one_int64_row("9223372036854775808")));
}

}  // namespace
}  // namespace mayaflow::gcp
