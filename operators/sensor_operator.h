#pragma once
// SensorOperator is the base of sensors, as Airflow's BaseSensorOperator: a try pokes — asks whether
// what it waits for is there — every poke_interval until a poke says yes (success), or its timeout
// passes (failed and not retried; skipped with soft_fail). In `poke` mode the try keeps its slot
// between pokes; in `reschedule` mode each poke that says no ends the try as up_for_reschedule, and
// the scheduler hands the same try out again when the next poke is due. No thread waits in either
// mode: a poke is an asynchronous call, the wait between two pokes a timer.

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/operator_spec.h"
#include "engine/time/instant.h"
#include "operators/operator.h"

namespace mayaflow {

// The sensor parameters, as Airflow names them.
struct SensorOptions {
    bool reschedule = false;  // mode: reschedule (else poke)
    Duration poke_interval = std::chrono::seconds(60);
    Duration timeout = std::chrono::hours(24 * 7);
    bool soft_fail = false;
    bool exponential_backoff = false;
    std::optional<Duration> max_wait;  // the longest wait between two pokes with exponential_backoff
};

std::vector<ParamSpec> sensor_params();
Result<SensorOptions> read_sensor_options(const nlohmann::json& params);

// The wait before the next poke, as Airflow's _get_next_poke_interval: poke_interval, or with
// exponential_backoff poke_interval * 2^(pokes - 2) plus a jitter below that (a hash of
// `jitter_key` and the poke count), at most what is left of the timeout and at most max_wait.
// `pokes`: the pokes so far; `waited`: the time since the first.
Duration next_poke_interval(const SensorOptions& options, std::string_view jitter_key, int pokes,
                            Duration waited);

// What a poke found: done (with the task's result value), or not yet.
struct PokeAnswer {
    bool done = false;
    nlohmann::json value;
};

// One try's way of poking, made by the sensor from the try's rendered parameters. It outlives the
// operator object when a call is still in flight as the try ends, so it holds what it needs.
class Poker {
  public:
    virtual ~Poker() = default;
    // What a poke looks for, for the log: "object gs://b/x.csv".
    virtual std::string describe() const = 0;
    // Calls `done` once, from any thread; an error fails the try (and its retries may help).
    virtual void poke(std::function<void(Result<PokeAnswer>)> done) = 0;
    // Calls `action` after `delay` on the poker's I/O thread, never on the calling one.
    virtual void run_after(Duration delay, std::function<void()> action) = 0;
};

class SensorOperator : public AsyncOperator {
  public:
    void start(const TaskRun& run, Done done) override;
    // A sensor caught by a restart pokes again; its timeout counts from the try's first poke.
    void start_resume(const TaskRun& run, const StartedProcess& recorded, Done done) override;
    void cancel() override;
    bool defers_while_waiting() const override { return false; }  // poke mode keeps the slot

  protected:
    virtual const OperatorSpec& spec() const = 0;
    // The try's poker, from its rendered parameters; an error fails the try before any poke. Runs
    // on the executor's thread.
    virtual Result<std::shared_ptr<Poker>> make_poker(const TaskRun& run, const nlohmann::json& params) = 0;
    // The time pokes are stamped with and the timeout is measured by (tests give their own clock).
    virtual Instant now() const { return now_instant(); }

  private:
    struct State;
    void begin(const TaskRun& run, Done done, std::optional<Instant> started);
    std::shared_ptr<State> state_;
};

}  // namespace mayaflow
