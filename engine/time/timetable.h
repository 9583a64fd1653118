#pragma once
// Airflow 2's data-interval timetables (airflow/timetables/interval.py): from a DAG's schedule, the data
// interval of its last scheduled run, its start and end dates and its catchup setting, which run comes
// next, the data interval it covers, and when it may start. A run covers [start, end); its logical
// date is the interval's start and it runs once the interval has ended.

#include <optional>

#include "engine/time/instant.h"
#include "engine/time/schedule.h"
#include "engine/time/time_zone.h"

namespace mayaflow {

// The span of data a run processes: [start, end).
struct DataInterval {
    Instant start;
    Instant end;

    friend bool operator==(const DataInterval&, const DataInterval&) = default;
};

// A run the timetable asks for.
struct DagRunInfo {
    DataInterval interval;
    Instant run_after;     // the earliest time the run may start: the interval's end (@once: its start)
    Instant logical_date;  // the interval's start

    friend bool operator==(const DagRunInfo&, const DagRunInfo&) = default;
};

// Limits on the runs a timetable may create.
struct TimeRestriction {
    std::optional<Instant> earliest;  // the DAG's start_date
    std::optional<Instant> latest;    // the DAG's end_date
    // Create a run for every interval since the start date (true), or only for the latest complete
    // one (false). The DAG file decides; false here is only the safer value to start from.
    bool catchup = false;
};

// The next scheduled run after `last_automated` (the data interval of the last run the scheduler
// created, or nullopt before the first), as Airflow 2's _DataIntervalTimetable.next_dagrun_info
// computes it by default (late 2.x releases added an opt-in `catchup_false_no_dagrun_airflow_2_fix`,
// not followed here), with `now` standing for utcnow(). Intervals follow the cron expression's fire times in
// `zone`; a new schedule's intervals are aligned to its own fire times. nullopt: no more runs (manual
// schedule, @once already run, no start date, or past the end date).
std::optional<DagRunInfo> next_dagrun_info(const Schedule& schedule, const TimeZone& zone,
                                           std::optional<DataInterval> last_automated,
                                           const TimeRestriction& restriction, Instant now);

// The data interval of a run triggered by hand at `run_after`: for a cron schedule the last complete
// interval ([previous fire, last fire at or before run_after]); for an interval schedule
// [run_after - interval, run_after]; otherwise [run_after, run_after].
DataInterval infer_manual_data_interval(const Schedule& schedule, const TimeZone& zone, Instant run_after);

}  // namespace mayaflow
