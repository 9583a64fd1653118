#include "engine/time/posix_tz_rule.h"

#include <catch2/catch.hpp>

#include "engine/time/iso8601.h"
#include "engine/time/time_test_helpers.h"

namespace mayaflow {
namespace {

using namespace time_test;

using std::chrono::hours;
using std::chrono::minutes;

PosixTzRule rule(std::string_view text) {
    auto parsed = PosixTzRule::parse(text);
    INFO(text);
    REQUIRE(parsed.ok());
    return *parsed;
}

TEST_CASE("PosixTzRule reads TZif footer rules", "[time_zone]") {
    const auto ny = rule("EST5EDT,M3.2.0,M11.1.0");
    CHECK(ny.has_daylight_saving());
    CHECK(ny.standard_offset() == hours(-5));
    CHECK(ny.daylight_offset() == hours(-4));
    const auto summer = ny.period_at(at("2040-07-01T00:00:00Z"));
    CHECK(summer.offset == hours(-4));
    CHECK(summer.abbreviation == "EDT");
    CHECK(summer.begin == at("2040-03-11T07:00:00Z"));
    CHECK(summer.end == at("2040-11-04T06:00:00Z"));
    CHECK(ny.period_at(at("2040-01-01T00:00:00Z")).abbreviation == "EST");

    const auto kathmandu = rule("<+0545>-5:45");
    CHECK_FALSE(kathmandu.has_daylight_saving());
    CHECK(kathmandu.period_at(at("2050-01-01T00:00:00Z")).offset == hours(5) + minutes(45));
    CHECK(kathmandu.period_at(at("2050-01-01T00:00:00Z")).abbreviation == "+0545");

    // Chatham changes at 02:45 standard time and back at 03:45 daylight time.
    const auto chatham = rule("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45");
    CHECK(chatham.period_at(at("2050-01-01T00:00:00Z")).offset == hours(13) + minutes(45));
    CHECK(chatham.period_at(at("2050-07-01T00:00:00Z")).offset == hours(12) + minutes(45));
    CHECK(chatham.period_at(at("2050-09-25T14:00:00Z")).begin == at("2050-09-24T14:00:00Z"));

    // Santiago changes at 24:00 on a Saturday.
    const auto santiago = rule("<-04>4<-03>,M9.1.6/24,M4.1.6/24");
    CHECK(santiago.period_at(at("2050-09-04T04:00:00Z")).offset == hours(-3));
    CHECK(santiago.period_at(at("2050-09-04T03:59:59Z")).offset == hours(-4));

    // Dublin's "daylight" time is its winter (negative DST).
    const auto dublin = rule("IST-1GMT0,M10.5.0,M3.5.0/1");
    CHECK(dublin.period_at(at("2050-07-01T00:00:00Z")).abbreviation == "IST");
    CHECK(dublin.period_at(at("2050-07-01T00:00:00Z")).offset == hours(1));
    CHECK(dublin.period_at(at("2050-01-01T00:00:00Z")).abbreviation == "GMT");

    // Daylight time all year (RFC 8536's example): the end and the next start coincide.
    const auto permanent = rule("EST5EDT4,0/0,J365/25");
    for (const char* t : {"2050-01-01T04:30:00Z", "2050-01-01T05:00:00Z", "2050-06-01T00:00:00Z",
                          "2050-12-31T23:00:00Z", "2051-01-01T05:00:00Z"}) {
        INFO(t);
        CHECK(permanent.period_at(at(t)).offset == hours(-4));
    }

    // Jn never counts February 29: J60 is March 1 in every year.
    const auto julian = rule("AAA0BBB,J60/0,J300/0");
    CHECK(julian.period_at(at("2048-03-01T00:00:00Z")).abbreviation == "BBB");
    CHECK(julian.period_at(at("2048-02-29T23:59:59Z")).abbreviation == "AAA");
}

TEST_CASE("PosixTzRule rejects malformed rules", "[time_zone]") {
    for (const char* text :
         {"", "EST", "ES5", "EST25", "EST5EDT", "EST5EDT,M3.2.0", "EST5EDT,M13.2.0,M11.1.0",
          "EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0", "<+0545-5:45", "EST5EDT,J0,J365",
          "EST5EDT,M3.2.0/168,M11.1.0", "EST5EDT,M3.2.0,M11.1.0x", "EST5:60"}) {
        auto parsed = PosixTzRule::parse(text);
        INFO(text);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().message == "invalid POSIX TZ rule \"" + std::string(text) + "\"");
    }
}

}  // namespace
}  // namespace mayaflow
