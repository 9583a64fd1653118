#include "engine/template/airflow2_names.h"

#include <array>
#include <utility>

namespace mayaflow::tmpl {

namespace {

// Airflow 2's deprecation table (airflow/utils/context.py) and its templates reference, with the
// replacement spelled out where Airflow 2 left it to the user.
constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kRemovedNames = {{
    {"execution_date", "logical_date (or data_interval_start)"},
    {"next_execution_date", "data_interval_end"},
    {"next_ds", "{{ data_interval_end | ds }}"},
    {"next_ds_nodash", "{{ data_interval_end | ds_nodash }}"},
    {"prev_execution_date",
     "prev_data_interval_start_success for the previous successful run, or data_interval_start minus one "
     "interval ({{ data_interval_start - macros.timedelta(days=1) }} for a daily DAG)"},
    {"prev_ds",
     "{{ prev_data_interval_start_success | ds }} for the previous successful run, or "
     "{{ macros.ds_add(ds, -1) }} for a daily DAG"},
    {"prev_ds_nodash",
     "{{ prev_data_interval_start_success | ds_nodash }} for the previous successful run, or "
     "{{ (logical_date - macros.timedelta(days=1)) | ds_nodash }} for a daily DAG"},
    {"prev_execution_date_success", "prev_data_interval_start_success"},
    {"yesterday_ds", "{{ macros.ds_add(ds, -1) }}"},
    {"yesterday_ds_nodash", "{{ (logical_date - macros.timedelta(days=1)) | ds_nodash }}"},
    {"tomorrow_ds", "{{ macros.ds_add(ds, 1) }}"},
    {"tomorrow_ds_nodash", "{{ (logical_date + macros.timedelta(days=1)) | ds_nodash }}"},
    {"conf",
     "dag_run.conf for the run's conf (Airflow's configuration object is not available to templates)"},
}};

}  // namespace

std::optional<std::string_view> airflow3_replacement(std::string_view name) {
    for (const auto& [removed, replacement] : kRemovedNames) {
        if (removed == name) return replacement;
    }
    return std::nullopt;
}

}  // namespace mayaflow::tmpl
