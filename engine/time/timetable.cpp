#include "engine/time/timetable.h"

#include <algorithm>

namespace mayaflow {

namespace {

using OptionalInstant = std::optional<Instant>;

// An interval schedule's step, kept inside the years a fire-time search covers.
OptionalInstant shifted(Instant t, Duration by) {
    if (by > Duration::zero() ? t > kLatestSupportedInstant - by : t < kEarliestSupportedInstant - by) {
        return std::nullopt;
    }
    return t + by;
}

// The moves Airflow's _DataIntervalTimetable is written in, for a cron or an interval schedule. nullopt
// means the schedule has no such time within years 0001-9999.
class IntervalSteps {
  public:
    IntervalSteps(const Schedule& schedule, const TimeZone& zone) : schedule_(schedule), zone_(zone) {}

    bool is_cron() const { return schedule_.kind() == Schedule::Kind::cron; }

    OptionalInstant next(Instant t) const {
        return is_cron() ? schedule_.cron().next_after(t, zone_) : shifted(t, schedule_.interval());
    }
    OptionalInstant previous(Instant t) const {
        return is_cron() ? schedule_.cron().previous_before(t, zone_) : shifted(t, -schedule_.interval());
    }

    // `t` if it is a fire time, else the next fire time. An interval schedule has no grid: `t` itself.
    OptionalInstant align_to_next(Instant t) const {
        if (!is_cron()) return t;
        const OptionalInstant n = next(t);
        if (!n) return std::nullopt;
        return previous(*n) != t ? *n : t;
    }
    // `t` if it is a fire time, else the previous one; not previous(align_to_next(t)), so that after a
    // schedule change the first interval starts on the new schedule's grid.
    OptionalInstant align_to_prev(Instant t) const {
        if (!is_cron()) return t;
        const OptionalInstant p = previous(t);
        if (!p) return std::nullopt;
        return next(*p) != t ? *p : t;
    }

    // With catchup off: the start of the latest interval that has ended by `now` (for a cron schedule,
    // the one ending exactly at `now` counts), but not before the start date.
    OptionalInstant skip_to_latest(OptionalInstant earliest, Instant now) const {
        OptionalInstant start;
        if (!is_cron()) {
            start = shifted(now, -schedule_.interval());
            if (!earliest) return start;
            return start ? std::max(*start, *earliest) : *earliest;
        }
        const OptionalInstant last_start = previous(now);
        const OptionalInstant next_start = last_start ? next(*last_start) : std::nullopt;
        // Airflow asserts next_start >= now; <= gives the same answers without the assertion.
        if (last_start && next_start) start = *next_start <= now ? last_start : previous(*last_start);
        if (!earliest) return start;
        const OptionalInstant aligned = align_to_next(*earliest);
        if (!aligned) return std::nullopt;
        return start ? std::max(*start, *aligned) : *aligned;
    }

  private:
    const Schedule& schedule_;
    const TimeZone& zone_;
};

}  // namespace

std::optional<DagRunInfo> next_dagrun_info(const Schedule& schedule, const TimeZone& zone,
                                           std::optional<DataInterval> last_automated,
                                           const TimeRestriction& restriction, Instant now) {
    switch (schedule.kind()) {
        case Schedule::Kind::none:
            return std::nullopt;
        case Schedule::Kind::once: {
            // @once runs at the start date whatever catchup says (Airflow's OnceTimetable).
            if (last_automated || !restriction.earliest) return std::nullopt;
            const Instant at = *restriction.earliest;
            if (restriction.latest && at > *restriction.latest) return std::nullopt;
            return DagRunInfo{DataInterval{at, at}, at, at};
        }
        case Schedule::Kind::cron:
        case Schedule::Kind::interval:
            break;
    }

    const IntervalSteps steps(schedule, zone);
    OptionalInstant earliest = restriction.earliest;
    if (!restriction.catchup) {
        earliest = steps.skip_to_latest(earliest, now);
        if (!earliest) return std::nullopt;
    } else if (earliest) {
        earliest = steps.align_to_next(*earliest);
        if (!earliest) return std::nullopt;
    }

    Instant start;
    if (!last_automated) {
        // The first run: the first interval that starts on a fire time at or after the start date.
        if (!earliest) return std::nullopt;
        start = *earliest;
    } else {
        // A changed schedule starts on its own grid; catchup off or a later start date can move it on.
        const OptionalInstant aligned_end = steps.align_to_prev(last_automated->end);
        if (!aligned_end) return std::nullopt;
        start = earliest ? std::max(*aligned_end, *earliest) : *aligned_end;
    }
    if (restriction.latest && start > *restriction.latest) return std::nullopt;
    const OptionalInstant end = steps.next(start);
    if (!end) return std::nullopt;
    return DagRunInfo{DataInterval{start, *end}, *end, start};
}

DataInterval infer_manual_data_interval(const Schedule& schedule, const TimeZone& zone, Instant run_after) {
    switch (schedule.kind()) {
        case Schedule::Kind::cron: {
            // The last complete interval: e.g. for @daily, a run at 01:00 on the 25th covers the 24th.
            const IntervalSteps steps(schedule, zone);
            const Instant end = steps.align_to_prev(run_after).value_or(run_after);
            return DataInterval{steps.previous(end).value_or(end), end};
        }
        case Schedule::Kind::interval:
            return DataInterval{shifted(run_after, -schedule.interval()).value_or(run_after), run_after};
        case Schedule::Kind::none:
        case Schedule::Kind::once:
            break;
    }
    return DataInterval{run_after, run_after};
}

}  // namespace mayaflow
