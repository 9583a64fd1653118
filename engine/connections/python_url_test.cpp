// urllib.parse's behaviour where mayaflow's copy could most easily drift from Python's.

#include "engine/connections/python_url.h"

#include <catch2/catch.hpp>

namespace mayaflow::pyurl {
namespace {

TEST_CASE("quote keeps only unreserved characters and the safe ones", "[connections][url]") {
    CHECK(quote("a b/c") == "a%20b/c");
    CHECK(quote("a b/c", "") == "a%20b%2Fc");
    CHECK(quote("AZaz09_.-~") == "AZaz09_.-~");
    CHECK(quote("é") == "%C3%A9");
    CHECK(quote_plus("a b+c") == "a+b%2Bc");
    CHECK(quote("") == "");
}

TEST_CASE("unquote decodes UTF-8 and replaces what is not", "[connections][url]") {
    CHECK(unquote("p%40ss") == "p@ss");
    CHECK(unquote("%e2%82%ac") == "€");
    CHECK(unquote("%E2%82") == "\xEF\xBF\xBD");              // a cut sequence: one replacement
    CHECK(unquote("%FF%FE") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // two invalid bytes: two
    CHECK(unquote("%C3é%A9") ==
          "\xEF\xBF\xBD"
          "é"
          "\xEF\xBF\xBD");  // runs decode apart
    CHECK(unquote("100%") == "100%");
    CHECK(unquote("%%41") == "%A");
    CHECK(unquote_plus("a+b%2B") == "a b+");
}

TEST_CASE("parse_qsl keeps blank values and the last of a repeated key is the caller's choice",
          "[connections][url]") {
    auto pairs = parse_qsl("a=1&&b&c=&a=2");
    REQUIRE(pairs.size() == 4);
    CHECK(pairs[1] == std::pair<std::string, std::string>{"b", ""});
    CHECK(pairs[3].second == "2");
    CHECK(urlencode({{"k y", "v&=/"}}) == "k+y=v%26%3D%2F");
}

TEST_CASE("urlsplit splits as Python does", "[connections][url]") {
    auto parts = urlsplit("HTTP://User:Pw@Host.COM:80/p/q?x=1#f");
    REQUIRE(parts);
    CHECK(parts->scheme == "http");
    CHECK(parts->netloc == "User:Pw@Host.COM:80");
    CHECK(parts->username() == "User");
    CHECK(parts->password() == "Pw");
    CHECK(parts->hostname() == "host.com");
    CHECK(*parts->port() == std::optional<int>(80));
    CHECK(parts->path == "/p/q");
    CHECK(parts->query == "x=1");
    CHECK(parts->fragment == "f");

    CHECK(urlsplit("http://[fe80::1%25Zone]/")->hostname() == "fe80::1%25Zone");
    CHECK_FALSE(urlsplit("http://[::1"));
    CHECK_FALSE(urlsplit("http://[1.2.3.4]/"));
    CHECK_FALSE(urlsplit("http://[1:2:3:4:5:6:7:8:9]/"));
    CHECK_FALSE(urlsplit("http://[::1::2]/"));
    CHECK_FALSE(urlsplit("http://x[::1]/"));
    CHECK(urlsplit("http://[1:2:3:4:5:6:1.2.3.4]/"));
    CHECK(urlsplit("http://[v1.x]/"));
    CHECK_FALSE(urlsplit("http://[v.x]/"));
    CHECK_FALSE(urlsplit("http://h:1x/")->port());
    CHECK_FALSE(urlsplit("http://h:65536/")->port());
    CHECK(*urlsplit("http://h:00065535/")->port() == std::optional<int>(65535));
    CHECK(urlsplit("\x01 http://h\n/")->netloc == "h");
    CHECK(urlsplit("1a://h")->scheme.empty());
    CHECK(urlsplit("a_b://h")->scheme.empty());
}

}  // namespace
}  // namespace mayaflow::pyurl
