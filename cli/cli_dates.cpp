#include "cli/cli_dates.h"

#include <fmt/format.h>

#include <iostream>

#include "cli/cli_support.h"
#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow::cli {
int year_of(Instant instant) {
    auto days = std::chrono::floor<std::chrono::days>(instant);
    return static_cast<int>(std::chrono::year_month_day(std::chrono::sys_days(days)).year());
}

Instant read_cli_date(std::string_view text, std::string_view what, const TimeZone& zone) {
    if (!is_valid_utf8(text)) {
        throw CommandFailed{fmt::format("{}: '{}' is not a date (it is not UTF-8 text)", what, escape_invalid_utf8(text)), 2};
    }
    auto instant = parse_datetime(text, zone);
    if (!instant) throw CommandFailed{fmt::format("{}: {}", what, instant.error().message), 2};
    int year = year_of(*instant);
    if (year < kFirstYear || year > kLastYear) {
        throw CommandFailed{fmt::format("{}: {} is out of range: give a date from {}-01-01 to {}-12-31", what,
                                        quote_for_message(text), kFirstYear, kLastYear),
                            2};
    }
    return *instant;
}

TimeZone recorded_time_zone(const std::string& dag_id) {
    auto settings = settings_or_fail();
    if (!std::filesystem::exists(settings.database)) return TimeZone::utc();
    auto store = open_store_or_fail(settings, true);
    auto record = store->find_dag(dag_id);
    if (!record || !*record) return TimeZone::utc();
    auto zone = TimeZone::find((*record)->timezone);
    return zone ? *zone : TimeZone::utc();
}

void echo_resolved_date(std::string_view what, std::string_view text, Instant instant, const TimeZone& zone) {
    std::cerr << fmt::format("{} {} → {} ({}) = {}\n", what, text, format_iso8601(instant, zone), zone.name(),
                             format_iso8601(instant, TimeZone::utc()));
}

}  // namespace mayaflow::cli
