#include "web/health_answer.h"

#include "engine/time/iso8601.h"

namespace mayaflow {
namespace {

nlohmann::json status(bool healthy, const std::optional<std::string>& problem) {
    nlohmann::json part = {{"status", healthy ? "healthy" : "unhealthy"}};
    if (problem) part["detail"] = *problem;
    return part;
}

}  // namespace

HealthAnswer health_answer(Store& store, const DaemonHealth* daemon, const std::optional<DagFolderStatus>& folder,
                           Instant now) {
    HealthAnswer answer;
    auto readable = store.list_dags(false);
    std::optional<std::string> store_problem;
    if (!readable) store_problem = readable.error().message;
    DaemonHealth::Snapshot snapshot;
    if (daemon) snapshot = daemon->snapshot();
    if (!store_problem && snapshot.store_problem) store_problem = snapshot.store_problem;
    answer.body["metadatabase"] = status(!store_problem, store_problem);

    bool folder_healthy = true;
    if (folder) {
        // The port answers before the DAG folder is loaded: say how far it is.
        folder_healthy = folder->problem.empty();
        auto part = status(folder_healthy, folder->problem.empty() ? std::nullopt : std::optional(folder->problem));
        part["dag_folder_loaded"] = !folder->loading;
        part["dag_files"] = folder->dag_files;
        part["watching"] = folder->watching ? "inotify" : "polling";
        answer.body["dag_processor"] = part;
    }
    std::optional<Instant> heartbeat = snapshot.latest_scheduler_heartbeat;
    std::optional<std::string> scheduler_problem = snapshot.scheduler_problem;
    if (!daemon) {
        // A web server without a scheduler in its process (`mayaflow webserver`): the scheduler's
        // heartbeat is in the store, as Airflow's scheduler job is.
        auto stored = store.latest_scheduler_heartbeat();
        if (!stored) {
            scheduler_problem = stored.error().message;
        } else if (*stored) {
            heartbeat = (*stored)->latest_heartbeat;
        } else {
            scheduler_problem = "no scheduler has run on this database yet; start `mayaflow scheduler` or `mayaflow standalone`";
        }
    }
    if (!heartbeat && !scheduler_problem) scheduler_problem = "the scheduler has not committed a turn yet";
    if (heartbeat && now - *heartbeat > kSchedulerHealthThreshold && !scheduler_problem) {
        scheduler_problem = daemon ? "the scheduler has not committed a turn for over 30 s"
                                   : "the scheduler has not said it is alive for over 30 s; is `mayaflow scheduler` running?";
    }
    auto scheduler = status(!scheduler_problem, scheduler_problem);
    scheduler["latest_scheduler_heartbeat"] =
        heartbeat ? nlohmann::json(format_iso8601(*heartbeat, TimeZone::utc())) : nlohmann::json(nullptr);
    answer.body["scheduler"] = scheduler;
    // Only a daemon that runs tasks knows whether their logs can be written.
    if (daemon) answer.body["logs"] = status(!snapshot.logs_problem, snapshot.logs_problem);
    answer.healthy = !store_problem && !scheduler_problem && folder_healthy && !snapshot.logs_problem;
    return answer;
}

}  // namespace mayaflow
