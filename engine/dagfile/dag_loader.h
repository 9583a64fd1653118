#pragma once
// The DAG file loader: YAML text in, a validated Dag (or the errors found, each with file, line,
// column and field) out. It never throws and never crashes on bad input, and the limits in
// load_limits.h bound the time, memory and stack any file can cost it.

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/dagfile/load_error.h"
#include "engine/dagfile/load_limits.h"
#include "engine/model/dag.h"
#include "engine/model/operator_spec.h"

namespace mayaflow {

struct DagLoadOptions {
    const OperatorCatalog* operators = nullptr;
    // Files included with `!include` or a template extension must lie inside this folder; empty
    // means the DAG file's own folder.
    std::filesystem::path dags_folder;
};

struct DagLoadResult {
    std::optional<Dag> dag;
    std::vector<LoadError> errors;  // at most kMaxErrorsPerFile, then a line saying how many more
    // Things that load but will probably fail or mislead at run time (an Airflow 2 template name
    // that Airflow 3 removed, for example); a DAG with only warnings loads.
    std::vector<LoadError> warnings;
    std::vector<std::string> included_files;  // absolute paths of the files the DAG file included
};

DagLoadResult load_dag_file(const std::filesystem::path& file, const DagLoadOptions& options);
DagLoadResult load_dag_text(std::string_view text, const std::filesystem::path& file, const DagLoadOptions& options);

}  // namespace mayaflow
