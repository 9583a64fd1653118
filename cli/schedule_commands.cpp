// `mayaflow schedule preview`: when a schedule expression fires, in a time zone.

#include <fmt/format.h>

#include <iostream>

#include "cli/cli_dates.h"
#include "cli/cli_support.h"
#include "engine/time/cron.h"
#include "engine/time/iso8601.h"
#include "engine/time/schedule.h"
#include "engine/util/utf8.h"

namespace mayaflow::cli {
namespace {

void preview(const std::string& expression, const std::string& zone_name, const std::optional<std::string>& from,
             int count) {
    for (const auto& [what, text] : {std::pair{"the schedule", &expression}, std::pair{"--timezone", &zone_name}}) {
        if (auto bad = first_invalid_utf8(*text)) {
            throw CommandFailed{fmt::format("{} is not UTF-8 text (byte 0x{:02x} at offset {})", what,
                                            static_cast<unsigned char>((*text)[*bad]), *bad),
                                2};
        }
    }
    auto zone = TimeZone::find(zone_name);
    if (!zone) throw CommandFailed{zone.error().message};
    auto schedule = Schedule::parse(expression);
    if (!schedule) throw CommandFailed{schedule.error().message};
    Instant start = now_instant();
    if (from) start = read_cli_date(*from, "--from", *zone);
    int printed = 0;
    switch (schedule->kind()) {
        case Schedule::Kind::none:
        case Schedule::Kind::once:
            throw CommandFailed{fmt::format("'{}' has no repeating fire times to preview", expression)};
        case Schedule::Kind::cron: {
            Instant current = start;
            for (int i = 0; i < count; ++i) {
                auto next = schedule->cron().next_after(current, *zone);
                if (!next || year_of(*next) > kLastYear) break;
                current = *next;
                std::cout << format_iso8601(current, *zone) << "\n";
                ++printed;
            }
            break;
        }
        case Schedule::Kind::interval: {
            Instant current = start;
            for (int i = 0; i < count; ++i) {
                current += schedule->interval();
                if (year_of(current) > kLastYear) break;
                std::cout << format_iso8601(current, *zone) << "\n";
                ++printed;
            }
            break;
        }
    }
    if (printed == 0) {
        throw CommandFailed{fmt::format("'{}' does not fire after {} (mayaflow's dates end with {}-12-31)", expression,
                                        format_iso8601(start, *zone), kLastYear)};
    }
    if (printed < count) {
        std::cerr << fmt::format("note: only {} of {} fire times come before the end of {}\n", printed, count, kLastYear);
    }
}

}  // namespace

void register_schedule_commands(CLI::App& app) {
    auto* schedule = app.add_subcommand("schedule", "Work with schedule expressions");
    schedule->require_subcommand(1);
    static std::string expression;
    static std::string zone = "UTC";
    static std::optional<std::string> from;
    static int count = 10;
    auto* command = schedule->add_subcommand(
        "preview", "Print the next fire times of a cron expression, preset or interval (one ISO-8601 time per line)");
    command->add_option("expression", expression, "e.g. \"0 3 * * MON-FRI\", @daily or 30m")->required();
    command->add_option("--timezone,--tz", zone, "IANA time zone, e.g. Asia/Tokyo (default UTC)");
    command->add_option("--from", from, "Start after this time (default: now); without an offset it is in --timezone");
    command->add_option("--count,-n", count, "How many fire times")->check(CLI::Range(1, 100000));
    command->callback([] { preview(expression, zone, from, count); });
}

}  // namespace mayaflow::cli
