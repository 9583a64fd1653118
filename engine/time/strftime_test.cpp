#include "engine/time/strftime.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/time/iso8601.h"
#include "engine/time/time_test_helpers.h"

namespace mayaflow {
namespace {

using namespace time_test;

// Expected texts come from Python 3.11 on glibc: datetime(2024, 3, 5, 14, 7, 9, 12345,
// tzinfo=utc).strftime(f).
TEST_CASE("format_strftime gives what Python's strftime gives", "[strftime]") {
    const Instant t = at("2024-03-05T14:07:09.012345Z");
    const std::vector<std::pair<const char*, const char*>> cases = {
        {"%Y-%m-%d %H:%M:%S.%f", "2024-03-05 14:07:09.012345"},
        {"%z %Z", "+0000 UTC"},
        {"%j", "065"},
        {"%a %A %b %B", "Tue Tuesday Mar March"},
        {"%y", "24"},
        {"%I %p", "02 PM"},
        {"%%", "%"},
        {"%-d/%-m/%Y", "5/3/2024"},
        {"%e", " 5"},
        {"%0e", "05"},
        {"%-I", "2"},
        {"%_H", "14"},
        {"%^a", "TUE"},
        {"%#p", "pm"},
        {"%-j", "65"},
        {"%F %T", "2024-03-05 14:07:09"},
        {"%D", "03/05/24"},
        {"%R", "14:07"},
        {"%c", "Tue Mar  5 14:07:09 2024"},
        {"%x", "03/05/24"},
        {"%X", "14:07:09"},
        {"%s", "1709647629"},
        {"%w %u", "2 2"},
        {"%U %W %V %G %g", "09 10 10 2024 24"},
        {"%C", "20"},
        {"%h", "Mar"},
        {"%Q", "%Q"},
        {"abc%", "abc%"},
        {"%n%t", "\n\t"},
        {"ds=%Y%m%d/", "ds=20240305/"},
        {"", ""},
    };
    for (const auto& [format, expected] : cases) {
        INFO(format);
        CHECK(format_strftime(t, TimeZone::utc(), format) == expected);
    }
}

TEST_CASE("format_strftime reads the instant in the zone", "[strftime]") {
    const Instant t = at("2024-03-05T14:07:09Z");
    CHECK(format_strftime(t, zone("America/New_York"), "%H %z %Z") == "09 -0500 EST");
    CHECK(format_strftime(t, zone("Asia/Kathmandu"), "%H:%M %z %Z") == "19:52 +0545 +0545");
    CHECK(format_strftime(at("2024-07-05T14:07:09Z"), zone("America/New_York"), "%Z %z") == "EDT -0400");
    CHECK(format_strftime(at("2024-03-05T00:30:00Z"), TimeZone::utc(), "%I %p") == "12 AM");
    CHECK(format_strftime(at("2024-03-05T12:30:00Z"), TimeZone::utc(), "%I %p") == "12 PM");
}

TEST_CASE("format_strftime week numbers match Python at the edges of years", "[strftime]") {
    const std::vector<std::pair<const char*, const char*>> cases = {
        {"2024-01-01T00:00:00Z", "00 01 01 2024 001 Mon"}, {"2021-01-03T00:00:00Z", "01 00 53 2020 003 Sun"},
        {"2020-12-31T00:00:00Z", "52 52 53 2020 366 Thu"}, {"2027-01-01T00:00:00Z", "00 00 53 2026 001 Fri"},
        {"2024-12-30T00:00:00Z", "52 53 01 2025 365 Mon"},
    };
    for (const auto& [instant, expected] : cases) {
        INFO(instant);
        CHECK(format_strftime(at(instant), TimeZone::utc(), "%U %W %V %G %j %a") == expected);
    }
}

struct StrptimeCase {
    const char* text;
    const char* format;
    const char* expected;  // in UTC
};

// Expected values come from Python 3.11's datetime.strptime (naive results read as UTC).
TEST_CASE("parse_strptime reads what Python's strptime reads", "[strftime]") {
    const std::vector<StrptimeCase> cases = {
        {"2024-03-01", "%Y-%m-%d", "2024-03-01T00:00:00+00:00"},
        {"01/03/24", "%d/%m/%y", "2024-03-01T00:00:00+00:00"},
        {"1/3/69", "%d/%m/%y", "1969-03-01T00:00:00+00:00"},
        {"1/3/68", "%d/%m/%y", "2068-03-01T00:00:00+00:00"},
        {"20240301", "%Y%m%d", "2024-03-01T00:00:00+00:00"},
        {"2024311", "%Y%m%d", "2024-03-11T00:00:00+00:00"},
        {"2024-03-01T03:04:05.5", "%Y-%m-%dT%H:%M:%S.%f", "2024-03-01T03:04:05.500000+00:00"},
        {"2024-03-01 03:04:05+0900", "%Y-%m-%d %H:%M:%S%z", "2024-02-29T18:04:05+00:00"},
        {"2024-03-01 03:04:05+09:00", "%Y-%m-%d %H:%M:%S%z", "2024-02-29T18:04:05+00:00"},
        {"2024-03-01 03:04:05Z", "%Y-%m-%d %H:%M:%S%z", "2024-03-01T03:04:05+00:00"},
        {"2024-03-01 03:04:05-03:30", "%Y-%m-%d %H:%M:%S%z", "2024-03-01T06:34:05+00:00"},
        {"Tue, 05 Mar 2024 14:07:09 GMT", "%a, %d %b %Y %H:%M:%S %Z", "2024-03-05T14:07:09+00:00"},
        {"march 5 2024", "%B %d %Y", "2024-03-05T00:00:00+00:00"},
        {"mAr 2024", "%b %Y", "2024-03-01T00:00:00+00:00"},
        {"Monday 2024-03-04", "%A %Y-%m-%d", "2024-03-04T00:00:00+00:00"},
        {"2024 065", "%Y %j", "2024-03-05T00:00:00+00:00"},
        {"2023 366", "%Y %j", "2024-01-01T00:00:00+00:00"},
        {"12:30 AM", "%I:%M %p", "1900-01-01T00:30:00+00:00"},
        {"12:30 pm", "%I:%M %p", "1900-01-01T12:30:00+00:00"},
        {"3:30", "%I:%M", "1900-01-01T03:30:00+00:00"},
        {"2024-03-01   12", "%Y-%m-%d %H", "2024-03-01T12:00:00+00:00"},
        {"10%", "%d%%", "1900-01-10T00:00:00+00:00"},
        {" 5 3 2024", "%d %m %Y", "2024-03-05T00:00:00+00:00"},
        {"2024-03-01t12", "%Y-%m-%dT%H", "2024-03-01T12:00:00+00:00"},
    };
    for (const auto& c : cases) {
        INFO(c.text << " with " << c.format);
        auto parsed = parse_strptime(c.text, c.format, TimeZone::utc());
        REQUIRE(parsed.ok());
        CHECK(format_iso8601(*parsed, TimeZone::utc()) == c.expected);
    }
}

TEST_CASE("parse_strptime reads naive text in the given zone", "[strftime]") {
    auto parsed = parse_strptime("2024-03-01 09:00", "%Y-%m-%d %H:%M", zone("Asia/Tokyo"));
    REQUIRE(parsed.ok());
    CHECK(format_iso8601(*parsed, TimeZone::utc()) == "2024-03-01T00:00:00+00:00");
    auto in_overlap = parse_strptime("2024-11-03 01:30", "%Y-%m-%d %H:%M", zone("America/New_York"));
    REQUIRE(in_overlap.ok());
    CHECK(format_iso8601(*in_overlap, zone("America/New_York")) == "2024-11-03T01:30:00-05:00");
}

TEST_CASE("parse_strptime errors say where the text stops matching", "[strftime]") {
    const std::string supported = "%Y %m %d %H %M %S %f %z %Z %j %a %A %b %B %y %I %p %%";
    const std::vector<StrptimeCase> cases = {
        {"2024/03/01", "%Y-%m-%d",
         "cannot read \"2024/03/01\" with format \"%Y-%m-%d\": the text stops matching at character 5 "
         "(\"/03/01\")"},
        {"2024-03-01 12", "%Y-%m-%d",
         "cannot read \"2024-03-01 12\" with format \"%Y-%m-%d\": \" 12\" is left over after the format "
         "ends"},
        {"12:61", "%H:%M",
         "cannot read \"12:61\" with format \"%H:%M\": \"1\" is left over after the format ends"},
        {"2024-03", "%Y-%m-%d",
         "cannot read \"2024-03\" with format \"%Y-%m-%d\": the text ends before the format does"},
        {"2024-02-30", "%Y-%m-%d",
         "cannot read \"2024-02-30\" with format \"%Y-%m-%d\": day 30 is out of range for 2024-02"},
        {"2024-03-01 10:00:60", "%Y-%m-%d %H:%M:%S",
         "cannot read \"2024-03-01 10:00:60\" with format \"%Y-%m-%d %H:%M:%S\": second 60 is out of range "
         "0-59"},
        {"2024-03-01", "%Y-%q", nullptr},
        {"2024", "%Y%", "format \"%Y%\" ends with a lone %: write %% for a percent sign"},
        {"Fooday", "%A",
         "cannot read \"Fooday\" with format \"%A\": the text stops matching at character 1 (\"Fooday\")"},
    };
    for (const auto& c : cases) {
        INFO(c.text << " with " << c.format);
        auto parsed = parse_strptime(c.text, c.format, TimeZone::utc());
        REQUIRE_FALSE(parsed.ok());
        const std::string expected =
            c.expected ? c.expected
                       : "format \"" + std::string(c.format) +
                             "\": unsupported directive %q; supported directives are " + supported;
        CHECK(parsed.error().message == expected);
    }
}

TEST_CASE("ds_format: strptime then strftime converts a date between formats", "[strftime]") {
    // macros.ds_format("2024-03-05", "%Y-%m-%d", "%d/%m/%y") in Airflow gives "05/03/24".
    auto parsed = parse_strptime("2024-03-05", "%Y-%m-%d", TimeZone::utc());
    REQUIRE(parsed.ok());
    CHECK(format_strftime(*parsed, TimeZone::utc(), "%d/%m/%y") == "05/03/24");
    CHECK(format_strftime(*parsed, TimeZone::utc(), "%Y%m%d") == "20240305");
    CHECK(format_strftime(*parsed, TimeZone::utc(), "%A, %B %-d") == "Tuesday, March 5");
}

}  // namespace
}  // namespace mayaflow
