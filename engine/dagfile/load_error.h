#pragma once
// LoadError is one thing wrong with a DAG file, said the way a compiler says it:
// "dags/sales.yaml:12:5: tasks[2].retries: expected a non-negative integer, got "three"".

#include <string>
#include <vector>

#include "engine/model/dag.h"

namespace mayaflow {

struct LoadError {
    SourceLocation where;
    std::string field;  // the path of the field inside the file, e.g. "tasks[2].retries"; may be empty
    std::string message;

    std::string to_string() const;
};

std::string format_errors(const std::vector<LoadError>& errors);

}  // namespace mayaflow
