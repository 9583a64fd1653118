#pragma once
// Helpers shared by the bash operator's tests: a task with its parameters, a try of it in a temporary
// folder, and a run made by hand as the scheduler would make it.

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/exec/exec_test_support.h"
#include "operators/core/bash_operator.h"

namespace mayaflow::bash_test {

using exec_test::TempDir;
using namespace std::chrono_literals;

inline Instant utc(int year, unsigned month, unsigned day) {
    return Instant{std::chrono::sys_days{std::chrono::year{year} / month / day}.time_since_epoch()};
}

// The run of 2024-03-01 of DAG sales_daily, with DAG params {table: sales}.
inline tmpl::RunInfo sample_run_info() {
    tmpl::RunInfo info;
    info.dag_id = "sales_daily";
    info.run_id = "scheduled__2024-03-01T00:00:00+00:00";
    info.logical_date = utc(2024, 3, 1);
    info.data_interval_start = utc(2024, 3, 1);
    info.data_interval_end = utc(2024, 3, 2);
    info.start_date = utc(2024, 3, 2);
    info.params = {{"table", "sales"}};
    info.run_type = "scheduled";
    return info;
}

// The task's parameters with the declared defaults filled in, as the DAG loader leaves them.
inline nlohmann::json with_defaults(nlohmann::json params) {
    for (const ParamSpec& param : bash_operator_spec().params) {
        if (!params.contains(param.name) && !param.default_value.is_null())
            params[param.name] = param.default_value;
    }
    return params;
}

// One bash task and the folder its tries run in: logs in dir/logs, temporary working folders in dir/tmp.
class BashRun {
  public:
    explicit BashRun(std::initializer_list<std::pair<const std::string, nlohmann::json>> params) {
        task.task_id = "extract";
        task.operator_name = "bash";
        task.owner = "data-team";
        nlohmann::json given = nlohmann::json::object();
        for (const auto& [name, value] : params) given[name] = value;
        task.params = with_defaults(std::move(given));
        std::filesystem::create_directories(temp_root());
    }

    TaskRun run(int try_number = 1) {
        return TaskRun{.task = task,
                       .run_info = sample_run_info(),
                       .try_number = try_number,
                       .log_file = log_file(),
                       .execution_timeout = timeout,
                       .base_environment = base_environment,
                       .on_started = [this](const StartedProcess& process) {
                           std::lock_guard lock(mutex_);
                           started_.push_back(process);
                       }};
    }

    BashOptions options() const { return BashOptions{.kill_grace = 300ms, .temp_root = temp_root()}; }
    OperatorResult execute() {
        BashOperator op(options());
        return op.execute(run());
    }

    std::filesystem::path log_file() const {
        return dir.path() / "logs" / "dag_id=sales_daily" / "attempt=1.log";
    }
    std::filesystem::path exit_file() const {
        return dir.path() / "logs" / "dag_id=sales_daily" / "attempt=1.exit";
    }
    std::filesystem::path temp_root() const { return dir.path() / "tmp"; }
    std::string log() const { return exec_test::read_text(log_file()); }

    std::vector<StartedProcess> started() const {
        std::lock_guard lock(mutex_);
        return started_;
    }

    TempDir dir;
    Task task;
    std::optional<Duration> timeout;
    std::map<std::string, std::string> base_environment{{"PATH", "/usr/bin:/bin"},
                                                        {"DAEMON_ONLY", "from-daemon"}};

  private:
    mutable std::mutex mutex_;
    std::vector<StartedProcess> started_;
};

// The folders in `root`, e.g. temporary working folders left behind.
inline std::vector<std::filesystem::path> entries_of(const std::filesystem::path& root) {
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::directory_iterator(root)) found.push_back(entry.path());
    return found;
}

// What tries leave in the temporary root: nothing, or the thread's spare working folder, empty.
inline bool only_spare_folder_left(const std::filesystem::path& root) {
    const auto entries = entries_of(root);
    return entries.empty() ||
           (entries.size() == 1 && std::filesystem::is_directory(entries[0]) && std::filesystem::is_empty(entries[0]));
}

}  // namespace mayaflow::bash_test
