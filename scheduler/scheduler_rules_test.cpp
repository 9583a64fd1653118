// Trigger rules and retry delays through the whole scheduler core: real DAGs, a real store, a
// ManualClock and a fake executor whose tries the test ends. trigger_rules_test.cpp and
// retry_delay_test.cpp check the pure functions; these tables check that the core applies them — that
// it re-evaluates a task when an upstream task finishes, launches it, marks it, ends the run, stores
// next_try_at and launches a retry exactly when it is due.

#include <catch2/catch.hpp>

#include <sstream>

#include "engine/time/iso8601.h"
#include "scheduler/scheduler_core.h"
#include "scheduler/scheduler_test_harness.h"

namespace mayaflow {
namespace {

using testing::at;
using testing::Harness;

std::string utc_text(Instant instant) {
    return format_iso8601(instant, TimeZone::utc());
}

// Ends the launched try of `task_id` with `outcome`; the test fails if that task is not running.
void finish(Harness& h, const std::string& task_id, TaskOutcome outcome) {
    for (size_t i = 0; i < h.executor.launched.size(); ++i) {
        if (h.launched_task(i) != task_id) continue;
        TaskLaunch launch = std::move(h.executor.launched[i]);
        h.executor.launched.erase(h.executor.launched.begin() + static_cast<std::ptrdiff_t>(i));
        OperatorResult result;
        result.outcome = outcome;
        h.core->on_report(TaskReport{TaskReport::Kind::finished, launch.key, {}, result});
        return;
    }
    FAIL("no try of " << task_id << " is running");
}

bool is_launched(const Harness& h, const std::string& task_id) {
    for (size_t i = 0; i < h.executor.launched.size(); ++i) {
        if (h.launched_task(i) == task_id) return true;
    }
    return false;
}

DagRunRow stored_run(Harness& h, const std::string& dag_id, const std::string& run_id) {
    auto found = h.store->find_run(dag_id, run_id, true);
    REQUIRE(found);
    REQUIRE(*found);
    return **found;
}

TaskInstanceRow stored_task(Harness& h, const std::string& dag_id, const std::string& run_id,
                            const std::string& task_id) {
    for (const auto& ti : stored_run(h, dag_id, run_id).task_instances) {
        if (ti.task_id == task_id) return ti;
    }
    FAIL("run " << run_id << " has no task " << task_id);
    return {};
}

// ---- Trigger rules ----

// What becomes of the downstream task d.
enum class Downstream {
    waits,            // stays in state none
    launched,         // scheduled and handed to the executor
    skipped,          // marked skipped without running
    upstream_failed,  // marked upstream_failed without running
};

std::string_view to_string(Downstream d) {
    switch (d) {
        case Downstream::waits:
            return "waits";
        case Downstream::launched:
            return "launched";
        case Downstream::skipped:
            return "skipped";
        case Downstream::upstream_failed:
            return "upstream_failed";
    }
    return "?";
}

// One row: how the upstream tasks u1, u2 (, u3) end, one letter each, applied in that order with a
// scheduler turn after each, and what becomes of d with the rule. The letters: S success, F failed,
// K skipped (as the executor reports them), U upstream_failed (the task's own upstream g_uN fails),
// R failed with a retry left (up_for_retry, not yet due), `.` still running. `run` is the run's
// state afterwards, once d's own try (if launched) has succeeded.
struct RuleRow {
    std::string upstream;
    Downstream d;
    RunState run;
};

struct RuleTable {
    std::string rule;
    std::vector<RuleRow> rows;
};

using D = Downstream;
constexpr RunState running = RunState::running;
constexpr RunState success = RunState::success;
constexpr RunState failed = RunState::failed;

// Expectations follow Airflow's TriggerRuleDep as docs/scheduling-rules.md states it. A decision
// other than waiting is final: the scheduler acts on the first one, as Airflow does.
const std::vector<RuleTable> kRuleTables = {
    {"all_success",
     {
         {"SS", D::launched, success},
         {"S.", D::waits, running},
         {"SK", D::skipped, success},
         {"F.", D::upstream_failed, running},  // at once, while u2 still runs
         {"FK", D::upstream_failed, failed},
         {"KF", D::skipped, success},  // skipped first; the later failure does not change it
         {"UU", D::upstream_failed, failed},
         {"RS", D::waits, running},  // a try that will be retried is not a failure yet
     }},
    {"all_failed",
     {
         {"FF", D::launched, success},
         {"FU", D::launched, success},
         {"F.", D::waits, running},
         {"S.", D::skipped, running},  // at once
         {"FK", D::skipped, success},
     }},
    {"all_done",
     {
         {"SF", D::launched, success},
         {"KU", D::launched, success},
         {"F.", D::waits, running},
         {"UFS", D::launched, success},
         {"RS", D::waits, running},
     }},
    {"all_done_min_one_success",
     {
         {"FS", D::launched, success},
         {"S.", D::waits, running},  // waits for every upstream task
         {"KK", D::skipped, success},
         {"KF", D::upstream_failed, failed},
         {"UKS", D::launched, success},
     }},
    {"all_done_setup_success",
     {
         {"SF", D::launched, success},
         {"UU", D::launched, success},
         {"K.", D::waits, running},
     }},
    {"one_success",
     {
         {"S.", D::launched, running},  // runs while u2 still runs
         {"F.", D::waits, running},
         {"KK", D::skipped, success},
         {"FK", D::upstream_failed, failed},
         {"UU", D::upstream_failed, failed},
         {"FFS", D::launched, success},
     }},
    {"one_failed",
     {
         {"F.", D::launched, running},
         {"U.", D::launched, running},  // upstream_failed counts as failed here
         {"S.", D::waits, running},
         {"SS", D::skipped, success},
         {"SKS", D::skipped, success},
         {"RS", D::waits, running},
     }},
    {"one_done",
     {
         {"S.", D::launched, running},
         {"F.", D::launched, running},
         {"U.", D::waits, running},  // upstream_failed is not "done" for one_done
         {"UU", D::skipped, success},
         {"KK", D::skipped, success},
         {"KUF", D::launched, success},
     }},
    {"none_failed",
     {
         {"SK", D::launched, success},
         {"KK", D::launched, success},
         {"S.", D::waits, running},
         {"F.", D::upstream_failed, running},
         {"U.", D::upstream_failed, running},
     }},
    {"none_failed_min_one_success",
     {
         {"KS", D::launched, success},
         {"KK", D::skipped, success},
         {"K.", D::waits, running},
         {"F.", D::upstream_failed, running},
         {"KKU", D::upstream_failed, failed},
     }},
    {"none_skipped",
     {
         {"SF", D::launched, success},
         {"SU", D::launched, success},
         {"FF", D::launched, success},
         {"S.", D::waits, running},
         {"K.", D::skipped, running},  // at once
     }},
    {"all_skipped",
     {
         {"KK", D::launched, success},
         {"K.", D::waits, running},
         {"S.", D::skipped, running},
         {"F.", D::skipped, running},
         {"U.", D::skipped, running},
     }},
    {"always",
     {
         {"..", D::launched, running},  // launched with the run's first tries
         {"FF", D::launched, success},
         {"KU", D::launched, success},
     }},
};

// u1..uN (each below its own g_uN when the row makes it upstream_failed) and d below them with `rule`.
std::string rule_dag_yaml(const std::string& dag_id, const std::string& rule, const std::string& upstream) {
    std::ostringstream yaml;
    yaml << "dag_id: " << dag_id << "\ntasks:\n";
    std::string d_upstream;
    for (size_t i = 0; i < upstream.size(); ++i) {
        const std::string u = "u" + std::to_string(i + 1);
        if (upstream[i] == 'U') {
            yaml << "  - task_id: g_" << u << "\n    operator: bash\n    bash_command: \"true\"\n";
        }
        yaml << "  - task_id: " << u << "\n    operator: bash\n    bash_command: \"true\"\n";
        if (upstream[i] == 'U') yaml << "    depends_on: [g_" << u << "]\n";
        if (upstream[i] == 'R') yaml << "    retries: 1\n";
        d_upstream += (i ? ", " : "") + u;
    }
    yaml << "  - task_id: d\n    operator: bash\n    bash_command: \"true\"\n    depends_on: [" << d_upstream
         << "]\n    trigger_rule: " << rule << "\n";
    return yaml.str();
}

void check_rule_row(const std::string& rule, const RuleRow& row) {
    INFO("trigger_rule " << rule << ", upstream " << row.upstream << " -> d " << to_string(row.d) << ", run "
                         << to_string(row.run));
    Harness h;
    const std::string dag_id = "rule_" + rule;
    h.add_dag(rule_dag_yaml(dag_id, rule, row.upstream));
    auto run_id = h.core->trigger(TriggerRequest{.dag_id = dag_id});
    REQUIRE(run_id);
    h.turn();
    for (size_t i = 0; i < row.upstream.size(); ++i) {
        const std::string u = "u" + std::to_string(i + 1);
        switch (row.upstream[i]) {
            case 'S':
                finish(h, u, TaskOutcome::success);
                break;
            case 'F':
            case 'R':
                finish(h, u, TaskOutcome::failed);
                break;
            case 'K':
                finish(h, u, TaskOutcome::skipped);
                break;
            case 'U':
                finish(h, "g_" + u, TaskOutcome::failed);
                break;
            case '.':
                continue;
            default:
                FAIL("unknown outcome letter " << row.upstream[i]);
        }
        h.turn();
        if (row.upstream[i] == 'U')
            CHECK(to_string(stored_task(h, dag_id, *run_id, u).state) == "upstream_failed");
        if (row.upstream[i] == 'R')
            CHECK(to_string(stored_task(h, dag_id, *run_id, u).state) == "up_for_retry");
    }

    const TaskState d_state = stored_task(h, dag_id, *run_id, "d").state;
    switch (row.d) {
        case Downstream::waits:
            CHECK(to_string(d_state) == "none");
            CHECK_FALSE(is_launched(h, "d"));
            break;
        case Downstream::launched:
            CHECK(to_string(d_state) == "queued");
            REQUIRE(is_launched(h, "d"));
            finish(h, "d", TaskOutcome::success);
            h.turn();
            CHECK(to_string(stored_task(h, dag_id, *run_id, "d").state) == "success");
            break;
        case Downstream::skipped:
            CHECK(to_string(d_state) == "skipped");
            CHECK_FALSE(is_launched(h, "d"));
            break;
        case Downstream::upstream_failed:
            CHECK(to_string(d_state) == "upstream_failed");
            CHECK_FALSE(is_launched(h, "d"));
            break;
    }
    CHECK(to_string(stored_run(h, dag_id, *run_id).state) == to_string(row.run));
}

// ---- Retries ----

// One row: a task's retry settings, how many of its tries fail (tries 1..failures fail; the next
// one, if the task has one left, succeeds), the next_try_at stored after each failure that is
// retried, and the task's final state. Try 1 starts at 06:00:00 and every try runs one minute.
struct RetryRow {
    std::string name;
    std::string settings;  // the task's retry fields, as YAML lines
    int failures;
    std::vector<std::string> next_try_at;
    TaskState final_state;
};

// The run is dag sales_daily, task load, logical date 2024-03-01T00:00:00+00:00: the task instance
// whose backoff waits retry_delay_test.cpp and docs/scheduling-rules.md give as computed by Python's
// hashlib with Airflow 2.10's formula (retry_delay 5m: 411 s after try 1 failed, 941 s after try 2,
// 1920 s after try 3, 4760 s after try 4; retry_delay 0 s: 1 s after try 1). Capped waits apply
// min(wait, max_retry_delay) to those values; none is computed with retry_delay() itself.
const std::vector<RetryRow> kRetryRows = {
    {"a fixed delay, then success",
     "retries: 2\nretry_delay: 5m\n",
     1,
     {"2024-03-01T06:06:00+00:00"},
     TaskState::success},
    {"a fixed delay until the retries run out",
     "retries: 2\nretry_delay: 90s\n",
     3,
     {"2024-03-01T06:02:30+00:00", "2024-03-01T06:05:00+00:00"},
     TaskState::failed},
    {"max_retry_delay does not cap a fixed delay",
     "retries: 1\nretry_delay: 5m\nmax_retry_delay: 10s\n",
     1,
     {"2024-03-01T06:06:00+00:00"},
     TaskState::success},
    {"exponential backoff with the hash jitter",  // waits 411, 941, 1920 s
     "retries: 3\nretry_delay: 5m\nretry_exponential_backoff: true\n",
     3,
     {"2024-03-01T06:07:51+00:00", "2024-03-01T06:24:32+00:00", "2024-03-01T06:57:32+00:00"},
     TaskState::success},
    {"exponential backoff capped at an hour",  // waits 411, 941, 1920, min(4760, 3600) s
     "retries: 4\nretry_delay: 5m\nretry_exponential_backoff: true\nmax_retry_delay: 1h\n",
     5,
     {"2024-03-01T06:07:51+00:00", "2024-03-01T06:24:32+00:00", "2024-03-01T06:57:32+00:00",
      "2024-03-01T07:58:32+00:00"},
     TaskState::failed},
    {"exponential backoff capped at ten minutes",  // waits 411, min(941, 600) s
     "retries: 2\nretry_delay: 5m\nretry_exponential_backoff: true\nmax_retry_delay: 10m\n",
     2,
     {"2024-03-01T06:07:51+00:00", "2024-03-01T06:18:51+00:00"},
     TaskState::success},
    {"exponential backoff from a zero delay waits a second",
     "retries: 1\nretry_delay: 0s\nretry_exponential_backoff: true\n",
     1,
     {"2024-03-01T06:01:01+00:00"},
     TaskState::success},
    {"no retries", "retries: 0\n", 1, {}, TaskState::failed},
};

std::string retry_dag_yaml(const std::string& settings) {
    std::string yaml =
        "dag_id: sales_daily\ntasks:\n  - task_id: load\n    operator: bash\n    bash_command: \"false\"\n";
    std::istringstream lines(settings);
    for (std::string line; std::getline(lines, line);) yaml += "    " + line + "\n";
    return yaml;
}

void check_retry_row(const RetryRow& row) {
    INFO(row.name);
    Harness h;
    h.clock.set(at("2024-03-01T06:00:00Z"));
    h.add_dag(retry_dag_yaml(row.settings));
    auto run_id =
        h.core->trigger(TriggerRequest{.dag_id = "sales_daily", .logical_date = at("2024-03-01T00:00:00Z")});
    REQUIRE(run_id);
    h.turn();
    for (int try_number = 1;; ++try_number) {
        INFO("try " << try_number << " at " << utc_text(h.clock.now()));
        REQUIRE(h.executor.launched.size() == 1);
        CHECK(h.executor.launched[0].key.try_number == try_number);
        h.clock.advance(std::chrono::minutes(1));
        const bool fails = try_number <= row.failures;
        h.finish_next(fails ? TaskOutcome::failed : TaskOutcome::success);
        auto wake = h.core->run_turn();
        REQUIRE(wake);
        const auto failed_so_far = static_cast<size_t>(try_number);
        if (!fails || failed_so_far > row.next_try_at.size()) break;  // succeeded, or no retry left

        const std::string& due = row.next_try_at[failed_so_far - 1];
        const TaskInstanceRow ti = stored_task(h, "sales_daily", *run_id, "load");
        CHECK(to_string(ti.state) == "up_for_retry");
        CHECK(ti.try_number == try_number);
        REQUIRE(ti.next_try_at);
        CHECK(utc_text(*ti.next_try_at) == due);
        REQUIRE(*wake);
        CHECK(utc_text(**wake) == due);  // the core asks to be woken for it

        h.clock.set(at(due) - std::chrono::seconds(1));
        h.turn();
        CHECK(h.executor.launched.empty());
        CHECK(to_string(stored_task(h, "sales_daily", *run_id, "load").state) == "up_for_retry");
        h.clock.set(at(due));
        h.turn();
    }
    CHECK(h.executor.launched.empty());
    const TaskInstanceRow ti = stored_task(h, "sales_daily", *run_id, "load");
    CHECK(to_string(ti.state) == to_string(row.final_state));
    CHECK_FALSE(ti.next_try_at);
    CHECK(ti.try_number == static_cast<int>(row.next_try_at.size()) + 1);  // one try per retry, and the first
    CHECK(to_string(stored_run(h, "sales_daily", *run_id).state) ==
          (row.final_state == TaskState::success ? "success" : "failed"));
}

}  // namespace

TEST_CASE("each trigger rule, through the core, for upstream tasks ending one after another",
          "[scheduler_rules]") {
    CHECK(kRuleTables.size() == 13);
    for (const RuleTable& table : kRuleTables) {
        CHECK(table.rows.size() >= 3);
        for (const RuleRow& row : table.rows) {
            DYNAMIC_SECTION(table.rule << " " << row.upstream) {
                check_rule_row(table.rule, row);
            }
        }
    }
}

TEST_CASE("retry delays, through the core: next_try_at as stored, and the retry launched exactly then",
          "[scheduler_rules]") {
    for (const RetryRow& row : kRetryRows) {
        DYNAMIC_SECTION(row.name) {
            check_retry_row(row);
        }
    }
}

TEST_CASE("a retry waiting when the scheduler restarts is launched at its stored next_try_at",
          "[scheduler_rules]") {
    Harness h;
    h.clock.set(at("2024-03-01T06:00:00Z"));
    auto dag = h.add_dag(retry_dag_yaml("retries: 2\nretry_delay: 5m\nretry_exponential_backoff: true\n"));
    auto run_id =
        h.core->trigger(TriggerRequest{.dag_id = "sales_daily", .logical_date = at("2024-03-01T00:00:00Z")});
    REQUIRE(run_id);
    h.turn();
    h.clock.advance(std::chrono::minutes(1));
    h.finish_next(TaskOutcome::failed);
    h.turn();

    h.clock.set(at("2024-03-01T06:03:00Z"));
    h.restart();
    h.core->set_dag(dag, h.version, false);
    REQUIRE(h.core->recover());
    auto wake = h.core->run_turn();
    REQUIRE(wake);
    REQUIRE(*wake);
    CHECK(utc_text(**wake) == "2024-03-01T06:07:51+00:00");  // 06:01:00 + 411 s, as before the restart
    CHECK(h.executor.launched.empty());
    h.clock.set(at("2024-03-01T06:07:50Z"));
    h.turn();
    CHECK(h.executor.launched.empty());
    h.clock.set(at("2024-03-01T06:07:51Z"));
    h.turn();
    REQUIRE(h.executor.launched.size() == 1);
    CHECK(h.executor.launched[0].key.try_number == 2);
}

// depends_on_past is not a trigger rule but gates a task the same way (docs/dag-format.md: "wait
// until the task succeeded in the previous run"; Airflow's PrevDagrunDep: the previous run's task
// instance must be success or skipped, and the first run has none to wait for).
TEST_CASE("depends_on_past: a task waits until the same task succeeded in the previous run",
          "[scheduler_rules][depends_on_past]") {
    Harness h;
    h.add_dag(R"(
dag_id: dop
schedule: "@daily"
start_date: 2024-02-27
catchup: true
max_active_runs: 2
tasks:
  - task_id: a
    operator: bash
    bash_command: "true"
    depends_on_past: true
)");
    h.turn();
    // Runs 02-27 and 02-28 exist; only the first may start: 02-28's task waits for 02-27's.
    REQUIRE(h.runs("dop").size() == 2);
    REQUIRE_FALSE(h.executor.launched.empty());
    CHECK(h.executor.launched.size() == 1);
    CHECK(h.executor.launched[0].run_info.run_id == "scheduled__2024-02-27T00:00:00+00:00");
    CHECK(to_string(stored_task(h, "dop", "scheduled__2024-02-28T00:00:00+00:00", "a").state) == "none");

    h.finish_next(TaskOutcome::success);
    h.turn();
    REQUIRE_FALSE(h.executor.launched.empty());
    CHECK(h.executor.launched.size() == 1);
    CHECK(h.executor.launched[0].run_info.run_id == "scheduled__2024-02-28T00:00:00+00:00");

    // 02-28's task fails: 02-29's never starts.
    h.finish_next(TaskOutcome::failed);
    h.turn();
    CHECK(h.executor.launched.empty());
    CHECK(to_string(stored_task(h, "dop", "scheduled__2024-02-29T00:00:00+00:00", "a").state) == "none");
    CHECK(to_string(stored_run(h, "dop", "scheduled__2024-02-29T00:00:00+00:00").state) == "running");
}

}  // namespace mayaflow
