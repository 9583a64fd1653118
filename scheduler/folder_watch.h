#pragma once
// FolderWatch tells which paths in some folders changed, with Linux inotify, so that an idle DAG
// processor costs nothing instead of looking at every file twice a second. inotify is not
// recursive: the DAG processor watches each folder it reads. A watch follows a folder's inode, so
// a watched folder that is moved away stops being watched.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/util/result.h"

namespace mayaflow {

struct FolderChanges {
    // Paths that were created, written, deleted or moved in or out, and watched folders that were
    // deleted or moved themselves; each once, in the order first seen.
    std::vector<std::string> paths;
    bool overflowed = false;  // the kernel dropped events: only a full look tells what changed
};

class FolderWatch {
  public:
    // An error when inotify cannot be used here (no kernel support, or the per-user instance limit).
    static Result<std::unique_ptr<FolderWatch>> open();
    ~FolderWatch();
    FolderWatch(const FolderWatch&) = delete;
    FolderWatch& operator=(const FolderWatch&) = delete;

    enum class Outcome { watching, gone, no_permission, out_of_watches, failed };
    // Watches the entries of `folder`. With `only_name`, only changes to the entry of that name
    // (how the DAG folder's parent is watched: for the DAG folder itself being moved or replaced).
    // One folder reached by two paths (a link) is reported under both.
    Outcome watch(const std::filesystem::path& folder, const std::string& only_name = {});
    void unwatch(const std::string& folder);
    bool watches(const std::string& folder) const { return wd_of_.count(folder) != 0; }
    std::vector<std::string> watched_folders() const;
    size_t watch_count() const { return watched_.size(); }

    int fd() const { return fd_; }  // readable when changes are waiting
    // The changes waiting now (none when there are none); never blocks.
    FolderChanges read();

  private:
    explicit FolderWatch(int fd) : fd_(fd) {}
    void forget(int wd);

    struct Watched {
        std::vector<std::string> folders;  // the paths it was watched by
        std::string only_name;
    };
    int fd_ = -1;
    std::map<int, Watched> watched_;
    std::map<std::string, int> wd_of_;
};

}  // namespace mayaflow
