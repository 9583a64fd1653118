#pragma once
// The rules a DAG run's id follows, as Airflow's: at most 250 characters of
// `^[A-Za-z0-9_.~:+-]+$` (its default [scheduler] allowed_run_id_pattern), and a run triggered by
// hand may not take a prefix Airflow reserves for the runs the scheduler makes, so that a manual
// run can never take the id of a scheduled or backfill run to come.

#include <optional>
#include <string_view>

#include "engine/util/result.h"

namespace mayaflow {

inline constexpr size_t kMaxRunIdLength = 250;  // Airflow's ID_LEN

enum class RunIdUse { manual, automated };

// Success, or an error that says what is wrong with the id and what to use instead.
Status check_run_id(std::string_view run_id, RunIdUse use);

// The run type whose prefix ("scheduled__", "backfill__", ...) `run_id` starts with, if any.
std::optional<std::string_view> reserved_run_type(std::string_view run_id);

}  // namespace mayaflow
