#include "engine/time/cron.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <stdexcept>

#include "engine/time/civil_time.h"

namespace mayaflow {

namespace {

// parse() guarantees a match in every 400 years; a search takes a step per month, day or hour it skips,
// so this many steps means a bug, not a rare expression.
constexpr int kMaxSearchSteps = 2'000'000;
// The wall-clock loops in next_after/previous_before move at least a minute a pass and end within a
// DST change's length.
constexpr int kMaxDstPasses = 10'000;
constexpr int kFirstYear = 1;
constexpr int kLastYear = 9999;

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

unsigned lowest_bit(std::uint64_t bits) {
    return static_cast<unsigned>(std::countr_zero(bits));
}
unsigned highest_bit(std::uint64_t bits) {
    return 63u - static_cast<unsigned>(std::countl_zero(bits));
}

// Bits at positions >= from (from <= 63).
std::uint64_t at_or_above(std::uint64_t bits, unsigned from) {
    return bits & (~std::uint64_t{0} << from);
}
// Bits at positions <= to (to <= 62).
std::uint64_t at_or_below(std::uint64_t bits, unsigned to) {
    return bits & ((std::uint64_t{2} << to) - 1);
}

// A wall-clock minute being moved through the calendar by a search.
struct Cursor {
    int year;
    unsigned month, day, hour, minute;

    void next_month() {
        if (++month == 13) {
            month = 1;
            ++year;
        }
        day = 1;
        hour = 0;
        minute = 0;
    }
    void previous_month() {
        if (--month == 0) {
            month = 12;
            --year;
        }
        day = days_in_month(year, month);
        hour = 23;
        minute = 59;
    }
    void next_day() {
        if (day == days_in_month(year, month)) return next_month();
        ++day;
        hour = 0;
        minute = 0;
    }
    void previous_day() {
        if (day == 1) return previous_month();
        --day;
        hour = 23;
        minute = 59;
    }
    LocalTime local() const {
        CivilTime c;
        c.year = year;
        c.month = month;
        c.day = day;
        c.hour = hour;
        c.minute = minute;
        return c.to_local();
    }
};

Cursor cursor_at(LocalTime local) {
    const CivilTime c = CivilTime::from(local);
    return Cursor{c.year, c.month, c.day, c.hour, c.minute};
}

[[noreturn]] void search_failed(const std::string& text) {
    throw std::logic_error("cron \"" + text + "\": fire-time search did not end; this is a bug in mayaflow");
}

}  // namespace

Result<CronExpression> CronExpression::parse(std::string_view text) {
    const std::string_view trimmed = trim(text);
    auto fields = parse_cron_fields(trimmed);
    if (!fields.ok()) return fields.error();
    return CronExpression(std::string(trimmed), *fields);
}

std::uint32_t CronExpression::matching_days(int year, unsigned month) const {
    CivilTime first;
    first.year = year;
    first.month = month;
    return fields_.matching_days(days_in_month(year, month), first.weekday());
}

bool CronExpression::matches(LocalTime local) const {
    const CivilTime c = CivilTime::from(local);
    return (fields_.months & (1u << c.month)) && (matching_days(c.year, c.month) & (1u << c.day)) &&
           (fields_.hours & (1u << c.hour)) && (fields_.minutes & (std::uint64_t{1} << c.minute));
}

std::optional<LocalTime> CronExpression::next_match(LocalTime local) const {
    using namespace std::chrono;
    Cursor at = cursor_at(floor<minutes>(local) + minutes{1});
    for (int step = 0; step < kMaxSearchSteps; ++step) {
        if (at.year > kLastYear) return std::nullopt;
        if (!(fields_.months & (1u << at.month))) {
            at.next_month();
            continue;
        }
        const std::uint64_t days = at_or_above(matching_days(at.year, at.month), at.day);
        if (days == 0) {
            at.next_month();
            continue;
        }
        if (const unsigned day = lowest_bit(days); day != at.day) {
            at.day = day;
            at.hour = 0;
            at.minute = 0;
        }
        const std::uint64_t hours = at_or_above(fields_.hours, at.hour);
        if (hours == 0) {
            at.next_day();
            continue;
        }
        if (const unsigned hour = lowest_bit(hours); hour != at.hour) {
            at.hour = hour;
            at.minute = 0;
        }
        const std::uint64_t mins = at_or_above(fields_.minutes, at.minute);
        if (mins == 0) {
            if (at.hour == 23) {
                at.next_day();
            } else {
                ++at.hour;
                at.minute = 0;
            }
            continue;
        }
        at.minute = lowest_bit(mins);
        return at.local();
    }
    search_failed(text_);
}

std::optional<LocalTime> CronExpression::previous_match(LocalTime local) const {
    using namespace std::chrono;
    Cursor at = cursor_at(ceil<minutes>(local) - minutes{1});
    for (int step = 0; step < kMaxSearchSteps; ++step) {
        if (at.year < kFirstYear) return std::nullopt;
        if (!(fields_.months & (1u << at.month))) {
            at.previous_month();
            continue;
        }
        const std::uint64_t days = at_or_below(matching_days(at.year, at.month), at.day);
        if (days == 0) {
            at.previous_month();
            continue;
        }
        if (const unsigned day = highest_bit(days); day != at.day) {
            at.day = day;
            at.hour = 23;
            at.minute = 59;
        }
        const std::uint64_t hours = at_or_below(fields_.hours, at.hour);
        if (hours == 0) {
            at.previous_day();
            continue;
        }
        if (const unsigned hour = highest_bit(hours); hour != at.hour) {
            at.hour = hour;
            at.minute = 59;
        }
        const std::uint64_t mins = at_or_below(fields_.minutes, at.minute);
        if (mins == 0) {
            if (at.hour == 0) {
                at.previous_day();
            } else {
                --at.hour;
                at.minute = 59;
            }
            continue;
        }
        at.minute = highest_bit(mins);
        return at.local();
    }
    search_failed(text_);
}

std::optional<Instant> CronExpression::next_after(Instant instant, const TimeZone& zone) const {
    if (instant >= kLatestSupportedInstant) return std::nullopt;
    const Instant from = std::max(instant, kEarliestSupportedInstant);
    const LocalTime local = zone.to_local(from);
    if (covers_every_hour()) {
        const auto match = next_match(local);
        if (!match) return std::nullopt;
        return from + (*match - local);
    }
    std::optional<LocalTime> candidate = local;
    for (int pass = 0; pass < kMaxDstPasses; ++pass) {
        candidate = next_match(*candidate);
        if (!candidate) return std::nullopt;
        // Airflow's make_aware sets fold=1: the later of two readings of an ambiguous wall time.
        const Instant fire = zone.from_local(*candidate, /*prefer_later=*/true);
        if (fire > instant) return fire;
    }
    search_failed(text_);
}

std::optional<Instant> CronExpression::previous_before(Instant instant, const TimeZone& zone) const {
    if (instant <= kEarliestSupportedInstant) return std::nullopt;
    const Instant from = std::min(instant, kLatestSupportedInstant);
    const LocalTime local = zone.to_local(from);
    if (covers_every_hour()) {
        const auto match = previous_match(local);
        if (!match) return std::nullopt;
        return from - (local - *match);
    }
    std::optional<LocalTime> candidate = local;
    for (int pass = 0; pass < kMaxDstPasses; ++pass) {
        candidate = previous_match(*candidate);
        if (!candidate) return std::nullopt;
        const Instant fire = zone.from_local(*candidate, /*prefer_later=*/true);
        // Airflow can return a time after `instant` here (a wall time read as its later occurrence, or
        // moved forward out of a gap); such a time is not before it, so the search goes on.
        if (fire < instant) return fire;
    }
    search_failed(text_);
}

}  // namespace mayaflow
