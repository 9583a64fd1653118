#pragma once
// What a task's templates read about its run (tmpl::RunInfo: ds, data_interval_*, params, conf,
// ti.try_number, prev_*_success, ti.xcom_pull), built in one place for the scheduler's tries, the
// API's rendered parameters and the CLI's `tasks render` / `tasks test`, so that all three render
// a task the same way.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/model/dag.h"
#include "engine/store/run_store.h"
#include "engine/template/airflow_context.h"

namespace mayaflow {

// The results (XCom return values) of a run's finished tasks, by task id.
using TaskResults = std::map<std::string, nlohmann::json, std::less<>>;

// The run's facts for one of its tasks in try `try_number`; prev_*_success and the results of
// other tasks are added by the two functions below.
tmpl::RunInfo task_run_info(const DagRunRow& run, const Dag& dag, const Task& task, int try_number);

// The DAG's latest successful run before the run's logical date (Airflow's
// get_previous_dagrun(state=success)), or none; none for a run without a logical date.
Result<std::optional<DagRunRow>> previous_successful_run(RunStore& store, const DagRunRow& run);
void set_previous_success(tmpl::RunInfo& info, const std::optional<DagRunRow>& previous);

// ti.xcom_pull reads these results.
std::shared_ptr<const TaskResults> results_of(const std::vector<TaskInstanceRow>& tasks);
void set_task_results(tmpl::RunInfo& info, std::shared_ptr<const TaskResults> results);

}  // namespace mayaflow
