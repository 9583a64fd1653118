#pragma once
// The DAG folder: which files in it are DAG files, and loading all of them at once (for the CLI's
// validate and the first scan of the daemon). DAG files are the *.yaml and *.yml files anywhere
// below the folder, except hidden ones (".x"), ones starting with "_" (shared includes), the ones
// inside such folders, and the paths matched by the patterns in the folder's .mayaflowignore file.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dagfile/dag_loader.h"
#include "engine/util/result.h"

namespace mayaflow {

// DagFileRules says which paths below a DAG folder hold DAG files. Paths are relative to the
// folder and use '/'.
class DagFileRules {
  public:
    static constexpr const char* kIgnoreFile = ".mayaflowignore";

    // Reads the folder's .mayaflowignore (no file: nothing is ignored).
    static DagFileRules read(const std::filesystem::path& folder);

    // A folder whose files are never DAG files, and that is not looked into.
    bool skips_folder(std::string_view relative) const;
    // Whether a file at `relative` is a DAG file by its name and the names of the folders it is in.
    bool is_dag_file(std::string_view relative) const;

  private:
    bool ignored(std::string_view relative) const;
    std::vector<std::string> ignore_patterns_;
};

// What one look at the folder found.
struct DagFolderListing {
    std::vector<std::filesystem::path> files;    // the DAG files, sorted
    std::vector<std::filesystem::path> folders;  // every folder looked into, the first one first
    // Subfolders that could not be read (their files are neither listed nor gone), and why.
    std::vector<std::filesystem::path> unreadable;
    std::vector<std::string> problems;
    // Entries named like DAG files that are no files (a FIFO, a device, a link to nothing), and why.
    std::vector<std::string> skipped;
};

// Lists the DAG files below `folder`, or only those below `subfolder` (a folder inside it). An error
// when that folder itself cannot be read: missing, not a folder, no permission, no descriptors left.
// A subfolder that cannot be read is listed in `unreadable`, so that a moment's read error is never
// taken for "all its files are gone". `before_reading` is called with each folder before it is read
// (how a watcher starts watching a folder without missing a file written while it is read).
Result<DagFolderListing> list_dag_folder(const std::filesystem::path& folder, const DagFileRules& rules,
                                         const std::filesystem::path& subfolder = {},
                                         const std::function<void(const std::filesystem::path&)>& before_reading = {});
Result<DagFolderListing> list_dag_folder(const std::filesystem::path& folder);

// The DAG files, sorted; none when the folder cannot be read.
std::vector<std::filesystem::path> list_dag_files(const std::filesystem::path& folder);

struct FolderLoadResult {
    std::filesystem::path file;
    DagLoadResult result;
};

// Loads every DAG file; a dag_id defined by two files is an error in the second one (by path order).
std::vector<FolderLoadResult> load_dag_folder(const std::filesystem::path& folder, const DagLoadOptions& options);

}  // namespace mayaflow
