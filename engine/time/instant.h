#pragma once
// Instants and durations: every point in time inside mayaflow is a UTC instant with microsecond
// precision (as Airflow stores them); wall-clock times exist only at the edges (parsing, display, cron).

#include <chrono>

namespace mayaflow {

using Duration = std::chrono::microseconds;
using Instant = std::chrono::sys_time<Duration>;
using LocalTime = std::chrono::local_time<Duration>;

// The instants mayaflow's calendar code handles: years 0001 to 9999, the range of Python's datetime
// (and so of Airflow). A day's margin at each end leaves room for any UTC offset. Searches for fire
// times that would leave this range report that there is none.
inline constexpr Instant kEarliestSupportedInstant{
    std::chrono::sys_days{std::chrono::year{1} / std::chrono::January / 2}.time_since_epoch()};
inline constexpr Instant kLatestSupportedInstant{
    std::chrono::sys_days{std::chrono::year{9999} / std::chrono::December / 31}.time_since_epoch()};

// The logical dates a run may have: a year's margin inside the supported instants, so that the data
// interval and every date a template reads around the logical date (prev_ds, next_ds, tomorrow_ds,
// the next interval of a yearly schedule) stay within them.
inline constexpr Instant kEarliestLogicalDate{
    std::chrono::sys_days{std::chrono::year{2} / std::chrono::January / 1}.time_since_epoch()};
inline constexpr Instant kLatestLogicalDate{
    std::chrono::sys_days{std::chrono::year{9998} / std::chrono::December / 31}.time_since_epoch()};
inline constexpr bool is_supported_logical_date(Instant date) {
    return date >= kEarliestLogicalDate && date <= kLatestLogicalDate;
}

inline Instant now_instant() {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

}  // namespace mayaflow
