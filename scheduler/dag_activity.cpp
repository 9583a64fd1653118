#include "scheduler/dag_activity.h"

#include <fmt/format.h>

#include "engine/util/utf8.h"

namespace mayaflow {

std::string renamed_dag_reason(const std::string& fileloc, const std::string& new_dag_id) {
    return fmt::format("its file {} now defines '{}'; trigger '{}' instead", fileloc, new_dag_id, new_dag_id);
}

Status check_dag_takes_runs(Store& store, const std::string& dag_id) {
    auto record = store.find_dag(dag_id);
    if (!record) return record.error();
    if (!*record) {
        return make_error("no DAG with dag_id '{}'; `mayaflow dags list` shows the DAGs the scheduler has loaded",
                          escape_invalid_utf8(dag_id));
    }
    if ((*record)->is_active) return Status::success();
    const std::string& fileloc = (*record)->fileloc;
    auto active = store.list_dags(false);
    if (!active) return active.error();
    for (const auto& other : *active) {
        if (other.fileloc == fileloc) {
            return make_error("DAG '{}' is not active: {}", dag_id, renamed_dag_reason(fileloc, other.dag_id));
        }
    }
    return make_error("DAG '{}' is not active: its file {} is gone or no longer defines it; its runs are kept, "
                      "but it takes no new ones",
                      dag_id, fileloc);
}

}  // namespace mayaflow
