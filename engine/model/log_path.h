#pragma once
// Where a try's log lives: <logs>/dag_id=<dag>/run_id=<run>/task_id=<task>/attempt=<n>.log, the
// layout Airflow uses. Run ids are written as they are (':' included, as Airflow does), except the
// bytes a folder name cannot hold or that would make two ids share a folder: '/', '%' and control
// characters are written as %XX, so every run id has a folder of its own.

#include <filesystem>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace mayaflow {

inline std::string log_folder_name(std::string_view prefix, std::string_view id) {
    std::string name(prefix);
    for (char c : id) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '/' || c == '%' || byte < 0x20 || byte == 0x7f) {
            name += fmt::format("%{:02X}", byte);
        } else {
            name += c;
        }
    }
    return name;
}

inline std::filesystem::path task_log_path(const std::filesystem::path& logs_folder, const std::string& dag_id,
                                           const std::string& run_id, const std::string& task_id, int try_number) {
    return logs_folder / log_folder_name("dag_id=", dag_id) / log_folder_name("run_id=", run_id) /
           log_folder_name("task_id=", task_id) / fmt::format("attempt={}.log", try_number);
}

}  // namespace mayaflow
