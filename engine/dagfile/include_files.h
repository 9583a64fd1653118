#pragma once
// IncludeFiles reads the files one DAG file includes (`!include`, and operator parameters naming a
// `.sh` or `.sql` file) during one load: only files inside the DAG folder, only UTF-8, each read once
// however many tasks use it (a for_each of 10,000 tasks over one script reads the script once), and
// no more than kMaxIncludedBytesPerDag in all.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/hash.h"
#include "engine/util/result.h"

namespace mayaflow {

// One included file as read during a load.
struct IncludedFile {
    std::string path;  // canonical
    std::string text;
    // The file read as data (.json, .yaml, .yml), kept after the first successful conversion so that
    // later uses copy it instead of parsing it again; `data_failed` after a failed one, whose errors
    // were reported where it was first used.
    std::optional<nlohmann::json> data;
    std::size_t data_nodes = 0;  // values in `data`, counted as if converted at each use
    bool data_failed = false;
};

// The text of a regular file, or an error when it cannot be read or holds more than `max_bytes` (it is
// never read further than that, even if it grows while being read).
Result<std::string> read_file_at_most(const std::filesystem::path& file, std::size_t max_bytes);

class IncludeFiles {
  public:
    // `base_dir`: the DAG file's folder, which relative names start from; `root`: the folder the
    // files must lie in.
    IncludeFiles(std::filesystem::path base_dir, std::filesystem::path root);

    // The file named `relative_path`, or an error saying why it cannot be used (absolute, outside
    // the folder, missing, too large, unreadable, not UTF-8, or over the DAG's byte budget).
    Result<IncludedFile*> read(std::string_view relative_path);

    // Every file the DAG file named that exists, read or refused, so that a change to one reloads the
    // DAG (fixing a file that was not UTF-8 must bring the DAG back).
    const std::vector<std::string>& paths() const { return paths_; }
    // A hash of every file read: its path and its text.
    const ContentHash& hash() const { return hash_; }

  private:
    Result<IncludedFile*> load(const std::filesystem::path& resolved, std::string_view relative_path);

    std::filesystem::path base_dir_;
    std::filesystem::path root_;
    std::map<std::string, std::unique_ptr<IncludedFile>> files_;  // by canonical path
    std::map<std::string, Error> refused_;                        // by canonical path
    std::vector<std::string> paths_;
    ContentHash hash_;
    std::size_t bytes_read_ = 0;
};

}  // namespace mayaflow
