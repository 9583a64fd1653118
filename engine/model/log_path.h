#pragma once
// Where a try's log lives: <logs>/dag_id=<dag>/run_id=<run>/task_id=<task>/attempt=<n>.log, the
// layout Airflow uses. Characters of run ids that are awkward in paths (':' and '/') become '_'.

#include <filesystem>
#include <string>

#include <fmt/format.h>

namespace mayaflow {

inline std::filesystem::path task_log_path(const std::filesystem::path& logs_folder, const std::string& dag_id,
                                           const std::string& run_id, const std::string& task_id, int try_number) {
    std::string run_folder = "run_id=" + run_id;
    for (auto& c : run_folder) {
        if (c == '/' || c == ':') c = '_';
    }
    return logs_folder / ("dag_id=" + dag_id) / run_folder / ("task_id=" + task_id) /
           fmt::format("attempt={}.log", try_number);
}

}  // namespace mayaflow
