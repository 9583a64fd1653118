#pragma once
// The template names Airflow 2 gave every task that Airflow 3 removed (`execution_date`, `next_ds`,
// `prev_ds`, `yesterday_ds` ...): mayaflow renders as Airflow 3 does, so in a template they are
// undefined and fail the task at run time. The DAG loader warns about them when the file loads,
// with what to write instead.

#include <optional>
#include <string_view>

namespace mayaflow::tmpl {

// What to write instead of `name` when it is one of the removed names; nullopt otherwise.
std::optional<std::string_view> airflow3_replacement(std::string_view name);

}  // namespace mayaflow::tmpl
