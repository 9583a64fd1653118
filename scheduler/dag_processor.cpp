#include "scheduler/dag_processor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "engine/metrics/metrics.h"
#include "engine/time/duration_text.h"
#include "engine/util/utf8.h"
#include "scheduler/folder_watch.h"

namespace mayaflow {
namespace {

namespace fs = std::filesystem;

// After a change is seen, the processor waits this long for the rest of it (an editor's save is a
// handful of events) before it looks.
constexpr auto kSettleTime = std::chrono::milliseconds(50);
constexpr auto kLongestRetryDelay = std::chrono::seconds(30);

std::string without_trailing_slash(std::string text) {
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    return text;
}

std::string shown(const std::string& path) { return escape_invalid_utf8(path); }

// The ways open() fails for a moment, through no fault of the file: try again later.
bool is_transient(int error) { return error == EMFILE || error == ENFILE || error == ENOMEM || error == EINTR; }

// The files a link at `file` leads through, up to the file it ends at; none when it is no link.
// Links to links are followed, at most 8 deep.
std::vector<std::string> link_targets(const std::string& file) {
    std::vector<std::string> targets;
    std::error_code ec;
    fs::path at = file;
    for (int hops = 0; hops < 8 && fs::is_symlink(at, ec); ++hops) {
        fs::path next = fs::read_symlink(at, ec);
        if (ec) break;
        at = next.is_absolute() ? next : at.parent_path() / next;
        targets.push_back(at.lexically_normal().string());
    }
    if (!targets.empty()) {
        fs::path canonical = fs::weakly_canonical(file, ec);
        if (!ec && canonical.string() != targets.back()) targets.push_back(canonical.string());
    }
    return targets;
}

}  // namespace

DagProcessor::DagProcessor(DagProcessorOptions options, DagFileSink& sink)
    : options_(std::move(options)),
      sink_(sink),
      root_(without_trailing_slash(options_.dags_folder.string())),
      retry_delay_(options_.scan_interval) {
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

DagProcessor::~DagProcessor() {
    stop();
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

DagFolderStatus DagProcessor::status() const {
    std::lock_guard lock(status_mutex_);
    return status_;
}

void DagProcessor::publish_status(bool loading) {
    std::lock_guard lock(status_mutex_);
    status_.loading = loading;
    status_.dag_files = known_.size();
    status_.watching = watch_ != nullptr;
    status_.problem = problem_;
}

// --- one file ---------------------------------------------------------------------------------

std::optional<DagProcessor::FileStamp> DagProcessor::stamp_of(const std::string& file) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
    auto nanoseconds = [](const timespec& time) { return std::int64_t{time.tv_sec} * 1'000'000'000 + time.tv_nsec; };
    return FileStamp{nanoseconds(info.st_mtim), nanoseconds(info.st_ctim), static_cast<std::uint64_t>(info.st_ino),
                     static_cast<std::uint64_t>(info.st_size)};
}

bool DagProcessor::changed(const std::string& file, const KnownFile& known) const {
    if (stamp_of(file) != std::optional<FileStamp>(known.stamp)) return true;
    for (const auto& [include, stamp] : known.includes) {
        if (stamp_of(include) != stamp) return true;
    }
    return false;
}

DagProcessor::Presence DagProcessor::presence(const std::string& file) const {
    struct stat info {};
    if (::stat(file.c_str(), &info) == 0) return S_ISREG(info.st_mode) ? Presence::present : Presence::gone;
    if (errno != ENOENT && errno != ENOTDIR) return Presence::unknown;  // no permission, I/O error: cannot tell
    // Not there, but perhaps only because the whole folder is away for a moment.
    if (::stat(root_.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) return Presence::unknown;
    return Presence::gone;
}

bool DagProcessor::process(const std::string& file) {
    auto stamp = stamp_of(file);
    if (!stamp) return true;  // vanished between listing and reading: the next look sees it gone
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && is_transient(errno)) {
        note_problem(fmt::format("cannot open {}: {}", shown(file), std::strerror(errno)));
        pending_.insert(file);
        return false;
    }
    if (fd >= 0) ::close(fd);
    pending_.erase(file);

    KnownFile known;
    known.stamp = *stamp;
    bool recorded = false;
    try {
        recorded = parse_and_report(file, known);
    } catch (const std::exception& e) {
        recorded = report_failed(
            file, {LoadError{SourceLocation{shown(file), 0, 0}, "",
                             fmt::format("the file could not be loaded: {}", escape_invalid_utf8(e.what()))}});
    } catch (...) {
        recorded = report_failed(file, {LoadError{SourceLocation{shown(file), 0, 0}, "", "the file could not be loaded"}});
    }
    if (!recorded) {
        // Not known as read, so that the next look (soon: it is pending) reads it again.
        note_problem(fmt::format("could not record {} in the database", shown(file)));
        pending_.insert(file);
        return false;
    }

    std::string previous_id;
    if (auto it = known_.find(file); it != known_.end()) {
        previous_id = it->second.dag_id;
        forget_includes(file, it->second);
    }
    // A file that fails keeps its last good DAG running, and so its dag_id too — unless it loaded
    // and now defines another dag_id, one that another file still holds (two files swapped by
    // `mv`): it no longer defines the old one, so that goes to whichever file waits for it.
    const bool defines_another = !known.waiting_for_dag_id.empty() && known.waiting_for_dag_id != previous_id;
    if (known.dag_id.empty() && !defines_another) known.dag_id = previous_id;
    for (const auto& [include, unused] : known.includes) includers_[include].insert(file);
    watch_include_folders(known);
    if (!known.dag_id.empty()) owner_of_dag_id_[known.dag_id] = file;
    bool released = !previous_id.empty() && previous_id != known.dag_id;
    known_[file] = std::move(known);
    if (released) release_dag_id(previous_id, file);
    // A change made while the file was read and reported, before the folders of its link target and
    // includes were watched, made no event: their stamps are looked at again now that they are.
    if (changed(file, known_[file])) {
        pending_.insert(file);
        if (!retry_at_) retry_later(false);
    }
    return true;
}

void DagProcessor::forget_includes(const std::string& file, const KnownFile& known) {
    for (const auto& [include, unused] : known.includes) {
        auto includers = includers_.find(include);
        if (includers == includers_.end()) continue;
        includers->second.erase(file);
        if (includers->second.empty()) includers_.erase(includers);
    }
}

bool DagProcessor::parse_and_report(const std::string& file, KnownFile& known) {
    if (auto bad = first_invalid_utf8(file)) {
        return report_failed(file,
                      {LoadError{SourceLocation{shown(file), 0, 0}, "",
                                 fmt::format("the file name is not valid UTF-8 (byte 0x{:02x} at offset {}); DAG file "
                                             "names must be UTF-8: rename the file",
                                             static_cast<unsigned char>(file[*bad]), *bad)}});
    }
    const auto parse_started = std::chrono::steady_clock::now();
    DagLoadResult result = load_dag_file(file, DagLoadOptions{options_.operators, options_.dags_folder});
    metrics::dag_file_parsed(std::chrono::duration<double>(std::chrono::steady_clock::now() - parse_started).count(),
                             result.dag.has_value());
    // Remembered even when the file failed: editing an include is then what parses it again.
    for (const auto& include : result.included_files) known.includes[include] = stamp_of(include);
    // A DAG file that is a link: the file it points to is watched as an include is, so that editing
    // it (often outside the DAG folder) is seen at once rather than at the next full look.
    for (const auto& target : link_targets(file)) known.includes[target] = stamp_of(target);
    if (result.dag) {
        auto owner = owner_of_dag_id_.find(result.dag->dag_id);
        if (owner != owner_of_dag_id_.end() && owner->second != file) {
            known.waiting_for_dag_id = result.dag->dag_id;
            result.errors.push_back(LoadError{SourceLocation{file, 1, 1}, "dag_id",
                                              fmt::format("dag_id '{}' is already defined in {}; dag_ids must be unique",
                                                          result.dag->dag_id, shown(owner->second))});
            result.dag.reset();
        }
    }
    if (!result.dag) return report_failed(file, result.errors);
    if (!sink_.dag_loaded(shown(file), *result.dag, result.warnings)) return false;
    known.dag_id = result.dag->dag_id;
    return true;
}

bool DagProcessor::report_failed(const std::string& file, const std::vector<LoadError>& errors) {
    try {
        return sink_.dag_failed(shown(file), errors);
    } catch (const std::exception& e) {
        spdlog::error("could not report the import error of {}: {}", shown(file), e.what());
        return true;  // a sink that throws would throw again: not retried
    }
}

void DagProcessor::forget(const std::string& file) {
    auto it = known_.find(file);
    if (it == known_.end()) return;
    std::string dag_id = it->second.dag_id;
    forget_includes(file, it->second);
    known_.erase(it);
    pending_.erase(file);
    try {
        sink_.file_deleted(shown(file), dag_id);
    } catch (const std::exception& e) {
        spdlog::error("could not report that {} is gone: {}", shown(file), e.what());
    }
    if (!dag_id.empty()) release_dag_id(dag_id, file);
}

// A dag_id that `file` no longer defines: a file that failed only because it defined the same id
// is parsed again, and may now take it.
void DagProcessor::release_dag_id(const std::string& dag_id, const std::string& file) {
    auto owner = owner_of_dag_id_.find(dag_id);
    if (owner != owner_of_dag_id_.end() && owner->second == file) owner_of_dag_id_.erase(owner);
    for (auto& [other, known] : known_) {
        if (known.waiting_for_dag_id == dag_id) pending_.insert(other);
    }
}

// --- the folder -------------------------------------------------------------------------------

void DagProcessor::note_problem(const std::string& problem) {
    if (problem == problem_) return;  // logged once, however often it is retried
    if (problem.empty()) {
        spdlog::info("the DAG folder {} can be read again", shown(root_));
    } else {
        spdlog::error("{}; no DAG is taken for gone because of it, and the DAG folder is looked at again soon", problem);
    }
    problem_ = problem;
}

void DagProcessor::retry_later(bool folder_lost) {
    auto delay = folder_lost ? options_.scan_interval : retry_delay_;
    retry_at_ = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay);
    if (!folder_lost) retry_delay_ = std::min<Duration>(retry_delay_ * 2, kLongestRetryDelay);
}

size_t DagProcessor::full_scan() {
    last_full_scan_ = std::chrono::steady_clock::now();
    retry_at_.reset();
    rules_ = DagFileRules::read(options_.dags_folder);
    std::set<std::string> wanted_watches;
    auto before_reading = [&](const fs::path& folder) {
        wanted_watches.insert(folder.string());
        watch_folder(folder);
    };
    auto listing = list_dag_folder(options_.dags_folder, rules_, {}, before_reading);
    if (!listing) {
        folder_lost_ = true;
        note_problem(listing.error().message);
        retry_later(true);
        return 0;
    }
    folder_lost_ = false;
    // Said once each, not at every look: a FIFO named like a DAG file stays one.
    std::set<std::string> skipped(listing->skipped.begin(), listing->skipped.end());
    for (const auto& text : skipped) {
        if (!skipped_said_.count(text)) spdlog::warn("{}", text);
    }
    skipped_said_ = std::move(skipped);
    std::set<std::string> listed;
    for (const auto& file : listing->files) listed.insert(file.string());
    auto under_unreadable_folder = [&](const std::string& file) {
        for (const auto& folder : listing->unreadable) {
            if (file.starts_with(folder.string() + "/")) return true;
        }
        return false;
    };
    // What is gone first: a DAG that moved to another file is then not taken for a duplicate.
    std::vector<std::string> gone;
    for (const auto& [file, known] : known_) {
        if (!listed.count(file) && !under_unreadable_folder(file)) gone.push_back(file);
    }
    for (const auto& file : gone) forget(file);

    size_t parsed = 0;
    for (const auto& file : listed) {
        if (stopping_) return parsed;
        auto it = known_.find(file);
        if (it != known_.end() && !pending_.count(file) && !changed(file, it->second)) continue;
        if (process(file)) ++parsed;
    }
    parsed += retry_pending();

    if (watch_) {
        for (const auto& [include, unused] : includers_) wanted_watches.insert(fs::path(include).parent_path().string());
        wanted_watches.insert(fs::path(root_).parent_path().string());
        for (const auto& folder : watch_->watched_folders()) {
            if (!wanted_watches.count(folder)) watch_->unwatch(folder);
        }
    }
    std::string problem;
    for (const auto& text : listing->problems) problem += (problem.empty() ? "" : "; ") + text;
    if (problem.empty() && !pending_.empty()) problem = problem_;  // a file still waits for a descriptor
    note_problem(problem);
    if (problem.empty()) {
        retry_delay_ = options_.scan_interval;
    } else {
        retry_later(false);
    }
    return parsed;
}

size_t DagProcessor::retry_pending() {
    size_t parsed = 0;
    std::set<std::string> waiting;
    waiting.swap(pending_);
    for (const auto& file : waiting) {
        if (stopping_) break;
        if (!known_.count(file) && !stamp_of(file)) continue;
        if (presence(file) == Presence::gone) {
            forget(file);
            continue;
        }
        if (process(file)) ++parsed;
    }
    if (!pending_.empty() && !retry_at_) retry_later(false);
    return parsed;
}

size_t DagProcessor::apply_changes(const std::vector<std::string>& paths) {
    std::set<std::string> candidates;
    const std::string ignore_file = root_ + "/" + DagFileRules::kIgnoreFile;
    for (const auto& path : paths) {
        if (path == root_) {
            // The folder itself moved, went or was replaced: its watches follow the old one.
            watch_.reset();
            open_watch();
            return full_scan();
        }
        if (path == ignore_file) return full_scan();
        // The file at `path`, or the files below it when it is (or was) a folder.
        if (known_.count(path)) candidates.insert(path);
        for (auto it = known_.lower_bound(path + "/"); it != known_.end() && it->first.starts_with(path + "/"); ++it) {
            candidates.insert(it->first);
        }
        if (auto includers = includers_.find(path); includers != includers_.end()) {
            candidates.insert(includers->second.begin(), includers->second.end());
        }
        if (!path.starts_with(root_ + "/")) continue;  // an include's folder outside the listed tree
        std::string relative = path.substr(root_.size() + 1);
        struct stat info {};
        if (::lstat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
            if (rules_.skips_folder(relative)) continue;
            auto listing = list_dag_folder(options_.dags_folder, rules_, path,
                                           [this](const fs::path& folder) { watch_folder(folder); });
            if (!listing || !listing->problems.empty()) {
                note_problem(listing ? listing->problems.front() : listing.error().message);
                retry_later(false);
            }
            if (listing) {
                for (const auto& file : listing->files) candidates.insert(file.string());
            }
        } else if (rules_.is_dag_file(relative)) {
            candidates.insert(path);
        }
    }
    // What is gone first, as in a full scan.
    for (const auto& file : candidates) {
        if (known_.count(file) && presence(file) == Presence::gone) forget(file);
    }
    size_t parsed = 0;
    for (const auto& file : candidates) {
        if (stopping_) break;
        auto it = known_.find(file);
        if (it == known_.end() ? !stamp_of(file) : !changed(file, it->second)) continue;
        if (process(file)) ++parsed;
    }
    return parsed + retry_pending();
}

// --- watching ---------------------------------------------------------------------------------

bool DagProcessor::open_watch() {
    auto watch = FolderWatch::open();
    if (!watch) {
        spdlog::warn("{}; looking at the DAG folder every {} instead", watch.error().message,
                     format_duration(options_.scan_interval));
        return false;
    }
    watch_ = std::move(*watch);
    watch_broken_ = false;
    // The DAG folder itself moved, deleted or replaced (a link switched to a new release).
    auto parent = fs::path(root_).parent_path();
    if (!parent.empty() && parent != fs::path(root_)) watch_->watch(parent, fs::path(root_).filename().string());
    return true;
}

void DagProcessor::watch_folder(const fs::path& folder) {
    if (!watch_ || watch_broken_ || watch_->watches(folder.string())) return;
    if (watch_->watch_count() >= options_.max_watched_folders) {
        spdlog::warn("the DAG folder has more than {} folders to watch; looking at it every {} instead",
                     options_.max_watched_folders, format_duration(options_.scan_interval));
        watch_broken_ = true;
        return;
    }
    switch (watch_->watch(folder)) {
        case FolderWatch::Outcome::watching:
        case FolderWatch::Outcome::gone:
        case FolderWatch::Outcome::no_permission:  // it cannot be read either: a problem the listing reports
            return;
        case FolderWatch::Outcome::out_of_watches:
            spdlog::warn("no inotify watch left for {} (raise the sysctl fs.inotify.max_user_watches); looking at the "
                         "DAG folder every {} instead",
                         shown(folder.string()), format_duration(options_.scan_interval));
            break;
        case FolderWatch::Outcome::failed:
            spdlog::warn("cannot watch {} with inotify: {}; looking at the DAG folder every {} instead",
                         shown(folder.string()), std::strerror(errno), format_duration(options_.scan_interval));
            break;
    }
    watch_broken_ = true;  // the watch is closed once the look in progress has finished
}

void DagProcessor::watch_include_folders(const KnownFile& known) {
    for (const auto& [include, unused] : known.includes) watch_folder(fs::path(include).parent_path());
}

void DagProcessor::wait(Duration timeout, bool for_changes) {
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {watch_ && for_changes ? watch_->fd() : -1, POLLIN, 0}};
    auto milliseconds = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    int ready = ::poll(fds, 2, static_cast<int>(std::clamp<long long>(milliseconds, 0, 24 * 3600 * 1000)));
    if (ready > 0 && (fds[0].revents & POLLIN)) {
        std::uint64_t count = 0;
        (void)!::read(wake_fd_, &count, sizeof count);
    }
}

void DagProcessor::run() {
    full_scan();
    if (watch_broken_) {
        watch_.reset();  // looking every scan interval from now on
        watch_broken_ = false;
    }
    if (watch_) spdlog::info("watching the DAG folder {} with inotify", shown(root_));
    publish_status(false);
    while (!stopping_) {
        auto now = std::chrono::steady_clock::now();
        auto next = watch_ && !folder_lost_ ? last_full_scan_ + options_.full_scan_interval : now + options_.scan_interval;
        if (retry_at_) next = std::min(next, *retry_at_);
        wait(std::chrono::duration_cast<Duration>(std::max(next - now, std::chrono::steady_clock::duration::zero())));
        if (stopping_) break;
        now = std::chrono::steady_clock::now();
        if (!watch_) {
            full_scan();
        } else if (folder_lost_) {
            // The watches follow the folder that went away: start again on whatever is there now.
            watch_.reset();
            open_watch();
            full_scan();
        } else {
            FolderChanges changes = watch_->read();
            if (!changes.paths.empty() && !changes.overflowed) {
                wait(kSettleTime, false);
                FolderChanges more = watch_->read();
                changes.overflowed = more.overflowed;
                changes.paths.insert(changes.paths.end(), more.paths.begin(), more.paths.end());
            }
            if (changes.overflowed || now >= last_full_scan_ + options_.full_scan_interval || (retry_at_ && now >= *retry_at_)) {
                full_scan();
            } else if (!changes.paths.empty()) {
                apply_changes(changes.paths);
            }
        }
        if (watch_broken_) {
            watch_.reset();  // looking every scan interval from now on
            watch_broken_ = false;
            full_scan();     // what changed while the watch was failing
        }
        publish_status(false);
    }
}

void DagProcessor::remember_files(const std::vector<std::string>& files) {
    // Known with a stamp no file has: found, they are parsed as any new file is.
    for (const auto& file : files) known_.try_emplace(file);
}

void DagProcessor::remember_dag_owners(const std::map<std::string, std::string>& owners) {
    // As if the file had loaded that DAG before: loading another dag_id, failing to load, or being
    // gone then does what it does while the daemon runs (release it, keep it, release it).
    for (const auto& [dag_id, file] : owners) {
        known_[file].dag_id = dag_id;
        owner_of_dag_id_[dag_id] = file;
    }
}

size_t DagProcessor::scan_once() {
    size_t parsed = full_scan();
    publish_status(false);
    return parsed;
}

void DagProcessor::start() {
    if (thread_.joinable()) return;
    stopping_ = false;
    if (options_.use_inotify && !watch_) open_watch();
    publish_status(true);
    thread_ = std::thread([this] { run(); });
}

void DagProcessor::stop() {
    stopping_ = true;
    if (wake_fd_ >= 0) {
        std::uint64_t one = 1;
        (void)!::write(wake_fd_, &one, sizeof one);
    }
    if (thread_.joinable()) thread_.join();
}

}  // namespace mayaflow
