#include "engine/time/time_zone.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/time/iso8601.h"
#include "engine/time/time_test_helpers.h"

namespace mayaflow {
namespace {

using namespace time_test;

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST_CASE("TimeZone::find accepts IANA names and UTC", "[time_zone]") {
    for (const char* name : {"UTC", "utc", "Etc/UTC"}) {
        INFO(name);
        const TimeZone z = zone(name);
        CHECK(z.is_utc());
        CHECK(z.name() == "UTC");
        CHECK(z == TimeZone::utc());
    }
    CHECK(zone("Asia/Tokyo").name() == "Asia/Tokyo");
    CHECK_FALSE(zone("Asia/Tokyo").is_utc());
    CHECK(zone("US/Eastern").offset_at(at("2024-01-15T12:00:00Z")) == hours(-5));  // a link
    CHECK_FALSE(zone("Asia/Tokyo") == zone("Asia/Seoul"));
}

TEST_CASE("TimeZone::find errors name the zone and suggest a real one", "[time_zone]") {
    const std::vector<std::pair<const char*, const char*>> cases = {
        {"Asia/Tokio",
         "unknown time zone \"Asia/Tokio\": use an IANA name such as \"Asia/Tokyo\" or \"UTC\""},
        {"Europe/Berln",
         "unknown time zone \"Europe/Berln\": use an IANA name such as \"Europe/Berlin\" or \"UTC\""},
        {"america/new_york",
         "unknown time zone \"america/new_york\": use an IANA name such as \"America/New_York\" or \"UTC\""},
        {"New York",
         "unknown time zone \"New York\": use an IANA name such as \"America/New_York\" or \"UTC\""},
        {"Kolkata", "unknown time zone \"Kolkata\": use an IANA name such as \"Asia/Kolkata\" or \"UTC\""},
        {"Nowhere/Atlantis_Deep",
         "unknown time zone \"Nowhere/Atlantis_Deep\": use an IANA name such as \"Asia/Tokyo\" or \"UTC\""},
        {"", "time zone name is empty: use an IANA name such as \"Asia/Tokyo\" or \"UTC\""},
    };
    for (const auto& [name, message] : cases) {
        auto found = TimeZone::find(name);
        INFO(name);
        REQUIRE_FALSE(found.ok());
        CHECK(found.error().message == message);
    }
}

struct OffsetCase {
    const char* zone;
    const char* instant;
    int offset_minutes;
    const char* abbreviation;
};

TEST_CASE("TimeZone offsets and abbreviations, through 2037 and after it", "[time_zone]") {
    const std::vector<OffsetCase> cases = {
        {"UTC", "2024-07-15T12:00:00Z", 0, "UTC"},
        {"America/New_York", "2024-01-15T12:00:00Z", -300, "EST"},
        {"America/New_York", "2024-07-15T12:00:00Z", -240, "EDT"},
        {"Europe/London", "2024-01-15T12:00:00Z", 0, "GMT"},
        {"Europe/London", "2024-07-15T12:00:00Z", 60, "BST"},
        {"Europe/Berlin", "2024-01-15T12:00:00Z", 60, "CET"},
        {"Europe/Berlin", "2024-07-15T12:00:00Z", 120, "CEST"},
        {"Australia/Sydney", "2024-01-15T12:00:00Z", 660, "AEDT"},
        {"Australia/Sydney", "2024-07-15T12:00:00Z", 600, "AEST"},
        {"Asia/Kolkata", "2024-07-15T12:00:00Z", 330, "IST"},
        {"Asia/Kathmandu", "2024-07-15T12:00:00Z", 345, "+0545"},
        {"America/St_Johns", "2024-01-15T12:00:00Z", -210, "NST"},
        {"America/St_Johns", "2024-07-15T12:00:00Z", -150, "NDT"},
        {"Pacific/Chatham", "2024-01-15T12:00:00Z", 825, "+1345"},
        {"Pacific/Chatham", "2024-07-15T12:00:00Z", 765, "+1245"},
        {"Australia/Lord_Howe", "2024-01-15T12:00:00Z", 660, "+11"},
        {"Australia/Lord_Howe", "2024-07-15T12:00:00Z", 630, "+1030"},
        {"America/Santiago", "2024-01-15T12:00:00Z", -180, "-03"},
        {"America/Santiago", "2024-07-15T12:00:00Z", -240, "-04"},
        // The transition instants themselves belong to the new offset.
        {"America/New_York", "2024-03-10T06:59:59Z", -300, "EST"},
        {"America/New_York", "2024-03-10T07:00:00Z", -240, "EDT"},
        {"America/New_York", "2024-11-03T05:59:59Z", -240, "EDT"},
        {"America/New_York", "2024-11-03T06:00:00Z", -300, "EST"},
        // After the transitions the TZif files list (2037), the footer rule keeps the clocks changing.
        {"America/New_York", "2040-07-15T12:00:00Z", -240, "EDT"},
        {"America/New_York", "2100-07-15T12:00:00Z", -240, "EDT"},
        {"America/New_York", "2100-01-15T12:00:00Z", -300, "EST"},
        {"America/New_York", "2040-03-11T07:00:00Z", -240, "EDT"},
        {"America/New_York", "2040-03-11T06:59:59Z", -300, "EST"},
        {"Australia/Sydney", "2050-01-15T12:00:00Z", 660, "AEDT"},
        {"Pacific/Chatham", "2060-01-15T12:00:00Z", 825, "+1345"},
        {"America/Santiago", "2045-01-15T12:00:00Z", -180, "-03"},
        {"Europe/Dublin", "2050-07-01T12:00:00Z", 60, "IST"},
        {"Europe/Dublin", "2050-01-01T12:00:00Z", 0, "GMT"},
    };
    for (const auto& c : cases) {
        INFO(c.zone << " at " << c.instant);
        const TimeZone z = zone(c.zone);
        CHECK(z.offset_at(at(c.instant)) == minutes(c.offset_minutes));
        CHECK(z.abbreviation_at(at(c.instant)) == c.abbreviation);
        CHECK(z.to_local(at(c.instant)) ==
              LocalTime{at(c.instant).time_since_epoch() + minutes(c.offset_minutes)});
    }
}

struct ResolveCase {
    const char* zone;
    const char* wall;
    LocalTimeResolution::Kind kind;
    const char* earlier;  // UTC
    const char* later;    // UTC
    int gap_minutes;
};

TEST_CASE("TimeZone::resolve says how a wall-clock time falls around DST changes", "[time_zone][dst]") {
    using Kind = LocalTimeResolution::Kind;
    const std::vector<ResolveCase> cases = {
        {"UTC", "2024-03-10 02:30", Kind::unique, "2024-03-10T02:30:00Z", "2024-03-10T02:30:00Z", 0},
        {"America/New_York", "2024-03-10 01:59:59", Kind::unique, "2024-03-10T06:59:59Z",
         "2024-03-10T06:59:59Z", 0},
        {"America/New_York", "2024-03-10 02:00", Kind::nonexistent, "2024-03-10T07:00:00Z",
         "2024-03-10T07:00:00Z", 60},
        {"America/New_York", "2024-03-10 02:30", Kind::nonexistent, "2024-03-10T07:00:00Z",
         "2024-03-10T07:00:00Z", 60},
        {"America/New_York", "2024-03-10 03:00", Kind::unique, "2024-03-10T07:00:00Z", "2024-03-10T07:00:00Z",
         0},
        {"America/New_York", "2024-11-03 00:59", Kind::unique, "2024-11-03T04:59:00Z", "2024-11-03T04:59:00Z",
         0},
        {"America/New_York", "2024-11-03 01:00", Kind::ambiguous, "2024-11-03T05:00:00Z",
         "2024-11-03T06:00:00Z", 0},
        {"America/New_York", "2024-11-03 01:30", Kind::ambiguous, "2024-11-03T05:30:00Z",
         "2024-11-03T06:30:00Z", 0},
        {"America/New_York", "2024-11-03 02:00", Kind::unique, "2024-11-03T07:00:00Z", "2024-11-03T07:00:00Z",
         0},
        {"Europe/London", "2024-03-31 01:30", Kind::nonexistent, "2024-03-31T01:00:00Z",
         "2024-03-31T01:00:00Z", 60},
        {"Europe/London", "2024-10-27 01:30", Kind::ambiguous, "2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z",
         0},
        {"Europe/Berlin", "2024-03-31 02:30", Kind::nonexistent, "2024-03-31T01:00:00Z",
         "2024-03-31T01:00:00Z", 60},
        {"Europe/Berlin", "2024-10-27 02:30", Kind::ambiguous, "2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z",
         0},
        {"Australia/Sydney", "2024-10-06 02:30", Kind::nonexistent, "2024-10-05T16:00:00Z",
         "2024-10-05T16:00:00Z", 60},
        {"Australia/Sydney", "2024-04-07 02:30", Kind::ambiguous, "2024-04-06T15:30:00Z",
         "2024-04-06T16:30:00Z", 0},
        {"America/St_Johns", "2024-03-10 02:30", Kind::nonexistent, "2024-03-10T05:30:00Z",
         "2024-03-10T05:30:00Z", 60},
        {"America/St_Johns", "2024-11-03 01:30", Kind::ambiguous, "2024-11-03T04:00:00Z",
         "2024-11-03T05:00:00Z", 0},
        {"Pacific/Chatham", "2024-09-29 03:00", Kind::nonexistent, "2024-09-28T14:00:00Z",
         "2024-09-28T14:00:00Z", 60},
        {"Pacific/Chatham", "2024-04-07 03:00", Kind::ambiguous, "2024-04-06T13:15:00Z",
         "2024-04-06T14:15:00Z", 0},
        {"Australia/Lord_Howe", "2024-10-06 02:15", Kind::nonexistent, "2024-10-05T15:30:00Z",
         "2024-10-05T15:30:00Z", 30},
        {"Australia/Lord_Howe", "2024-04-07 01:45", Kind::ambiguous, "2024-04-06T14:45:00Z",
         "2024-04-06T15:15:00Z", 0},
        {"America/Santiago", "2024-09-08 00:30", Kind::nonexistent, "2024-09-08T04:00:00Z",
         "2024-09-08T04:00:00Z", 60},
        {"America/Santiago", "2024-04-06 23:30", Kind::ambiguous, "2024-04-07T02:30:00Z",
         "2024-04-07T03:30:00Z", 0},
        {"Asia/Kathmandu", "2024-03-10 02:30", Kind::unique, "2024-03-09T20:45:00Z", "2024-03-09T20:45:00Z",
         0},
        // After 2037: the footer rule.
        {"America/New_York", "2040-03-11 02:30", Kind::nonexistent, "2040-03-11T07:00:00Z",
         "2040-03-11T07:00:00Z", 60},
        {"America/New_York", "2040-11-04 01:30", Kind::ambiguous, "2040-11-04T05:30:00Z",
         "2040-11-04T06:30:00Z", 0},
        {"America/New_York", "2040-07-04 12:00", Kind::unique, "2040-07-04T16:00:00Z", "2040-07-04T16:00:00Z",
         0},
        {"Australia/Lord_Howe", "2050-10-02 02:15", Kind::nonexistent, "2050-10-01T15:30:00Z",
         "2050-10-01T15:30:00Z", 30},
    };
    for (const auto& c : cases) {
        INFO(c.zone << " " << c.wall);
        const auto r = zone(c.zone).resolve(wall(c.wall));
        CHECK(r.kind == c.kind);
        CHECK(format_iso8601(r.earlier, TimeZone::utc()) == format_iso8601(at(c.earlier), TimeZone::utc()));
        CHECK(format_iso8601(r.later, TimeZone::utc()) == format_iso8601(at(c.later), TimeZone::utc()));
        CHECK(r.gap == minutes(c.gap_minutes));
    }
}

struct FromLocalCase {
    const char* zone;
    const char* wall;
    const char* first;  // prefer_later = false
    const char* later;  // prefer_later = true
};

TEST_CASE("TimeZone::from_local moves gap times forward and picks a side of an overlap", "[time_zone][dst]") {
    const std::vector<FromLocalCase> cases = {
        {"America/New_York", "2024-03-10 02:30", "2024-03-10T03:30:00-04:00", "2024-03-10T03:30:00-04:00"},
        {"America/New_York", "2024-11-03 01:30", "2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00"},
        {"America/New_York", "2024-07-04 12:00", "2024-07-04T12:00:00-04:00", "2024-07-04T12:00:00-04:00"},
        {"Europe/Berlin", "2024-03-31 02:00", "2024-03-31T03:00:00+02:00", "2024-03-31T03:00:00+02:00"},
        {"Australia/Sydney", "2024-04-07 02:00", "2024-04-07T02:00:00+11:00", "2024-04-07T02:00:00+10:00"},
        {"Pacific/Chatham", "2024-09-29 03:00", "2024-09-29T04:00:00+13:45", "2024-09-29T04:00:00+13:45"},
        {"Australia/Lord_Howe", "2024-10-06 02:15", "2024-10-06T02:45:00+11:00", "2024-10-06T02:45:00+11:00"},
        {"America/Santiago", "2024-09-08 00:00", "2024-09-08T01:00:00-03:00", "2024-09-08T01:00:00-03:00"},
        {"America/New_York", "2040-03-11 02:30", "2040-03-11T03:30:00-04:00", "2040-03-11T03:30:00-04:00"},
        {"America/New_York", "2040-11-04 01:30", "2040-11-04T01:30:00-04:00", "2040-11-04T01:30:00-05:00"},
        {"UTC", "2024-03-10 02:30:00.25", "2024-03-10T02:30:00.250000+00:00",
         "2024-03-10T02:30:00.250000+00:00"},
    };
    for (const auto& c : cases) {
        INFO(c.zone << " " << c.wall);
        const TimeZone z = zone(c.zone);
        CHECK(format_iso8601(z.from_local(wall(c.wall)), z) == c.first);
        CHECK(format_iso8601(z.from_local(wall(c.wall), /*prefer_later=*/true), z) == c.later);
    }
}

TEST_CASE("TimeZone round trip: an instant's wall-clock reading leads back to it", "[time_zone][dst]") {
    for (const char* name : {"America/New_York", "Europe/London", "Australia/Sydney", "Pacific/Chatham",
                             "Australia/Lord_Howe", "America/Santiago", "Asia/Kathmandu"}) {
        const TimeZone z = zone(name);
        for (const char* year_start : {"2024-01-01T00:00:00Z", "2041-01-01T00:00:00Z"}) {
            const Instant begin = at(year_start);
            for (Instant t = begin; t < begin + hours(24 * 366); t += minutes(37)) {
                const auto r = z.resolve(z.to_local(t));
                INFO(name << " at " << format_iso8601(t, TimeZone::utc()));
                REQUIRE(r.kind != LocalTimeResolution::Kind::nonexistent);
                CHECK((r.earlier == t || r.later == t));
                CHECK(z.from_local(z.to_local(t), r.later == t) == t);
            }
        }
    }
}

}  // namespace
}  // namespace mayaflow
