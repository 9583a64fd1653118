#pragma once
// Clock tells the scheduler what time it is. The daemon uses the system clock; tests use a
// ManualClock and simulate a year of schedules in milliseconds.

#include "engine/time/instant.h"

namespace mayaflow {

class Clock {
  public:
    virtual ~Clock() = default;
    virtual Instant now() const = 0;
};

class SystemClock : public Clock {
  public:
    Instant now() const override { return now_instant(); }
};

class ManualClock : public Clock {
  public:
    explicit ManualClock(Instant start) : now_(start) {}
    Instant now() const override { return now_; }
    void set(Instant instant) { now_ = instant; }
    void advance(Duration duration) { now_ += duration; }

  private:
    Instant now_;
};

}  // namespace mayaflow
