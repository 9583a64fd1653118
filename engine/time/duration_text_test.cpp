#include "engine/time/duration_text.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace mayaflow {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST_CASE("parse_duration reads units, bare seconds and ISO 8601", "[duration]") {
    const std::vector<std::pair<const char*, Duration>> cases = {
        {"90s", seconds(90)},
        {"5m", minutes(5)},
        {"1h30m", hours(1) + minutes(30)},
        {"2h", hours(2)},
        {"1d", days(1)},
        {"1w", days(7)},
        {"500ms", milliseconds(500)},
        {"250us", microseconds(250)},
        {"1d2h3m4s", days(1) + hours(2) + minutes(3) + seconds(4)},
        {"1w2d", days(9)},
        {"1s500ms", milliseconds(1500)},
        {"1h 30m", hours(1) + minutes(30)},
        {"  45m ", minutes(45)},
        {"300", seconds(300)},
        {"0", seconds(0)},
        {"0s", seconds(0)},
        {"PT15M", minutes(15)},
        {"P1DT2H", days(1) + hours(2)},
        {"P1D", days(1)},
        {"36500d", days(36500)},
        {"P36500D", days(36500)},
        {"3153600000", days(36500)},
        {"P2W", days(14)},
        {"PT1H30M", hours(1) + minutes(30)},
        {"PT0.5S", milliseconds(500)},
        {"PT1.000001S", microseconds(1000001)},
        {"pt10m", minutes(10)},
        {"P1DT0.25S", days(1) + milliseconds(250)},
        {"3153600000000000us", days(36500)},
    };
    for (const auto& [text, expected] : cases) {
        INFO(text);
        auto parsed = parse_duration(text);
        REQUIRE(parsed.ok());
        CHECK(*parsed == expected);
    }
}

TEST_CASE("parse_duration errors say what is wrong and list the forms", "[duration]") {
    const std::string forms =
        "use a whole number with a unit such as 90s, 5m, 1h30m, 2h, 1d, 1w or 500ms (units w, d, h, m, s, "
        "ms, us, "
        "largest first), a bare number of seconds such as 300, or ISO 8601 such as PT15M or P1DT2H";
    const std::string iso_forms = "ISO 8601 durations look like P1W, P1D, PT15M, P1DT2H30M or PT0.5S";
    const std::string too_large = "it is too large (the limit is 36500d, about 100 years)";
    const std::vector<std::pair<const char*, std::string>> cases = {
        {"", "duration is empty: " + forms},
        {"   ", "duration is empty: " + forms},
        {"-5m", "invalid duration \"-5m\": durations cannot be negative; " + forms},
        {"5x", "invalid duration \"5x\": unknown unit \"x\"; " + forms},
        {"5 minutes", "invalid duration \"5 minutes\": \"5\" needs a unit; " + forms},
        {"5minutes", "invalid duration \"5minutes\": unknown unit \"minutes\"; " + forms},
        {"5M",
         "invalid duration \"5M\": unknown unit \"M\" (months have no fixed length; use a cron schedule such "
         "as "
         "@monthly); " +
             forms},
        {"1.5h", "invalid duration \"1.5h\": use whole numbers of a unit (1h30m rather than 1.5h); " + forms},
        {"30m1h",
         "invalid duration \"30m1h\": units must go from largest to smallest, each once (w, d, h, m, s, ms, "
         "us); " +
             forms},
        {"1m30m",
         "invalid duration \"1m30m\": units must go from largest to smallest, each once (w, d, h, m, s, "
         "ms, us); " +
             forms},
        {"1h30", "invalid duration \"1h30\": \"30\" needs a unit; " + forms},
        {"h", "invalid duration \"h\": expected a number at \"h\"; " + forms},
        {"+5m", "invalid duration \"+5m\": expected a number at \"+5m\"; " + forms},
        {"99999999999999999999s", "invalid duration \"99999999999999999999s\": " + too_large},
        {"999999999w", "invalid duration \"999999999w\": " + too_large},
        {"106751990d", "invalid duration \"106751990d\": " + too_large},
        {"36501d", "invalid duration \"36501d\": " + too_large},
        {"36500d1us", "invalid duration \"36500d1us\": " + too_large},
        {"5215w", "invalid duration \"5215w\": " + too_large},
        {"3153600001", "invalid duration \"3153600001\": " + too_large},
        {"P36501D", "invalid duration \"P36501D\": " + too_large},
        {"PT876001H", "invalid duration \"PT876001H\": " + too_large},
        {"9223372036854775807us1",
         "invalid duration \"9223372036854775807us1\": \"1\" needs a unit; " + forms},
        {"P", "invalid duration \"P\": " + iso_forms},
        {"PT", "invalid duration \"PT\": " + iso_forms},
        {"P1H", "invalid duration \"P1H\": " + iso_forms},
        {"PT1D", "invalid duration \"PT1D\": " + iso_forms},
        {"P1DT", "invalid duration \"P1DT\": " + iso_forms},
        {"PT1M1H", "invalid duration \"PT1M1H\": " + iso_forms},
        {"PT1.5M", "invalid duration \"PT1.5M\": " + iso_forms},
        {"P1Y",
         "invalid duration \"P1Y\": years and months have no fixed length; use a cron schedule such as "
         "@monthly or @yearly, or count days (P30D)"},
        {"P1M",
         "invalid duration \"P1M\": years and months have no fixed length; use a cron schedule such as "
         "@monthly or @yearly, or count days (P30D)"},
    };
    for (const auto& [text, message] : cases) {
        INFO(text);
        auto parsed = parse_duration(text);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.error().message == message);
    }
}

TEST_CASE("format_duration writes the shortest text that reads back", "[duration]") {
    const std::vector<std::pair<Duration, const char*>> cases = {
        {seconds(0), "0s"},
        {seconds(90), "1m30s"},
        {hours(1) + minutes(30), "1h30m"},
        {days(1) + hours(2), "1d2h"},
        {days(14), "14d"},
        {milliseconds(500), "500ms"},
        {milliseconds(1500), "1s500ms"},
        {microseconds(1001), "1ms1us"},
        {-minutes(5), "-5m"},
        {Duration::min(), "-106751991d4h54s775ms808us"},
    };
    for (const auto& [duration, expected] : cases) {
        INFO(expected);
        CHECK(format_duration(duration) == expected);
    }
    for (Duration d : std::vector<Duration>{seconds(1), minutes(61), days(400) + microseconds(7), hours(25),
                                            days(36500)}) {
        auto back = parse_duration(format_duration(d));
        INFO(format_duration(d));
        REQUIRE(back.ok());
        CHECK(*back == d);
    }
}

}  // namespace
}  // namespace mayaflow
