#pragma once
// The body of `/health`, in the shape of Airflow's: the metadatabase's and the scheduler's status.
// Unlike Airflow it also says why a part is unhealthy, and how far the DAG folder is loaded.

#include <nlohmann/json.hpp>

#include "engine/store/store.h"
#include "scheduler/daemon_health.h"
#include "scheduler/dag_processor.h"

namespace mayaflow {

// A scheduler whose last committed turn is older than this is unhealthy (Airflow's
// scheduler_health_check_threshold).
inline constexpr auto kSchedulerHealthThreshold = std::chrono::seconds(30);

struct HealthAnswer {
    nlohmann::json body;
    bool healthy = false;  // every part is healthy
};

// `daemon` and `folder` are absent when the web server runs without a scheduler in its process.
HealthAnswer health_answer(Store& store, const DaemonHealth* daemon, const std::optional<DagFolderStatus>& folder,
                           Instant now);

}  // namespace mayaflow
