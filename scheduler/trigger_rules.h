#pragma once
// Trigger rules decide, from the states of a task's direct upstream tasks, whether the task runs now,
// waits, or ends without running (skipped or upstream_failed). The decisions are Airflow's
// TriggerRuleDep with flag_upstream_failed on, as its scheduler evaluates it: a rule's state-changing
// checks come first, so an all_success task is marked upstream_failed as soon as one upstream task
// fails, without waiting for the others. docs/scheduling-rules.md has the full table.

#include <span>
#include <string_view>

#include "engine/model/states.h"
#include "engine/model/trigger_rule.h"

namespace mayaflow {

// UpstreamSummary counts a task's direct upstream tasks by state: the only input a trigger rule reads.
// `done` counts the finished ones (success, skipped, failed, upstream_failed, removed), so
// `total - done` upstream tasks may still change state. Kept up to date with add() and remove(), a
// state change of one upstream task costs O(1).
struct UpstreamSummary {
    int total = 0;
    int success = 0;
    int skipped = 0;
    int failed = 0;
    int upstream_failed = 0;
    int removed = 0;
    int done = 0;

    void add(TaskState state);     // counts one more upstream task, now in `state`
    void remove(TaskState state);  // forgets one upstream task counted in `state`
    void change(TaskState from, TaskState to) {
        remove(from);
        add(to);
    }
    bool all_done() const { return done >= total; }

    friend bool operator==(const UpstreamSummary&, const UpstreamSummary&) = default;
};

UpstreamSummary summarize_upstream(std::span<const TaskState> upstream_states);

enum class TriggerDecision {
    wait,                  // not yet: some upstream task may still change the outcome
    run,                   // the rule holds: the task may be scheduled
    mark_skipped,          // the rule can never hold: the task ends skipped
    mark_upstream_failed,  // the rule can never hold because upstream failed: it ends upstream_failed
};

std::string_view to_string(TriggerDecision decision);

// What `rule` says for a task whose direct upstream tasks are summed up in `upstream`. A task without
// upstream tasks runs whatever its rule. Pure: the caller applies the decision.
TriggerDecision evaluate_trigger_rule(TriggerRule rule, const UpstreamSummary& upstream);

}  // namespace mayaflow
