#pragma once
// TimeZone is an IANA time zone (from the system's tz database) or UTC. It converts between UTC
// instants and wall-clock local times and says how a local time falls around DST changes.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace date {
class time_zone;
}

namespace mayaflow {

// How one wall-clock time maps to instants in a zone.
struct LocalTimeResolution {
    enum class Kind {
        unique,       // exactly one instant
        nonexistent,  // in a DST gap (clocks jumped over it)
        ambiguous,    // in a DST overlap (clocks showed it twice)
    };
    Kind kind = Kind::unique;
    // unique: the instant; ambiguous: the first occurrence; nonexistent: the instant the clocks
    // jumped (the gap's start and end are the same instant, seen on two different wall clocks).
    Instant earlier;
    // unique: the instant; ambiguous: the second occurrence; nonexistent: the same as `earlier`.
    Instant later;
    std::chrono::seconds gap{0};  // nonexistent: how long the gap is
};

// What the zone's rule says after the last transition its TZif file lists (defined in the .cpp).
struct TimeZoneTail;

class TimeZone {
  public:
    static TimeZone utc();
    // Accepts IANA names ("Asia/Tokyo", "America/New_York") and "UTC"/"Etc/UTC".
    // The error names the zone and says where zone names come from.
    static Result<TimeZone> find(std::string_view name);

    const std::string& name() const { return name_; }
    bool is_utc() const { return zone_ == nullptr; }

    std::chrono::seconds offset_at(Instant instant) const;
    // The zone's abbreviation at an instant: "EST", "CEST", "+0545"; "UTC" for UTC.
    std::string abbreviation_at(Instant instant) const;
    LocalTime to_local(Instant instant) const;
    LocalTimeResolution resolve(LocalTime local) const;
    // The instant for a wall-clock time with Airflow/pendulum's rule: a time in a gap is moved
    // forward by the gap's length; an ambiguous time takes its first occurrence unless
    // `prefer_later` asks for the second. (Pendulum, and so Airflow, resolves with fold=1, which is
    // `prefer_later = true`; mayaflow's cron and date-time parsing pass it.)
    Instant from_local(LocalTime local, bool prefer_later = false) const;

    friend bool operator==(const TimeZone& a, const TimeZone& b) { return a.name_ == b.name_; }

  private:
    TimeZone(std::string name, const date::time_zone* zone, std::shared_ptr<const TimeZoneTail> tail)
        : name_(std::move(name)), zone_(zone), tail_(std::move(tail)) {}

    std::string name_;
    const date::time_zone* zone_ = nullptr;     // nullptr means UTC
    std::shared_ptr<const TimeZoneTail> tail_;  // nullptr when the listed transitions say it all
};

}  // namespace mayaflow
