#pragma once
// The DAG file loader: YAML text in, a validated Dag (or every error found, each with file, line,
// column and field) out. It never throws and never crashes on bad input.

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/dagfile/load_error.h"
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
    std::vector<LoadError> errors;
    std::vector<std::string> included_files;  // absolute paths of the files the DAG file included
};

constexpr size_t kMaxDagFileBytes = 4 * 1024 * 1024;

DagLoadResult load_dag_file(const std::filesystem::path& file, const DagLoadOptions& options);
DagLoadResult load_dag_text(std::string_view text, const std::filesystem::path& file, const DagLoadOptions& options);

}  // namespace mayaflow
