#include "scheduler/trigger_rules.h"

#include <optional>

namespace mayaflow {
namespace {

int* counter_for(UpstreamSummary& summary, TaskState state) {
    switch (state) {
        case TaskState::success:
            return &summary.success;
        case TaskState::skipped:
            return &summary.skipped;
        case TaskState::failed:
            return &summary.failed;
        case TaskState::upstream_failed:
            return &summary.upstream_failed;
        case TaskState::removed:
            return &summary.removed;
        default:
            return nullptr;
    }
}

// The first half of Airflow's evaluation: outcomes that are already certain, whether or not every
// upstream task is done. These are checked before "may it run?", and win over it.
std::optional<TriggerDecision> settled_outcome(TriggerRule rule, const UpstreamSummary& u) {
    using enum TriggerDecision;
    const bool upstream_done = u.all_done();
    const int failures = u.failed + u.upstream_failed;
    switch (rule) {
        case TriggerRule::all_success:
            if (failures > 0) return mark_upstream_failed;
            if (u.skipped > 0) return mark_skipped;
            return std::nullopt;
        case TriggerRule::all_failed:
            if (u.success > 0 || u.skipped > 0) return mark_skipped;
            return std::nullopt;
        case TriggerRule::all_done_min_one_success:
            if (upstream_done && u.success == 0) {
                return u.skipped == u.total ? mark_skipped : mark_upstream_failed;
            }
            return std::nullopt;
        case TriggerRule::one_success:
            if (upstream_done && u.done == u.skipped) return mark_skipped;
            if (upstream_done && u.success == 0) return mark_upstream_failed;
            return std::nullopt;
        case TriggerRule::one_failed:
            if (upstream_done && failures == 0) return mark_skipped;
            return std::nullopt;
        case TriggerRule::one_done:
            if (upstream_done && u.success == 0 && u.failed == 0) return mark_skipped;
            return std::nullopt;
        case TriggerRule::none_failed:
            if (failures > 0) return mark_upstream_failed;
            return std::nullopt;
        case TriggerRule::none_failed_min_one_success:
            if (failures > 0) return mark_upstream_failed;
            if (u.skipped == u.total) return mark_skipped;
            return std::nullopt;
        case TriggerRule::none_skipped:
            if (u.skipped > 0) return mark_skipped;
            return std::nullopt;
        case TriggerRule::all_skipped:
            if (u.success > 0 || failures > 0) return mark_skipped;
            return std::nullopt;
        // all_done_setup_success differs from all_done only through setup tasks, which mayaflow has not.
        case TriggerRule::all_done:
        case TriggerRule::all_done_setup_success:
        case TriggerRule::always:
            return std::nullopt;
    }
    return std::nullopt;
}

// The second half: whether the rule holds now. A removed upstream task counts as done but neither
// as a success nor as a failure or skip, exactly as in Airflow (see docs/scheduling-rules.md).
bool rule_holds(TriggerRule rule, const UpstreamSummary& u) {
    const int failures = u.failed + u.upstream_failed;
    switch (rule) {
        case TriggerRule::all_success:
            return u.success >= u.total;
        case TriggerRule::all_failed:
            return failures >= u.total;
        case TriggerRule::all_done:
        case TriggerRule::all_done_setup_success:
            return u.all_done();
        case TriggerRule::all_done_min_one_success:
            return u.all_done() && u.success > 0;
        case TriggerRule::one_success:
            return u.success > 0;
        case TriggerRule::one_failed:
            return failures > 0;
        case TriggerRule::one_done:
            return u.success + u.failed > 0;
        case TriggerRule::none_failed:
        case TriggerRule::none_failed_min_one_success:
            return u.success + u.skipped >= u.total;
        case TriggerRule::none_skipped:
            return u.all_done() && u.skipped == 0;
        case TriggerRule::all_skipped:
            return u.skipped >= u.total;
        case TriggerRule::always:
            return true;
    }
    return false;
}

}  // namespace

void UpstreamSummary::add(TaskState state) {
    ++total;
    if (int* counter = counter_for(*this, state)) {
        ++*counter;
        ++done;
    }
}

void UpstreamSummary::remove(TaskState state) {
    --total;
    if (int* counter = counter_for(*this, state)) {
        --*counter;
        --done;
    }
}

UpstreamSummary summarize_upstream(std::span<const TaskState> upstream_states) {
    UpstreamSummary summary;
    for (TaskState state : upstream_states) summary.add(state);
    return summary;
}

std::string_view to_string(TriggerDecision decision) {
    switch (decision) {
        case TriggerDecision::wait:
            return "wait";
        case TriggerDecision::run:
            return "run";
        case TriggerDecision::mark_skipped:
            return "mark_skipped";
        case TriggerDecision::mark_upstream_failed:
            return "mark_upstream_failed";
    }
    return "wait";
}

TriggerDecision evaluate_trigger_rule(TriggerRule rule, const UpstreamSummary& upstream) {
    if (upstream.total == 0 || rule == TriggerRule::always) return TriggerDecision::run;
    if (auto outcome = settled_outcome(rule, upstream)) return *outcome;
    return rule_holds(rule, upstream) ? TriggerDecision::run : TriggerDecision::wait;
}

}  // namespace mayaflow
