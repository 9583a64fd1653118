#include "operators/sensor_operator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "engine/time/duration_text.h"
#include "engine/util/hash.h"
#include "operators/async_try.h"
#include "operators/shell_process.h"

namespace mayaflow {
namespace {

Duration seconds_param(const nlohmann::json& params, const char* name, Duration fallback) {
    auto it = params.find(name);
    if (it == params.end() || !it->is_number()) return fallback;
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(it->get<double>()));
}

}  // namespace

std::vector<ParamSpec> sensor_params() {
    return {
        ParamSpec{
            .name = "mode",
            .type = ParamType::string,
            .default_value = "poke",
            .allowed_values = {"poke", "reschedule"},
            .help = "poke keeps the task's slot between pokes; reschedule gives it back (up_for_reschedule)"},
        ParamSpec{.name = "poke_interval",
                  .type = ParamType::duration,
                  .default_value = 60,
                  .help = "The wait between two pokes"},
        ParamSpec{.name = "timeout",
                  .type = ParamType::duration,
                  .default_value = 60 * 60 * 24 * 7,
                  .help = "How long the sensor waits, from the try's first poke, before it fails"},
        ParamSpec{.name = "soft_fail",
                  .type = ParamType::boolean,
                  .default_value = false,
                  .help = "A timeout makes the task skipped instead of failed"},
        ParamSpec{.name = "exponential_backoff",
                  .type = ParamType::boolean,
                  .default_value = false,
                  .help = "Wait longer after each poke"},
        ParamSpec{.name = "max_wait",
                  .type = ParamType::duration,
                  .help = "With exponential_backoff: the longest wait between two pokes"},
    };
}

Result<SensorOptions> read_sensor_options(const nlohmann::json& params) {
    SensorOptions options;
    options.reschedule = params.value("mode", std::string("poke")) == "reschedule";
    options.poke_interval = seconds_param(params, "poke_interval", options.poke_interval);
    options.timeout = seconds_param(params, "timeout", options.timeout);
    options.soft_fail = params.value("soft_fail", false);
    options.exponential_backoff = params.value("exponential_backoff", false);
    if (params.contains("max_wait")) options.max_wait = seconds_param(params, "max_wait", Duration::zero());
    if (options.poke_interval < Duration::zero()) return make_error("poke_interval must be 0 or more");
    if (options.timeout < Duration::zero()) return make_error("timeout must be 0 or more");
    if (options.max_wait && *options.max_wait <= Duration::zero())
        return make_error("max_wait must be more than 0");
    return options;
}

Duration next_poke_interval(const SensorOptions& options, std::string_view jitter_key, int pokes,
                            Duration waited) {
    if (!options.exponential_backoff) return options.poke_interval;
    using Seconds = std::chrono::seconds;
    const double interval = std::chrono::duration<double>(options.poke_interval).count();
    // Airflow: min_backoff = max(int(poke_interval * 2 ** (poke_count - 2)), 1), kept below a year.
    const double grown = interval * std::pow(2.0, std::min(pokes - 2, 40));
    const auto min_backoff = static_cast<std::uint64_t>(std::clamp(grown, 1.0, 365.0 * 24 * 3600));
    ContentHash hash;
    hash.add(jitter_key);
    hash.add(std::to_string(pokes));
    Duration wait = Seconds(min_backoff + hash.value() % min_backoff);
    wait = std::min(
        wait, std::max(Duration::zero(), options.timeout - std::chrono::duration_cast<Seconds>(waited)));
    if (options.max_wait) wait = std::min(wait, *options.max_wait);
    return wait;
}

struct SensorOperator::State : AsyncTry {
    std::shared_ptr<Poker> poker;
    SensorOptions options;
    std::function<Instant()> now;
    Instant first_poke_at{};
    int pokes = 0;

    std::string jitter_key() {
        std::lock_guard lock(mutex);
        if (!run) return {};
        return fmt::format("{}#{}#{}", run->run_info.dag_id, run->task.task_id,
                           first_poke_at.time_since_epoch().count());
    }

    static void poke(const std::shared_ptr<State>& self);
    static void answered(const std::shared_ptr<State>& self, Result<PokeAnswer> answer);

  protected:
    void release() override { poker.reset(); }  // its calls in flight hold this state: let go of it
    void on_finish(OperatorResult& result) override {
        if (!result.message.empty()) (void)append_log_line(*run, result.message);
    }
};

void SensorOperator::State::poke(const std::shared_ptr<State>& self) {
    if (self->stopping()) return self->finish(self->stopped_result());
    std::shared_ptr<Poker> poker;
    {
        std::lock_guard lock(self->mutex);
        if (!self->done) return;
        poker = self->poker;
        ++self->pokes;
    }
    self->log(fmt::format("poking for {}", poker->describe()));
    poker->poke([self](Result<PokeAnswer> answer) { answered(self, std::move(answer)); });
}

void SensorOperator::State::answered(const std::shared_ptr<State>& self, Result<PokeAnswer> answer) {
    if (self->ended()) return;
    if (self->stopping()) return self->finish(self->stopped_result());
    if (!answer) return self->fail(answer.error().message);
    std::shared_ptr<Poker> poker;
    {
        std::lock_guard lock(self->mutex);
        poker = self->poker;
    }
    if (!poker) return;
    if (answer->done) {
        self->log(fmt::format("found {}", poker->describe()));
        return self->finish(
            OperatorResult{.outcome = TaskOutcome::success, .value = std::move(answer->value)});
    }
    const Instant now = self->now();
    const Duration waited = now - self->first_poke_at;
    if (waited > self->options.timeout) {
        // As Airflow's AirflowSensorTimeout: no retry helps a sensor that waited its whole timeout.
        std::string message =
            fmt::format("the sensor timed out after {} ({} pokes): no {}",
                        format_duration(self->options.timeout), self->pokes, poker->describe());
        if (self->options.soft_fail) {
            return self->finish(
                OperatorResult{.outcome = TaskOutcome::skipped, .message = message + " (soft_fail)"});
        }
        return self->finish(
            OperatorResult{.outcome = TaskOutcome::failed, .message = message, .retryable = false});
    }
    const Duration wait = next_poke_interval(self->options, self->jitter_key(), self->pokes, waited);
    if (self->options.reschedule) {
        const Instant next = now + wait;
        self->log(fmt::format("not there yet; the task gives its slot back and pokes again in {}",
                              format_duration(wait)));
        return self->finish(
            OperatorResult{.outcome = TaskOutcome::rescheduled,
                           .reschedule = PokeSchedule{self->first_poke_at, self->pokes, next}});
    }
    poker->run_after(wait, [self] { poke(self); });
}

void SensorOperator::start(const TaskRun& run, Done done) {
    begin(run, std::move(done),
          run.earlier_pokes ? std::optional(run.earlier_pokes->first_poke_at) : std::nullopt);
}

void SensorOperator::start_resume(const TaskRun& run, const StartedProcess& recorded, Done done) {
    std::optional<Instant> started;
    if (run.earlier_pokes)
        started = run.earlier_pokes->first_poke_at;
    else if (recorded.started_at != Instant{})
        started = recorded.started_at;
    if (started) (void)append_log_line(run, "the daemon restarted; the sensor pokes again");
    begin(run, std::move(done), started);
}

void SensorOperator::begin(const TaskRun& run, Done done, std::optional<Instant> started) {
    auto state = std::make_shared<State>();
    state->run = &run;
    state->done = std::move(done);
    state->now = [this] { return now(); };
    state->first_poke_at = started.value_or(now());
    if (run.earlier_pokes) state->pokes = run.earlier_pokes->pokes;
    state_ = state;

    auto params = render_templated_params(spec(), run.task, make_task_context(run));
    if (!params) return state->fail(params.error().message);
    auto options = read_sensor_options(*params);
    if (!options) return state->fail(options.error().message);
    state->options = *options;
    auto poker = make_poker(run, *params);
    if (!poker) return state->fail(poker.error().message);
    bool cancelled = false;
    {
        std::lock_guard lock(state->mutex);
        state->poker = *poker;
        cancelled = state->cancelled;
    }
    if (cancelled) return state->finish(state->stopped_result());
    if (run.on_started) run.on_started(StartedProcess{.started_at = state->first_poke_at});
    if (run.execution_timeout) {
        {
            std::lock_guard lock(state->mutex);
            state->timeout = *run.execution_timeout;
        }
        (*poker)->run_after(*run.execution_timeout, [state] {
            if (state->time_out()) state->finish(state->stopped_result());
        });
    }
    State::poke(state);
}

void SensorOperator::cancel() {
    auto state = state_;
    if (!state) return;
    if (!state->cancel()) return;
    std::shared_ptr<Poker> poker;
    {
        std::lock_guard lock(state->mutex);
        poker = state->poker;
    }
    // Never ends the try on this thread (the executor holds its lock). A try without a poker yet is
    // being prepared on the executor's thread, which sees the cancel once the poker is made.
    if (poker) poker->run_after(Duration::zero(), [state] { state->finish(state->stopped_result()); });
}

}  // namespace mayaflow
