#pragma once
// Helpers the engine/time tests share: instants, zones, schedules and cron expressions from text that
// must be valid (a bad one fails the test where it is written), and fire-time lists as ISO strings.

#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "engine/time/cron.h"
#include "engine/time/iso8601.h"
#include "engine/time/schedule.h"
#include "engine/time/time_zone.h"

namespace mayaflow::time_test {

// An instant written as an ISO date-time; naive text is UTC.
inline Instant at(std::string_view iso) {
    auto parsed = parse_datetime(iso, TimeZone::utc());
    INFO(iso << ": " << (parsed.ok() ? "" : parsed.error().message));
    REQUIRE(parsed.ok());
    return *parsed;
}

// A wall-clock time written like a naive date-time: "2024-03-10 02:30".
inline LocalTime wall(std::string_view text) {
    return LocalTime{at(text).time_since_epoch()};
}

inline TimeZone zone(std::string_view name) {
    auto found = TimeZone::find(name);
    INFO(name << ": " << (found.ok() ? "" : found.error().message));
    REQUIRE(found.ok());
    return *found;
}

inline CronExpression cron(std::string_view text) {
    auto parsed = CronExpression::parse(text);
    INFO(text << ": " << (parsed.ok() ? "" : parsed.error().message));
    REQUIRE(parsed.ok());
    return *parsed;
}

inline Schedule schedule(std::string_view text) {
    auto parsed = Schedule::parse(text);
    INFO(text << ": " << (parsed.ok() ? "" : parsed.error().message));
    REQUIRE(parsed.ok());
    return *parsed;
}

// The next `count` fire times after `from`, printed in the zone.
inline std::vector<std::string> next_fires(const CronExpression& c, const TimeZone& z, Instant from,
                                           size_t count) {
    std::vector<std::string> out;
    for (size_t i = 0; i < count; ++i) {
        auto fire = c.next_after(from, z);
        if (!fire) break;
        out.push_back(format_iso8601(*fire, z));
        from = *fire;
    }
    return out;
}

// The `count` fire times before `from`, latest first, printed in the zone.
inline std::vector<std::string> previous_fires(const CronExpression& c, const TimeZone& z, Instant from,
                                               size_t count) {
    std::vector<std::string> out;
    for (size_t i = 0; i < count; ++i) {
        auto fire = c.previous_before(from, z);
        if (!fire) break;
        out.push_back(format_iso8601(*fire, z));
        from = *fire;
    }
    return out;
}

}  // namespace mayaflow::time_test
