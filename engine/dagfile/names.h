#pragma once
// What the names in a DAG file may look like: dag_id, task_id, group and pool names, and for_each
// variables. Hand-written scanners rather than std::regex, whose matcher recurses once per character
// and overflows the stack on a name of a few thousand characters.

#include <cstddef>
#include <string_view>

namespace mayaflow {

// Airflow's limit for dag_id and task_id (ID_LEN).
inline constexpr std::size_t kMaxIdLength = 250;

// Letters, digits, '_', '-' and '.', at least one (Airflow's KEY_REGEX); the length is checked apart
// so that the error can say which rule was broken.
bool is_id_text(std::string_view text);

// A template variable name: a letter or '_', then letters, digits and '_'.
bool is_identifier(std::string_view text);

}  // namespace mayaflow
