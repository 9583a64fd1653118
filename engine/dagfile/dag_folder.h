#pragma once
// The DAG folder: which files in it are DAG files, and loading all of them at once (for the CLI's
// validate and the first scan of the daemon). DAG files are the *.yaml and *.yml files anywhere
// below the folder, except hidden ones (".x"), ones starting with "_" (shared includes), and the
// paths matched by the patterns in the folder's .mayaflowignore file.

#include <filesystem>
#include <string>
#include <vector>

#include "engine/dagfile/dag_loader.h"

namespace mayaflow {

std::vector<std::filesystem::path> list_dag_files(const std::filesystem::path& folder);

struct FolderLoadResult {
    std::filesystem::path file;
    DagLoadResult result;
};

// Loads every DAG file; a dag_id defined by two files is an error in the second one (by path order).
std::vector<FolderLoadResult> load_dag_folder(const std::filesystem::path& folder, const DagLoadOptions& options);

}  // namespace mayaflow
