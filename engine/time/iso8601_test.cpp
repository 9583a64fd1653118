#include "engine/time/iso8601.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/time/time_test_helpers.h"

namespace mayaflow {
namespace {

using namespace time_test;

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;

Instant utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0, int us = 0) {
    const sys_days day{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}};
    return Instant{day.time_since_epoch()} + hours(hh) + minutes(mm) + seconds(ss) + microseconds(us);
}

TEST_CASE("format_iso8601 prints the instant as it reads in the zone", "[iso8601]") {
    const Instant t = utc(2024, 2, 29, 18, 0, 0);
    CHECK(format_iso8601(t, TimeZone::utc()) == "2024-02-29T18:00:00+00:00");
    CHECK(format_iso8601(t, zone("Asia/Tokyo")) == "2024-03-01T03:00:00+09:00");
    CHECK(format_iso8601(t, zone("America/New_York")) == "2024-02-29T13:00:00-05:00");
    CHECK(format_iso8601(t, zone("Asia/Kolkata")) == "2024-02-29T23:30:00+05:30");
    CHECK(format_iso8601(t, zone("Asia/Kathmandu")) == "2024-02-29T23:45:00+05:45");
    CHECK(format_iso8601(t, zone("America/St_Johns")) == "2024-02-29T14:30:00-03:30");
    CHECK(format_iso8601(t, zone("Pacific/Chatham")) == "2024-03-01T07:45:00+13:45");
    CHECK(format_iso8601(utc(2024, 3, 1, 3, 0, 0, 500), TimeZone::utc()) ==
          "2024-03-01T03:00:00.000500+00:00");
    CHECK(format_iso8601(utc(2024, 3, 1, 3, 0, 0, 123456), TimeZone::utc()) ==
          "2024-03-01T03:00:00.123456+00:00");
    CHECK(format_iso8601(utc(1969, 12, 31, 23, 59, 59, 999999), TimeZone::utc()) ==
          "1969-12-31T23:59:59.999999+00:00");
    CHECK(format_iso8601(utc(1, 1, 2), TimeZone::utc()) == "0001-01-02T00:00:00+00:00");
    // Before standard time, New York kept local mean time: an offset with seconds, as Python prints it.
    CHECK(format_iso8601(utc(1850, 1, 1), zone("America/New_York")) == "1849-12-31T19:03:58-04:56:02");
}

TEST_CASE("format_date and format_utc_offset", "[iso8601]") {
    const Instant t = utc(2024, 2, 29, 18, 0, 0);
    CHECK(format_date(t, TimeZone::utc()) == "2024-02-29");
    CHECK(format_date(t, zone("Asia/Tokyo")) == "2024-03-01");
    CHECK(format_utc_offset(hours(9), true) == "+09:00");
    CHECK(format_utc_offset(hours(9), false) == "+0900");
    CHECK(format_utc_offset(-(hours(3) + minutes(30)), true) == "-03:30");
    CHECK(format_utc_offset(seconds(0), false) == "+0000");
    CHECK(format_utc_offset(-(hours(4) + minutes(56) + seconds(2)), true) == "-04:56:02");
}

struct ParseCase {
    const char* text;
    const char* zone;      // for naive values
    const char* expected;  // formatted in UTC
};

TEST_CASE("parse_datetime reads the accepted forms", "[iso8601]") {
    const std::vector<ParseCase> cases = {
        {"2024-03-01", "UTC", "2024-03-01T00:00:00+00:00"},
        {"2024-03-01T03:00", "UTC", "2024-03-01T03:00:00+00:00"},
        {"2024-03-01T03:00:00", "UTC", "2024-03-01T03:00:00+00:00"},
        {"2024-03-01 03:00:00", "UTC", "2024-03-01T03:00:00+00:00"},
        {"2024-03-01t03:00:00z", "UTC", "2024-03-01T03:00:00+00:00"},
        {"  2024-03-01T03:00:00Z  ", "UTC", "2024-03-01T03:00:00+00:00"},
        {"2024-03-01T03:00:00.5", "UTC", "2024-03-01T03:00:00.500000+00:00"},
        {"2024-03-01T03:00:00.123", "UTC", "2024-03-01T03:00:00.123000+00:00"},
        {"2024-03-01T03:00:00.123456", "UTC", "2024-03-01T03:00:00.123456+00:00"},
        {"2024-03-01T03:00:00.123456789", "UTC", "2024-03-01T03:00:00.123456+00:00"},
        {"2024-03-01T03:00:00,25", "UTC", "2024-03-01T03:00:00.250000+00:00"},
        {"2024-03-01T03:00:00Z", "Asia/Tokyo", "2024-03-01T03:00:00+00:00"},
        {"2024-03-01T03:00:00+09:00", "UTC", "2024-02-29T18:00:00+00:00"},
        {"2024-03-01T03:00:00+0900", "UTC", "2024-02-29T18:00:00+00:00"},
        {"2024-03-01T03:00:00+09", "UTC", "2024-02-29T18:00:00+00:00"},
        {"2024-03-01T03:00-03:30", "UTC", "2024-03-01T06:30:00+00:00"},
        {"2024-03-01T03:00:00.75+05:45", "UTC", "2024-02-29T21:15:00.750000+00:00"},
        // Naive values are wall-clock times in the given zone.
        {"2024-03-01", "Asia/Tokyo", "2024-02-29T15:00:00+00:00"},
        {"2024-03-01T03:00:00", "Asia/Tokyo", "2024-02-29T18:00:00+00:00"},
        {"2024-07-01 09:00", "America/New_York", "2024-07-01T13:00:00+00:00"},
        // In a DST gap: forward by the gap (02:30 EST does not exist; 03:30 EDT).
        {"2024-03-10T02:30:00", "America/New_York", "2024-03-10T07:30:00+00:00"},
        // In an overlap: the second occurrence, as pendulum (fold=1) reads it.
        {"2024-11-03T01:30:00", "America/New_York", "2024-11-03T06:30:00+00:00"},
        // Santiago's midnight does not exist on 2024-09-08: the date means 01:00.
        {"2024-09-08", "America/Santiago", "2024-09-08T04:00:00+00:00"},
        {"2024-02-29", "UTC", "2024-02-29T00:00:00+00:00"},
        {"2000-02-29", "UTC", "2000-02-29T00:00:00+00:00"},
        {"0001-01-02", "UTC", "0001-01-02T00:00:00+00:00"},
        {"9999-12-31T23:59:59", "UTC", "9999-12-31T23:59:59+00:00"},
        {"0001-01-01", "UTC", "0001-01-01T00:00:00+00:00"},
        {"9999-12-31T23:00:00-00:59", "UTC", "9999-12-31T23:59:00+00:00"},
    };
    for (const auto& c : cases) {
        INFO(c.text << " in " << c.zone);
        auto parsed = parse_datetime(c.text, zone(c.zone));
        REQUIRE(parsed.ok());
        CHECK(format_iso8601(*parsed, TimeZone::utc()) == c.expected);
    }
}

TEST_CASE("parse_datetime errors name the text and the accepted forms", "[iso8601]") {
    const std::string forms =
        "use YYYY-MM-DD, YYYY-MM-DDTHH:MM, YYYY-MM-DDTHH:MM:SS[.ffffff] (a space may replace the T), "
        "optionally "
        "followed by Z, +HH:MM or +HHMM";
    const std::vector<std::pair<const char*, std::string>> cases = {
        {"", "invalid date-time \"\": " + forms},
        {"yesterday", "invalid date-time \"yesterday\": " + forms},
        {"2024-3-1", "invalid date-time \"2024-3-1\": " + forms},
        {"2024/03/01", "invalid date-time \"2024/03/01\": " + forms},
        {"20240301", "invalid date-time \"20240301\": " + forms},
        {"2024-03-01T03", "invalid date-time \"2024-03-01T03\": " + forms},
        {"2024-03-01T3:00", "invalid date-time \"2024-03-01T3:00\": " + forms},
        {"2024-03-01T03:00:00.", "invalid date-time \"2024-03-01T03:00:00.\": " + forms},
        {"2024-03-01T03:00:00.1234567890", "invalid date-time \"2024-03-01T03:00:00.1234567890\": " + forms},
        {"2024-03-01T03:00:00 UTC", "invalid date-time \"2024-03-01T03:00:00 UTC\": " + forms},
        {"2024-03-01T03:00:00+9", "invalid date-time \"2024-03-01T03:00:00+9\": " + forms},
        {"2024-03-01+09:00", "invalid date-time \"2024-03-01+09:00\": " + forms},
        {"2024-03-01T03:00:00Zjunk", "invalid date-time \"2024-03-01T03:00:00Zjunk\": " + forms},
        {"2024-13-01", "invalid date-time \"2024-13-01\": month 13 is out of range 1-12"},
        {"2024-00-10", "invalid date-time \"2024-00-10\": month 0 is out of range 1-12"},
        {"2023-02-29",
         "invalid date-time \"2023-02-29\": day 29 is out of range for 2023-02 (which has 28 days)"},
        {"2024-04-31",
         "invalid date-time \"2024-04-31\": day 31 is out of range for 2024-04 (which has 30 days)"},
        {"2024-04-00",
         "invalid date-time \"2024-04-00\": day 0 is out of range for 2024-04 (which has 30 days)"},
        {"2024-03-01T24:00",
         "invalid date-time \"2024-03-01T24:00\": time 24:00:00 is out of range (hours 00-23, "
         "minutes and seconds 00-59)"},
        {"2024-03-01T12:60",
         "invalid date-time \"2024-03-01T12:60\": time 12:60:00 is out of range (hours 00-23, "
         "minutes and seconds 00-59)"},
        {"2024-03-01T12:00:60",
         "invalid date-time \"2024-03-01T12:00:60\": time 12:00:60 is out of range (hours "
         "00-23, minutes and seconds 00-59)"},
        {"2024-03-01T12:00+24:00",
         "invalid date-time \"2024-03-01T12:00+24:00\": UTC offset 24:00 is out of range (at most 23:59)"},
        {"2024-03-01T12:00+05:60",
         "invalid date-time \"2024-03-01T12:00+05:60\": UTC offset 05:60 is out of range (at most 23:59)"},
        // Found by fuzz/duration_fuzz.cpp: these read as instants of the years 0 and 10000 in UTC, which
        // format_iso8601 printed as text parse_datetime could not read back.
        {"0000-01-01", "invalid date-time \"0000-01-01\": it falls outside the years 0001-9999 in UTC"},
        {"0001-01-01T00:00:00+09:00",
         "invalid date-time \"0001-01-01T00:00:00+09:00\": it falls outside the years 0001-9999 in UTC"},
        {"9999-12-31T23:00:00-01:00",
         "invalid date-time \"9999-12-31T23:00:00-01:00\": it falls outside the years 0001-9999 in UTC"},
    };
    for (const auto& [text, message] : cases) {
        auto parsed = parse_datetime(text, TimeZone::utc());
        INFO(text);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().message == message);
    }
}

TEST_CASE("format_iso8601 and parse_datetime round-trip", "[iso8601]") {
    for (const char* name :
         {"UTC", "America/New_York", "Asia/Kathmandu", "Pacific/Chatham", "Australia/Lord_Howe"}) {
        const TimeZone z = zone(name);
        for (Instant t = utc(2024, 1, 1); t < utc(2025, 1, 1);
             t += hours(7) + minutes(13) + microseconds(1001)) {
            const std::string text = format_iso8601(t, z);
            auto back = parse_datetime(text, TimeZone::utc());
            INFO(name << " " << text);
            REQUIRE(back.ok());
            CHECK(*back == t);
        }
    }
}

}  // namespace
}  // namespace mayaflow
