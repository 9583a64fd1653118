#include "scheduler/folder_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace mayaflow {
namespace {

constexpr uint32_t kFolderEvents = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY |
                                   IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK;
constexpr uint32_t kEntryEvents = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR;

std::string without_trailing_slash(std::string text) {
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    return text;
}

}  // namespace

Result<std::unique_ptr<FolderWatch>> FolderWatch::open() {
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return make_error("inotify is not available: {}", std::strerror(errno));
    return std::unique_ptr<FolderWatch>(new FolderWatch(fd));
}

FolderWatch::~FolderWatch() {
    if (fd_ >= 0) ::close(fd_);
}

FolderWatch::Outcome FolderWatch::watch(const std::filesystem::path& folder, const std::string& only_name) {
    std::string key = without_trailing_slash(folder.string());
    if (wd_of_.count(key)) return Outcome::watching;
    // IN_MASK_ADD: a folder already watched by another path keeps the events it had.
    int wd = inotify_add_watch(fd_, key.c_str(), (only_name.empty() ? kFolderEvents : kEntryEvents) | IN_MASK_ADD);
    if (wd < 0) {
        if (errno == ENOSPC) return Outcome::out_of_watches;
        if (errno == ENOENT || errno == ENOTDIR) return Outcome::gone;
        if (errno == EACCES) return Outcome::no_permission;
        return Outcome::failed;
    }
    auto& watched = watched_[wd];
    if (watched.folders.empty()) watched.only_name = only_name;
    watched.folders.push_back(key);
    wd_of_[key] = wd;
    return Outcome::watching;
}

void FolderWatch::unwatch(const std::string& folder) {
    auto it = wd_of_.find(folder);
    if (it == wd_of_.end()) return;
    int wd = it->second;
    wd_of_.erase(it);
    auto& folders = watched_[wd].folders;
    folders.erase(std::remove(folders.begin(), folders.end(), folder), folders.end());
    if (!folders.empty()) return;
    watched_.erase(wd);
    inotify_rm_watch(fd_, wd);
}

std::vector<std::string> FolderWatch::watched_folders() const {
    std::vector<std::string> folders;
    for (const auto& [folder, wd] : wd_of_) folders.push_back(folder);
    return folders;
}

void FolderWatch::forget(int wd) {
    auto it = watched_.find(wd);
    if (it == watched_.end()) return;
    for (const auto& folder : it->second.folders) wd_of_.erase(folder);
    watched_.erase(it);
}

FolderChanges FolderWatch::read() {
    FolderChanges changes;
    std::set<std::string> seen;
    auto add = [&](std::string path) {
        if (seen.insert(path).second) changes.paths.push_back(std::move(path));
    };
    alignas(inotify_event) char buffer[64 * 1024];
    while (true) {
        ssize_t length = ::read(fd_, buffer, sizeof buffer);
        if (length <= 0) {
            if (length < 0 && errno == EINTR) continue;
            break;  // EAGAIN: nothing more waiting
        }
        for (char* at = buffer; at < buffer + length;) {
            auto* event = reinterpret_cast<inotify_event*>(at);
            at += sizeof(inotify_event) + event->len;
            if (event->mask & IN_Q_OVERFLOW) {
                changes.overflowed = true;
                continue;
            }
            auto it = watched_.find(event->wd);
            if (it == watched_.end()) continue;
            const Watched& watched = it->second;
            std::string name = event->len > 0 ? std::string(event->name) : std::string();
            if (!watched.only_name.empty()) {
                if (name == watched.only_name) {
                    for (const auto& folder : watched.folders) add(folder == "/" ? "/" + name : folder + "/" + name);
                }
                if (event->mask & IN_IGNORED) forget(event->wd);
                continue;
            }
            if (!name.empty()) {
                for (const auto& folder : watched.folders) add(folder == "/" ? "/" + name : folder + "/" + name);
            }
            if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)) {
                for (const auto& folder : watched.folders) add(folder);
                // A moved folder's watch would go on reporting it under its old path.
                if (event->mask & IN_MOVE_SELF) inotify_rm_watch(fd_, event->wd);
                forget(event->wd);
            }
        }
    }
    return changes;
}

}  // namespace mayaflow
