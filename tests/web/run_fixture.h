#pragma once
// DAGs, runs and task instances written straight to the API fixture's store, as the DAG processor
// and the scheduler would, for the tests of endpoints that read them.

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "engine/model/dag_json.h"
#include "engine/model/log_path.h"
#include "engine/store/sqlite_store.h"
#include "engine/util/utf8.h"
#include "tests/web/api_fixture.h"

namespace mayaflow::testing {

inline Task task_of(const std::string& task_id, const std::string& operator_name = "bash",
                    nlohmann::json params = nlohmann::json::object()) {
    Task task;
    task.task_id = task_id;
    task.operator_name = operator_name;
    task.params = std::move(params);
    return task;
}

// A DAG of these tasks, defined in `fileloc`, recorded as the DAG processor records a parse; each
// call records a new version when `source_hash` differs.
inline void add_dag(ApiFixture& fixture, const std::string& dag_id, const std::string& fileloc, std::vector<Task> tasks,
                    const std::string& source_hash = "h1") {
    Dag dag;
    dag.dag_id = dag_id;
    dag.fileloc = fileloc;
    dag.source_hash = source_hash;
    for (auto& task : tasks) task.defined_at.file = fileloc;
    dag.tasks = std::move(tasks);
    dag.index_tasks();
    REQUIRE(fixture.store->record_dag_file_parsed(fileloc, dag, dump_json(to_json(dag)), now_instant()));
}

inline TaskInstanceRow task_row(const std::string& task_id, TaskState state, int try_number,
                                nlohmann::json result = nullptr) {
    TaskInstanceRow row;
    row.task_id = task_id;
    row.state = state;
    row.try_number = try_number;
    row.max_tries = std::max(1, try_number);
    row.result = std::move(result);
    row.start_date = now_instant();
    if (is_finished(state)) row.end_date = now_instant();
    return row;
}

// A run of the DAG (of its version `dag_version`) with these task instances; its pk.
inline long long add_run(ApiFixture& fixture, const std::string& dag_id, const std::string& run_id,
                         std::vector<TaskInstanceRow> tasks, int dag_version = 1) {
    auto pk = fixture.store->next_run_pk();
    REQUIRE(pk);
    DagRunRow run;
    run.pk = *pk;
    run.dag_id = dag_id;
    run.run_id = run_id;
    run.run_type = "manual";
    run.state = RunState::running;
    run.dag_version = dag_version;
    run.logical_date = Instant(std::chrono::hours(24 * 19723 + static_cast<int>(*pk)));
    run.run_after = *run.logical_date;
    run.queued_at = *run.logical_date;
    run.data_interval_start = *run.logical_date;
    run.data_interval_end = *run.logical_date;
    run.task_instances = std::move(tasks);
    StateBatch batch;
    batch.new_runs.push_back(&run);
    REQUIRE(fixture.store->write_batch(batch));
    return *pk;
}

inline std::filesystem::path log_of(ApiFixture& fixture, const std::string& dag_id, const std::string& run_id,
                                    const std::string& task_id, int try_number) {
    return task_log_path(fixture.context->settings.logs_folder, dag_id, run_id, task_id, try_number);
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes, bool append = false) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace mayaflow::testing
