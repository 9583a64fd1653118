#include "scheduler/trigger_rules.h"

#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace mayaflow {
namespace {

// Upstream tasks written one letter each: S success, K skipped, F failed, U upstream_failed,
// X removed; not finished: . none, c scheduled, q queued, r running, y up_for_retry,
// p up_for_reschedule.
TaskState state_of(char letter) {
    switch (letter) {
        case 'S':
            return TaskState::success;
        case 'K':
            return TaskState::skipped;
        case 'F':
            return TaskState::failed;
        case 'U':
            return TaskState::upstream_failed;
        case 'X':
            return TaskState::removed;
        case 'c':
            return TaskState::scheduled;
        case 'q':
            return TaskState::queued;
        case 'r':
            return TaskState::running;
        case 'y':
            return TaskState::up_for_retry;
        case 'p':
            return TaskState::up_for_reschedule;
        default:
            return TaskState::none;
    }
}

UpstreamSummary upstream(std::string_view letters) {
    std::vector<TaskState> states;
    for (char letter : letters) states.push_back(state_of(letter));
    return summarize_upstream(states);
}

std::string describe(const UpstreamSummary& u) {
    return fmt::format("total={} success={} skipped={} failed={} upstream_failed={} removed={} done={}",
                       u.total, u.success, u.skipped, u.failed, u.upstream_failed, u.removed, u.done);
}

// The columns of the expected table, in this order.
constexpr std::array<TriggerRule, 13> kRules = {
    TriggerRule::all_success,
    TriggerRule::all_failed,
    TriggerRule::all_done,
    TriggerRule::all_done_min_one_success,
    TriggerRule::all_done_setup_success,
    TriggerRule::one_success,
    TriggerRule::one_failed,
    TriggerRule::one_done,
    TriggerRule::none_failed,
    TriggerRule::none_failed_min_one_success,
    TriggerRule::none_skipped,
    TriggerRule::all_skipped,
    TriggerRule::always,
};

TriggerDecision decision_of(char code) {
    switch (code) {
        case 'R':
            return TriggerDecision::run;
        case 'S':
            return TriggerDecision::mark_skipped;
        case 'U':
            return TriggerDecision::mark_upstream_failed;
        default:
            return TriggerDecision::wait;
    }
}

struct Row {
    const char* upstream;
    const char* expected;  // one code per rule: W wait, R run, S mark_skipped, U mark_upstream_failed
};

// Written by hand from Airflow's TriggerRuleDep, one rule at a time (see docs/scheduling-rules.md).
// clang-format off
const std::vector<Row> kExpected = {
    //              all_success          one_success     none_failed
    //              | all_failed         | one_failed    | none_failed_min_one_success
    //              | | all_done         | | one_done    | | none_skipped
    //              | | | all_done_min_one_success       | | | all_skipped
    //              | | | | all_done_setup_success       | | | | always
    //              | | | | |            | | |           | | | | |
    {"",           "R R R R R            R R R           R R R R R"},
    {".",          "W W W W W            W W W           W W W W R"},
    {"r",          "W W W W W            W W W           W W W W R"},
    {"q.y",        "W W W W W            W W W           W W W W R"},
    {"S",          "R S R R R            R S R           R R R S R"},
    {"SS",         "R S R R R            R S R           R R R S R"},
    {"SSS",        "R S R R R            R S R           R R R S R"},
    {"S.",         "W S W W W            R W R           W W W S R"},
    {"Sr",         "W S W W W            R W R           W W W S R"},
    {"S..",        "W S W W W            R W R           W W W S R"},
    {"SS.",        "W S W W W            R W R           W W W S R"},
    {"K",          "S S R S R            S S S           R S S R R"},
    {"KK",         "S S R S R            S S S           R S S R R"},
    {"KKK",        "S S R S R            S S S           R S S R R"},
    {"K.",         "S S W W W            W W W           W W S W R"},
    {"K..",        "S S W W W            W W W           W W S W R"},
    {"KKp",        "S S W W W            W W W           W W S W R"},
    {"F",          "U R R U R            U R R           U U R S R"},
    {"FF",         "U R R U R            U R R           U U R S R"},
    {"FFF",        "U R R U R            U R R           U U R S R"},
    {"F.",         "U W W W W            W R R           U U W S R"},
    {"FF.",        "U W W W W            W R R           U U W S R"},
    {"U",          "U R R U R            U R S           U U R S R"},
    {"UU",         "U R R U R            U R S           U U R S R"},
    {"U.",         "U W W W W            W R W           U U W S R"},
    {"FU",         "U R R U R            U R R           U U R S R"},
    {"X",          "W W R U R            U S S           W W R W R"},
    {"XX",         "W W R U R            U S S           W W R W R"},
    {"X.",         "W W W W W            W W W           W W W W R"},
    {"SK",         "S S R R R            R S R           R R S S R"},
    {"SF",         "U S R R R            R R R           U U R S R"},
    {"SU",         "U S R R R            R R R           U U R S R"},
    {"KF",         "U S R U R            U R R           U U S S R"},
    {"KU",         "U S R U R            U R S           U U S S R"},
    {"SX",         "W S R R R            R S R           W W R S R"},
    {"SSX",        "W S R R R            R S R           W W R S R"},
    {"KX",         "S S R U R            U S S           W W S W R"},
    {"FX",         "U W R U R            U R R           U U R S R"},
    {"SKF",        "U S R R R            R R R           U U S S R"},
    {"SKX",        "S S R R R            R S R           W W S S R"},
    {"KFU",        "U S R U R            U R R           U U S S R"},
    {"SK.",        "S S W W W            R W R           W W S S R"},
    {"FS.",        "U S W W W            R R R           U U W S R"},
    {"KF.",        "U S W W W            W R R           U U S S R"},
    {"KU.",        "U S W W W            W R W           U U S S R"},
    {"SSSSK",      "S S R R R            R S R           R R S S R"},
    {"KKKKF",      "U S R U R            U R R           U U S S R"},
    {"SSSS.",      "W S W W W            R W R           W W W S R"},
    {"FFFF.",      "U W W W W            W R R           U U W S R"},
};
// clang-format on

TEST_CASE("every trigger rule matches the hand-written table", "[trigger_rules]") {
    int checked = 0;
    for (const Row& row : kExpected) {
        std::string codes;
        for (char c : std::string_view(row.expected)) {
            if (c != ' ') codes += c;
        }
        REQUIRE(codes.size() == kRules.size());
        const UpstreamSummary summary = upstream(row.upstream);
        for (size_t i = 0; i < kRules.size(); ++i) {
            INFO("upstream \"" << row.upstream << "\" (" << describe(summary) << ") rule "
                               << to_string(kRules[i]));
            CHECK(to_string(evaluate_trigger_rule(kRules[i], summary)) == to_string(decision_of(codes[i])));
            ++checked;
        }
    }
    CHECK(checked == static_cast<int>(kExpected.size() * kRules.size()));
}

TEST_CASE("the table covers every trigger rule the model knows", "[trigger_rules]") {
    const auto names = trigger_rule_names();
    REQUIRE(names.size() == kRules.size());
    for (TriggerRule rule : kRules) {
        CHECK(std::find(names.begin(), names.end(), to_string(rule)) != names.end());
    }
}

TEST_CASE("UpstreamSummary counts finished upstream tasks as done", "[trigger_rules]") {
    const UpstreamSummary summary = upstream("SKFUX.cqrypS");
    CHECK(summary == UpstreamSummary{.total = 12,
                                     .success = 2,
                                     .skipped = 1,
                                     .failed = 1,
                                     .upstream_failed = 1,
                                     .removed = 1,
                                     .done = 6});
    CHECK_FALSE(summary.all_done());
    CHECK(upstream("SKFUX").all_done());
    CHECK(upstream("").all_done());
}

TEST_CASE("UpstreamSummary follows an upstream task through its states", "[trigger_rules]") {
    UpstreamSummary summary = upstream("S.");
    summary.change(TaskState::none, TaskState::scheduled);
    summary.change(TaskState::scheduled, TaskState::running);
    CHECK(summary == upstream("Sr"));
    summary.change(TaskState::running, TaskState::up_for_retry);
    CHECK(summary == upstream("Sy"));
    summary.change(TaskState::up_for_retry, TaskState::failed);
    CHECK(summary == upstream("SF"));
    // Clearing a finished task makes it unfinished again.
    summary.change(TaskState::failed, TaskState::none);
    CHECK(summary == upstream("S."));
    summary.remove(TaskState::none);
    CHECK(summary == upstream("S"));
    summary.add(TaskState::skipped);
    CHECK(summary == upstream("SK"));
}

TEST_CASE("TriggerDecision names", "[trigger_rules]") {
    CHECK(to_string(TriggerDecision::wait) == "wait");
    CHECK(to_string(TriggerDecision::run) == "run");
    CHECK(to_string(TriggerDecision::mark_skipped) == "mark_skipped");
    CHECK(to_string(TriggerDecision::mark_upstream_failed) == "mark_upstream_failed");
}

// Every summary of up to `max_upstream` upstream tasks: counts of the five finished states plus
// the unfinished ones.
std::vector<UpstreamSummary> all_summaries(int max_upstream) {
    std::vector<UpstreamSummary> result;
    for (int total = 0; total <= max_upstream; ++total) {
        for (int s = 0; s <= total; ++s) {
            for (int k = 0; s + k <= total; ++k) {
                for (int f = 0; s + k + f <= total; ++f) {
                    for (int u = 0; s + k + f + u <= total; ++u) {
                        for (int x = 0; s + k + f + u + x <= total; ++x) {
                            result.push_back({.total = total,
                                              .success = s,
                                              .skipped = k,
                                              .failed = f,
                                              .upstream_failed = u,
                                              .removed = x,
                                              .done = s + k + f + u + x});
                        }
                    }
                }
            }
        }
    }
    return result;
}

constexpr int kMaxUpstream = 7;

// When each rule runs a task, said in words that differ from the implementation's two steps.
bool runs_exactly_when(TriggerRule rule, const UpstreamSummary& u) {
    const bool all_done = u.done == u.total;
    const int failures = u.failed + u.upstream_failed;
    switch (rule) {
        case TriggerRule::all_success:
            return u.success == u.total;
        case TriggerRule::all_failed:
            return failures == u.total;
        case TriggerRule::all_done:
        case TriggerRule::all_done_setup_success:
            return all_done;
        case TriggerRule::always:
            return true;
        case TriggerRule::all_done_min_one_success:
            return all_done && u.success > 0;
        case TriggerRule::one_success:
            return u.success > 0;
        case TriggerRule::one_failed:
            return failures > 0;
        case TriggerRule::one_done:
            return u.success + u.failed > 0;
        case TriggerRule::none_failed:
            return u.success + u.skipped == u.total;
        case TriggerRule::none_failed_min_one_success:
            return u.success + u.skipped == u.total && u.success > 0;
        case TriggerRule::none_skipped:
            return all_done && u.skipped == 0;
        case TriggerRule::all_skipped:
            return u.skipped == u.total;
    }
    return false;
}

// The rules that wait for ever when an upstream task is removed and nothing else settles them:
// Airflow counts a removed upstream task as done but as neither success, skip nor failure.
bool can_be_stuck_by_removed(TriggerRule rule) {
    return rule == TriggerRule::all_success || rule == TriggerRule::all_failed ||
           rule == TriggerRule::none_failed || rule == TriggerRule::none_failed_min_one_success ||
           rule == TriggerRule::all_skipped;
}

TEST_CASE("brute force: a task runs exactly when its rule is met", "[trigger_rules]") {
    const auto summaries = all_summaries(kMaxUpstream);
    REQUIRE(summaries.size() == 1716);  // C(7 + 6, 6)
    for (const UpstreamSummary& u : summaries) {
        for (TriggerRule rule : kRules) {
            INFO(describe(u) << " rule " << to_string(rule));
            const TriggerDecision decision = evaluate_trigger_rule(rule, u);
            if (u.total == 0) {
                CHECK(decision == TriggerDecision::run);
                continue;
            }
            CHECK((decision == TriggerDecision::run) == runs_exactly_when(rule, u));
        }
    }
}

TEST_CASE("brute force: upstream_failed and skipped come only from their causes", "[trigger_rules]") {
    for (const UpstreamSummary& u : all_summaries(kMaxUpstream)) {
        const int failures = u.failed + u.upstream_failed;
        for (TriggerRule rule : kRules) {
            INFO(describe(u) << " rule " << to_string(rule));
            const TriggerDecision decision = evaluate_trigger_rule(rule, u);
            if (rule == TriggerRule::all_done || rule == TriggerRule::all_done_setup_success ||
                rule == TriggerRule::always) {
                CHECK((decision == TriggerDecision::run || decision == TriggerDecision::wait));
            }
            if (decision == TriggerDecision::mark_upstream_failed) {
                // A failure upstream, or (for the "one success" rules) all done without a success.
                const bool no_success_at_all = u.done == u.total && u.success == 0;
                const bool success_rule =
                    rule == TriggerRule::one_success || rule == TriggerRule::all_done_min_one_success;
                CHECK((failures > 0 || (success_rule && no_success_at_all)));
                CHECK((rule == TriggerRule::all_success || rule == TriggerRule::none_failed ||
                       rule == TriggerRule::none_failed_min_one_success || success_rule));
            }
            if (decision == TriggerDecision::mark_skipped) {
                CHECK_FALSE(rule == TriggerRule::none_failed);
                // A rule skips while upstream tasks are unfinished only when a finished one already
                // rules it out.
                if (u.done < u.total) {
                    CHECK((rule == TriggerRule::all_success || rule == TriggerRule::all_failed ||
                           rule == TriggerRule::none_skipped || rule == TriggerRule::all_skipped));
                }
            }
        }
    }
}

TEST_CASE("brute force: with all upstream done only a removed upstream leaves a task waiting",
          "[trigger_rules]") {
    for (const UpstreamSummary& u : all_summaries(kMaxUpstream)) {
        if (u.done != u.total) continue;
        for (TriggerRule rule : kRules) {
            INFO(describe(u) << " rule " << to_string(rule));
            if (evaluate_trigger_rule(rule, u) == TriggerDecision::wait) {
                CHECK(u.removed > 0);
                CHECK(can_be_stuck_by_removed(rule));
            }
        }
    }
    // For instance: all_success below a success and a removed task waits for ever.
    CHECK(evaluate_trigger_rule(TriggerRule::all_success, upstream("SX")) == TriggerDecision::wait);
}

TEST_CASE("brute force: a decision other than wait never changes back to wait", "[trigger_rules]") {
    const TaskState finished[] = {TaskState::success, TaskState::skipped, TaskState::failed,
                                  TaskState::upstream_failed, TaskState::removed};
    for (const UpstreamSummary& before : all_summaries(kMaxUpstream)) {
        if (before.done == before.total) continue;
        for (TriggerRule rule : kRules) {
            const TriggerDecision first = evaluate_trigger_rule(rule, before);
            for (TaskState state : finished) {
                UpstreamSummary after = before;
                after.change(TaskState::running, state);
                INFO(describe(before)
                     << " then one more " << to_string(state) << " rule " << to_string(rule));
                const TriggerDecision second = evaluate_trigger_rule(rule, after);
                if (first == TriggerDecision::wait) continue;
                CHECK(second != TriggerDecision::wait);
                if (first == TriggerDecision::run || first == TriggerDecision::mark_upstream_failed) {
                    CHECK(second == first);
                }
                // The one change of mind: all_success skipped for a skipped upstream task becomes
                // upstream_failed when another one fails later. The scheduler acts on the first
                // decision, so the task stays skipped, as in Airflow.
                if (first == TriggerDecision::mark_skipped && second != first) {
                    CHECK(rule == TriggerRule::all_success);
                    CHECK(second == TriggerDecision::mark_upstream_failed);
                }
            }
        }
    }
}

}  // namespace
}  // namespace mayaflow
