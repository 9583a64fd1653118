// Cron expressions and schedules (a DAG's `schedule:`): parse, then search fire times forward and back
// in UTC and in zones with DST changes, checking the answers are where they must be.

#include <array>
#include <string>

#include "engine/time/cron.h"
#include "engine/time/cron_reading.h"
#include "engine/time/schedule.h"
#include "fuzz/fuzz_support.h"

using namespace mayaflow;

namespace {

const std::array<TimeZone, 3>& zones() {
    static const std::array<TimeZone, 3> zones = {TimeZone::utc(), TimeZone::find("America/New_York").value(),
                                                  TimeZone::find("Australia/Lord_Howe").value()};
    return zones;
}

void search(const CronExpression& cron) {
    // 2024-03-10 06:59:30 UTC: a minute before New York's spring-forward gap.
    const Instant start{std::chrono::seconds(1710053970)};
    for (const auto& zone : zones()) {
        Instant at = start;
        for (int i = 0; i < 4; ++i) {
            auto next = cron.next_after(at, zone);
            if (!next) break;
            FUZZ_CHECK(*next > at);
            at = *next;
        }
        at = start;
        for (int i = 0; i < 4; ++i) {
            auto previous = cron.previous_before(at, zone);
            if (!previous) break;
            FUZZ_CHECK(*previous < at);
            at = *previous;
        }
    }
    auto local = zones()[0].to_local(start);
    if (auto next = cron.next_match(local)) {
        FUZZ_CHECK(*next > local);
        FUZZ_CHECK(cron.matches(*next));
    }
    if (auto previous = cron.previous_match(local)) {
        FUZZ_CHECK(*previous < local);
        FUZZ_CHECK(cron.matches(*previous));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text = fuzz::as_text(data, size);
    (void)cron_step_warning(text);
    (void)cron_day_fields_warning(text);
    if (auto cron = CronExpression::parse(text)) {
        search(*cron);
        // The text it keeps parses to the same expression.
        auto again = CronExpression::parse(cron->text());
        FUZZ_CHECK(again && *again == *cron);
    }
    if (auto schedule = Schedule::parse(text); schedule && schedule->kind() == Schedule::Kind::interval) {
        FUZZ_CHECK(schedule->interval() >= kMinScheduleInterval);
    }
    return 0;
}
