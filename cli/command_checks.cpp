#include "cli/command_checks.h"

#include <fmt/format.h>

#include "cli/cli_support.h"
#include "engine/time/iso8601.h"
#include "engine/util/utf8.h"
#include "scheduler/dag_activity.h"

namespace mayaflow::cli {
namespace {

std::unique_ptr<SqliteStore> open_existing_store(const std::string& dag_id) {
    auto settings = settings_or_fail();
    if (!std::filesystem::exists(settings.database)) {
        throw CommandFailed{fmt::format("no DAG '{}': no scheduler has loaded a DAG folder into {} yet; start "
                                        "`mayaflow scheduler` or `mayaflow standalone` first",
                                        escape_invalid_utf8(dag_id), settings.database.string())};
    }
    return open_store_or_fail(settings, true);
}

}  // namespace

void require_dag_takes_runs(const std::string& dag_id) {
    auto store = open_existing_store(dag_id);
    auto checked = check_dag_takes_runs(*store, dag_id);
    if (!checked) throw CommandFailed{checked.error().message};
}

void require_known_dag(const std::string& dag_id) {
    auto store = open_existing_store(dag_id);
    auto record = store->find_dag(dag_id);
    if (!record) throw CommandFailed{record.error().message};
    if (!*record) {
        throw CommandFailed{fmt::format("no DAG '{}' in the database; `mayaflow dags list` shows the DAGs the "
                                        "scheduler has loaded",
                                        escape_invalid_utf8(dag_id))};
    }
}

DagRunRow require_run(const std::string& dag_id, const std::string& run_id) {
    require_known_dag(dag_id);
    auto store = open_existing_store(dag_id);
    auto run = store->find_run(dag_id, run_id, true);
    if (!run) throw CommandFailed{run.error().message};
    if (!*run) {
        throw CommandFailed{fmt::format("DAG '{}' has no run '{}'; `mayaflow dags list-runs {}` lists them", dag_id,
                                        run_id, dag_id)};
    }
    return std::move(**run);
}

void require_no_run_like(const std::string& dag_id, const std::string& run_id, Instant logical_date) {
    auto store = open_existing_store(dag_id);
    auto existing = store->find_conflicting_run(dag_id, run_id, logical_date);
    if (!existing) throw CommandFailed{existing.error().message};
    if (!*existing) return;
    if ((*existing)->run_id == run_id) {
        throw CommandFailed{fmt::format("DAG '{}' already has a run '{}'; choose another run id", dag_id, run_id)};
    }
    throw CommandFailed{fmt::format("DAG '{}' already has a run at logical date {}: '{}'; a DAG has one run per "
                                    "logical date (clear that run to run it again, or choose another logical date)",
                                    dag_id, format_iso8601(logical_date, TimeZone::utc()), (*existing)->run_id)};
}

void require_backfill_under_way(long long id) {
    auto settings = settings_or_fail();
    if (!std::filesystem::exists(settings.database)) {
        throw CommandFailed{fmt::format("there is no backfill {}; `mayaflow backfills list` lists them", id)};
    }
    auto store = open_store_or_fail(settings, true);
    auto backfill = store->find_backfill(id);
    if (!backfill) throw CommandFailed{backfill.error().message};
    if (!*backfill) throw CommandFailed{fmt::format("there is no backfill {}; `mayaflow backfills list` lists them", id)};
    if ((*backfill)->completed_at) throw CommandFailed{fmt::format("backfill {} is already completed", id)};
}

}  // namespace mayaflow::cli
