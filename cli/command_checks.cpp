#include "cli/command_checks.h"

#include <fmt/format.h>

#include "cli/cli_support.h"
#include "scheduler/dag_activity.h"

namespace mayaflow::cli {
namespace {

std::unique_ptr<SqliteStore> open_existing_store(const std::string& dag_id) {
    auto settings = settings_or_fail();
    if (!std::filesystem::exists(settings.database)) {
        throw CommandFailed{fmt::format("no DAG with dag_id '{}': no scheduler has loaded a DAG folder into {} yet; "
                                        "start `mayaflow scheduler` or `mayaflow standalone` first",
                                        dag_id, settings.database.string())};
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
        throw CommandFailed{fmt::format("no DAG with dag_id '{}'; `mayaflow dags list` shows the DAGs the scheduler "
                                        "has loaded",
                                        dag_id)};
    }
}

}  // namespace mayaflow::cli
