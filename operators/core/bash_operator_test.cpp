#include "operators/core/bash_operator.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include "engine/exec/process_probe.h"
#include "operators/core/bash_test_support.h"
#include "operators/operator_registry.h"

namespace mayaflow {
namespace {

using namespace bash_test;
using exec_test::eventually;
using exec_test::live_members;
using exec_test::Watchdog;

// The NAME=value lines a command printed with `env`, as a map.
std::map<std::string, std::string> printed_environment(const std::string& log) {
    std::map<std::string, std::string> variables;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("[mayaflow] ")) continue;
        const auto equals = line.find('=');
        if (equals != std::string::npos && equals > 0)
            variables[line.substr(0, equals)] = line.substr(equals + 1);
    }
    return variables;
}

bool process_gone(pid_t pid) {
    const std::optional<ProcStat> stat = read_proc_stat(pid);
    return !stat || stat->ended();
}

TEST_CASE("bash: exit code 0 is success and the last line of output is the value", "[bash]") {
    Watchdog watchdog(30);
    BashRun r({{"bash_command", "echo first\necho\necho 'the last line'  \necho '   '"}});
    const OperatorResult result = r.execute();
    CHECK(result.outcome == TaskOutcome::success);
    CHECK(result.value == "the last line");
    CHECK(result.exit_code == 0);
    CHECK(result.message == "exit code 0");
    CHECK_FALSE(result.timed_out);
    const std::string log = r.log();
    CHECK(log.starts_with("[mayaflow] running: echo first (and 3 more lines)\nfirst\n\nthe last line"));
    CHECK(log.ends_with("[mayaflow] success: exit code 0\n"));
    // The exit file records the end for a daemon that restarts now.
    CHECK(exec_test::read_text(r.exit_file()) == "0\n");
}

TEST_CASE("bash: the value is the last line of stdout or stderr and null without output", "[bash]") {
    Watchdog watchdog(30);
    SECTION("stderr shares the log") {
        BashRun r({{"bash_command", "echo out; echo err >&2"}});
        CHECK(r.execute().value == "err");
    }
    SECTION("a last line without a newline") {
        BashRun r({{"bash_command", "printf 'a\\r\\nno newline'"}});
        const OperatorResult result = r.execute();
        CHECK(result.value == "no newline");
        CHECK(r.log().ends_with("no newline\n[mayaflow] success: exit code 0\n"));
    }
    SECTION("no output") {
        BashRun r({{"bash_command", "true"}});
        const OperatorResult result = r.execute();
        CHECK(result.outcome == TaskOutcome::success);
        CHECK(result.value.is_null());
    }
    SECTION("a second run of the same attempt does not take the first run's output") {
        BashRun r({{"bash_command", "echo first-run"}});
        CHECK(r.execute().value == "first-run");
        r.task.params["bash_command"] = ":";
        CHECK(r.execute().value.is_null());
    }
}

TEST_CASE("bash: output_encoding decides how the value is read", "[bash]") {
    Watchdog watchdog(30);
    SECTION("latin-1") {
        BashRun r({{"bash_command", "printf 'caf\\xe9\\n'"}, {"output_encoding", "latin-1"}});
        CHECK(r.execute().value == "caf\xC3\xA9");
    }
    SECTION("utf-8 keeps valid text and replaces invalid bytes") {
        BashRun r({{"bash_command", "printf '\\xe6\\x97\\xa5 caf\\xe9 \\xed\\xa0\\x80!\\n'"}});
        const OperatorResult result = r.execute();
        CHECK(result.value == "\xE6\x97\xA5 caf\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!");
        CHECK_NOTHROW(result.value.dump());
    }
}

TEST_CASE("bash: a non-zero exit code fails the task", "[bash]") {
    Watchdog watchdog(30);
    BashRun r({{"bash_command", "echo about to fail; exit 3"}});
    const OperatorResult result = r.execute();
    CHECK(result.outcome == TaskOutcome::failed);
    CHECK(result.exit_code == 3);
    CHECK(result.message == "exit code 3");
    CHECK(result.retryable);
    CHECK(result.value.is_null());
    CHECK(r.log().ends_with("about to fail\n[mayaflow] failed: exit code 3\n"));
}

TEST_CASE("bash: the command's own exit and set -e do not end the shell that records the status", "[bash]") {
    Watchdog watchdog(30);
    BashRun r({{"bash_command", "set -e\ntrap 'echo trapped' EXIT\nfalse\necho not reached"}});
    const OperatorResult result = r.execute();
    CHECK(result.exit_code == 1);
    CHECK(result.message == "exit code 1");
    CHECK(r.log().find("trapped") != std::string::npos);
    CHECK(r.log().find("not reached") == std::string::npos);
}

TEST_CASE("bash: a shell killed by a signal fails with the signal's name", "[bash]") {
    Watchdog watchdog(30);
    // $$ in the command is the wrapping shell, which then cannot record the status.
    BashRun r({{"bash_command", "kill -KILL $$"}});
    const OperatorResult result = r.execute();
    CHECK(result.outcome == TaskOutcome::failed);
    CHECK_FALSE(result.exit_code);
    CHECK(result.message == "killed by signal 9 (SIGKILL)");
}

TEST_CASE("bash: exit code 99 skips the task by default", "[bash]") {
    Watchdog watchdog(30);
    BashRun r({{"bash_command", "echo nothing to do; exit 99"}});
    const OperatorResult result = r.execute();
    CHECK(result.outcome == TaskOutcome::skipped);
    CHECK(result.exit_code == 99);
    CHECK(result.message == "exit code 99 (in skip_on_exit_code)");
    CHECK(result.value.is_null());
}

TEST_CASE("bash: skip_on_exit_code takes a custom list or one code", "[bash]") {
    Watchdog watchdog(30);
    auto outcome = [](nlohmann::json skip, int code) {
        BashRun r({{"bash_command", "exit " + std::to_string(code)}, {"skip_on_exit_code", std::move(skip)}});
        return r.execute().outcome;
    };
    CHECK(outcome({2, 3}, 3) == TaskOutcome::skipped);
    CHECK(outcome({2, 3}, 2) == TaskOutcome::skipped);
    CHECK(outcome({2, 3}, 99) == TaskOutcome::failed);
    CHECK(outcome(7, 7) == TaskOutcome::skipped);
    CHECK(outcome(nlohmann::json::array(), 99) == TaskOutcome::failed);
    CHECK(outcome(nullptr, 99) == TaskOutcome::failed);
    // As in Airflow the list is checked first, even for 0.
    CHECK(outcome({0}, 0) == TaskOutcome::skipped);
}

TEST_CASE("bash: without env the command gets the daemon's environment and the context variables", "[bash]") {
    Watchdog watchdog(30);
    BashRun r({{"bash_command", "env"}});
    BashOperator op(r.options());
    REQUIRE(op.execute(r.run(2)).outcome == TaskOutcome::success);
    const auto env = printed_environment(r.log());
    CHECK(env.at("DAEMON_ONLY") == "from-daemon");
    CHECK(env.at("AIRFLOW_CTX_DAG_ID") == "sales_daily");
    CHECK(env.at("AIRFLOW_CTX_TASK_ID") == "extract");
    CHECK(env.at("AIRFLOW_CTX_LOGICAL_DATE") == "2024-03-01T00:00:00+00:00");
    CHECK(env.at("AIRFLOW_CTX_DAG_RUN_ID") == "scheduled__2024-03-01T00:00:00+00:00");
    CHECK(env.at("AIRFLOW_CTX_TRY_NUMBER") == "2");
    CHECK(env.at("AIRFLOW_CTX_DAG_OWNER") == "data-team");
    CHECK(env.at("MAYAFLOW_DAG_ID") == "sales_daily");
    CHECK(env.at("MAYAFLOW_TASK_ID") == "extract");
    CHECK(env.at("MAYAFLOW_LOGICAL_DATE") == "2024-03-01T00:00:00+00:00");
    CHECK(env.at("MAYAFLOW_DAG_RUN_ID") == "scheduled__2024-03-01T00:00:00+00:00");
    CHECK(env.at("MAYAFLOW_TRY_NUMBER") == "2");
    // The wrapper's variables are gone before the command runs.
    CHECK(env.count("MAYAFLOW_COMMAND") == 0);
    CHECK(env.count("MAYAFLOW_EXIT_FILE") == 0);
}

TEST_CASE("bash: env replaces the daemon's environment unless append_env", "[bash]") {
    Watchdog watchdog(30);
    const nlohmann::json env = {
        {"TABLE", "sales_{{ ds_nodash }}"}, {"DAEMON_ONLY", "overridden"}, {"ONLY_ENV", "x"}};
    SECTION("env alone") {
        BashRun r(
            {{"bash_command", "env"}, {"env", {{"TABLE", "sales_{{ ds_nodash }}"}, {"ONLY_ENV", "x"}}}});
        REQUIRE(r.execute().outcome == TaskOutcome::success);
        const auto printed = printed_environment(r.log());
        CHECK(printed.at("TABLE") == "sales_20240301");
        CHECK(printed.at("ONLY_ENV") == "x");
        CHECK(printed.count("DAEMON_ONLY") == 0);
        CHECK(printed.at("AIRFLOW_CTX_DAG_ID") == "sales_daily");
    }
    SECTION("env with append_env") {
        BashRun r({{"bash_command", "env"}, {"env", env}, {"append_env", true}});
        REQUIRE(r.execute().outcome == TaskOutcome::success);
        const auto printed = printed_environment(r.log());
        CHECK(printed.at("TABLE") == "sales_20240301");
        CHECK(printed.at("DAEMON_ONLY") == "overridden");
        CHECK(printed.at("PATH") == "/usr/bin:/bin");
    }
    SECTION("the context variables win over env") {
        BashRun r({{"bash_command", "echo $AIRFLOW_CTX_DAG_ID"}, {"env", {{"AIRFLOW_CTX_DAG_ID", "mine"}}}});
        CHECK(r.execute().value == "sales_daily");
    }
}

TEST_CASE("bash: cwd is the given folder or a temporary one removed afterwards", "[bash]") {
    Watchdog watchdog(30);
    SECTION("given") {
        BashRun r({{"bash_command", "pwd"}});
        const auto work = r.dir.path() / "work_20240301";
        std::filesystem::create_directories(work);
        r.task.params["cwd"] = (r.dir.path() / "work_{{ ds_nodash }}").string();
        CHECK(r.execute().value == work.string());
        CHECK(std::filesystem::exists(work));
    }
    SECTION("temporary") {
        BashRun r({{"bash_command", "pwd; touch left-behind; mkdir -p a/b; touch a/b/c"}});
        const OperatorResult result = r.execute();
        REQUIRE(result.value.is_string());
        const std::filesystem::path used = result.value.get<std::string>();
        CHECK(used.parent_path() == r.temp_root());
        CHECK(used.filename().string().starts_with("mayaflow-bash-"));
        CHECK_FALSE(std::filesystem::exists(used));
        CHECK(entries_of(r.temp_root()).empty());
    }
    SECTION("a folder the command leaves empty serves the thread's next try") {
        BashRun r({{"bash_command", "pwd; ls -A | wc -l"}});
        const OperatorResult first = r.execute();
        REQUIRE(first.outcome == TaskOutcome::success);
        CHECK(first.value == "0");  // empty
        const auto entries = entries_of(r.temp_root());
        REQUIRE(entries.size() == 1);
        const std::filesystem::path kept = entries[0];
        CHECK(std::filesystem::is_empty(kept));
        r.task.params["bash_command"] = "touch mine; pwd";
        const OperatorResult second = r.execute();
        CHECK(second.value == kept.string());  // the same folder, and the file is gone after
        CHECK(entries_of(r.temp_root()).empty());
        r.task.params["bash_command"] = "ls -A | wc -l";
        CHECK(r.execute().value == "0");  // a new folder, empty
    }
    SECTION("a missing folder fails before anything starts") {
        BashRun r({{"bash_command", "echo never"}, {"cwd", "/nonexistent/mayaflow-test"}});
        const OperatorResult result = r.execute();
        CHECK(result.outcome == TaskOutcome::failed);
        CHECK_THAT(result.message, Catch::Contains("/nonexistent/mayaflow-test"));
        CHECK(r.started().empty());
        CHECK_THAT(r.log(), Catch::Contains("[mayaflow] failed: cannot start"));
    }
}

TEST_CASE("bash: templated fields see ds and loop variables and params and the try", "[bash]") {
    Watchdog watchdog(30);
    BashRun r({{"bash_command",
                "echo {{ ds }} {{ ds_nodash }} {{ table }} {{ params.table }} {{ ti.try_number }} "
                "{{ task.task_id }} {{ macros.ds_add(ds, 1) }}"}});
    r.task.loop_vars = {{"table", "users"}};
    BashOperator op(r.options());
    const OperatorResult result = op.execute(r.run(2));
    CHECK(result.value == "2024-03-01 20240301 users sales 2 extract 2024-03-02");
    CHECK_THAT(r.log(), Catch::StartsWith("[mayaflow] running: echo 2024-03-01 20240301 users sales 2"));
}

TEST_CASE("bash: a template error fails the try with the parameter's name and starts nothing", "[bash]") {
    Watchdog watchdog(30);
    SECTION("in bash_command") {
        BashRun r({{"bash_command", "echo {{ x }}"}});
        const OperatorResult result = r.execute();
        CHECK(result.outcome == TaskOutcome::failed);
        CHECK(result.message == "template error in bash_command: 'x' is undefined");
        CHECK(result.retryable);
        CHECK(r.started().empty());
        CHECK(r.log() == "[mayaflow] failed: template error in bash_command: 'x' is undefined\n");
    }
    SECTION("in an env value") {
        BashRun r({{"bash_command", "true"}, {"env", {{"DAY", "{{ ds | nope }}"}}}});
        const OperatorResult result = r.execute();
        CHECK(result.outcome == TaskOutcome::failed);
        CHECK_THAT(result.message, Catch::StartsWith("template error in env.DAY: "));
        CHECK(r.started().empty());
    }
    SECTION("a syntax error") {
        BashRun r({{"bash_command", "echo {{ ds "}});
        CHECK_THAT(r.execute().message, Catch::StartsWith("template error in bash_command: line 1, column"));
    }
}

TEST_CASE("bash: on_started reports the running process before the wait", "[bash]") {
    Watchdog watchdog(30);
    BashRun r({{"bash_command", "echo $$"}});
    std::optional<StartedProcess> seen;
    bool alive_when_reported = false;
    BashOperator op(r.options());
    TaskRun run = r.run();
    run.on_started = [&](const StartedProcess& process) {
        seen = process;
        alive_when_reported = process_start_ticks(process.pid) == process.start_ticks;
    };
    const OperatorResult result = op.execute(run);
    REQUIRE(seen);
    CHECK(alive_when_reported);
    CHECK(seen->boot_id == boot_id().value_or("?"));
    CHECK(seen->started_at != Instant{});
    // $$ is the wrapping shell: the process the scheduler records is the one that writes the exit file.
    CHECK(result.value == std::to_string(seen->pid));
}

TEST_CASE("bash: background processes left by the command are ended when it exits", "[bash]") {
    Watchdog watchdog(30);
    BashRun r({{"bash_command", "sleep 60 &\necho $! > leftover.pid\necho done"}});
    r.task.params["cwd"] = r.dir.path().string();
    const OperatorResult result = r.execute();
    CHECK(result.outcome == TaskOutcome::success);
    REQUIRE(r.started().size() == 1);
    CHECK(eventually([&] { return live_members(r.started()[0].pid).empty(); }));
}

TEST_CASE("bash: the execution timeout ends the whole group even a child that ignores SIGTERM", "[bash]") {
    Watchdog watchdog(30);
    BashRun r({{"bash_command",
                "bash -c 'trap \"\" TERM; echo $$ > stubborn.pid; sleep 60; sleep 60' &\nsleep 60"}});
    r.task.params["cwd"] = r.dir.path().string();
    r.timeout = 500ms;
    const OperatorResult result = r.execute();
    CHECK(result.outcome == TaskOutcome::failed);
    CHECK(result.timed_out);
    CHECK(result.message == "timed out after 500ms");
    CHECK(result.retryable);
    REQUIRE(r.started().size() == 1);
    CHECK(eventually([&] { return live_members(r.started()[0].pid).empty(); }));
    std::ifstream pid_file(r.dir.path() / "stubborn.pid");
    pid_t stubborn = 0;
    if (pid_file >> stubborn) CHECK(eventually([&] { return process_gone(stubborn); }));
    CHECK_THAT(r.log(), Catch::Contains("[mayaflow] timed out after 500ms; ending the task's processes"));
    CHECK(r.log().ends_with("[mayaflow] failed: timed out after 500ms\n"));
}

TEST_CASE("bash: cancel from another thread ends a running try", "[bash]") {
    Watchdog watchdog(30);
    BashRun r({{"bash_command", "trap '' TERM\necho ready\nsleep 60\nsleep 60"}});
    BashOperator op(r.options());
    std::thread canceller([&] {
        if (eventually([&] { return r.log().find("ready") != std::string::npos; })) op.cancel();
    });
    const OperatorResult result = op.execute(r.run());
    canceller.join();
    CHECK(result.outcome == TaskOutcome::failed);
    CHECK(result.cancelled);
    CHECK_FALSE(result.retryable);
    CHECK(result.message == "cancelled");
    REQUIRE(r.started().size() == 1);
    CHECK(eventually([&] { return live_members(r.started()[0].pid).empty(); }));
    CHECK(only_spare_folder_left(r.temp_root()));
}

TEST_CASE("bash: a cancelled operator starts nothing", "[bash]") {
    Watchdog watchdog(30);
    BashRun r({{"bash_command", "echo never"}});
    BashOperator op(r.options());
    op.cancel();
    op.cancel();
    const OperatorResult result = op.execute(r.run());
    CHECK(result.cancelled);
    CHECK(r.started().empty());
    CHECK(r.log().find("never") == std::string::npos);
}

TEST_CASE("bash: the registry makes bash and empty operators", "[bash][registry]") {
    Watchdog watchdog(30);
    const OperatorRegistry& registry = builtin_operators();
    std::unique_ptr<Operator> bash = registry.create("bash");
    REQUIRE(bash);
    BashRun r({{"bash_command", "echo from-registry"}});
    CHECK(bash->execute(r.run()).value == "from-registry");

    std::unique_ptr<Operator> empty = registry.create("empty");
    REQUIRE(empty);
    const OperatorResult nothing = empty->execute(r.run());
    CHECK(nothing.outcome == TaskOutcome::success);
    CHECK(nothing.value.is_null());
    CHECK(empty->resume(r.run(), StartedProcess{}).outcome == TaskOutcome::success);
    CHECK(registry.create("bashh") == nullptr);
}

}  // namespace
}  // namespace mayaflow
