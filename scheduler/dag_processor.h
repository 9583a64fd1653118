#pragma once
// DagProcessor keeps the DAG folder and what the scheduler knows of it in step. It watches the
// folder with inotify (every folder below it that it reads, and the folders of included files),
// or, where inotify is missing or its watches ran out, looks at every file each scan interval. It
// re-parses only what changed (a DAG file's or an include's stamp), on its own thread so that
// parsing never holds up scheduling, and reports each result to a sink.
//
// What it promises (docs/scheduler.md, "The DAG folder"):
// - one file never stops the others: whatever goes wrong with a file (a name or text that is not
//   UTF-8, an exception) is that file's import error, and the scan goes on;
// - a file that failed is parsed again only when it or a file it includes changes;
// - a folder that cannot be read (moved away, no permission, no descriptors left) is a scan error,
//   logged once and retried; it never makes its files count as gone;
// - a file that is gone is reported once; a file whose DAG failed keeps its last good version.

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/dagfile/dag_folder.h"
#include "engine/dagfile/dag_loader.h"

namespace mayaflow {

class FolderWatch;

// Told what the processor found. File names are shown as they are, with each byte that is not
// UTF-8 written as \xNN.
class DagFileSink {
  public:
    virtual ~DagFileSink() = default;
    // `warnings` are what the load found worth saying about a DAG that loads (dags validate prints them).
    // Both return false when what they were told could not be recorded (the store cannot be written):
    // the file is then read again soon, as one that could not be opened.
    virtual bool dag_loaded(const std::string& filename, const Dag& dag, const std::vector<LoadError>& warnings) = 0;
    virtual bool dag_failed(const std::string& filename, const std::vector<LoadError>& errors) = 0;
    // `dag_id`: the DAG the file last loaded, "" when it loaded none the processor knows of.
    virtual void file_deleted(const std::string& filename, const std::string& dag_id) = 0;
};

struct DagProcessorOptions {
    std::filesystem::path dags_folder;
    // How often every file is looked at when the folder cannot be watched, and how soon a read
    // error is retried.
    Duration scan_interval = std::chrono::milliseconds(500);
    const OperatorCatalog* operators = nullptr;
    bool use_inotify = true;
    // At most this many folders are watched (each watch holds kernel memory); a bigger tree is
    // looked at every scan interval instead, as when the system's inotify watches run out.
    size_t max_watched_folders = 100'000;
    // While watching, the whole folder is still listed this often, for what inotify cannot see (a
    // file behind a link to outside the folder, a network file system).
    Duration full_scan_interval = std::chrono::minutes(5);
};

struct DagFolderStatus {
    bool loading = true;  // the first look at the folder has not finished
    size_t dag_files = 0;  // DAG files known, loaded or broken
    bool watching = false;  // with inotify; false: by looking every scan interval
    std::string problem;   // what the last look could not read; "" when it read everything
};

class DagProcessor {
  public:
    DagProcessor(DagProcessorOptions options, DagFileSink& sink);
    ~DagProcessor();
    DagProcessor(const DagProcessor&) = delete;
    DagProcessor& operator=(const DagProcessor&) = delete;

    // Files the store remembers from before (the files of its DAGs and import errors): each that
    // the first look at the folder does not find is reported gone, so that a file deleted while
    // the daemon was stopped does not leave its DAG active for ever. Call before the first look.
    void remember_files(const std::vector<std::string>& files);
    // The file each active DAG of the store was loaded from (dag_id -> file): when two files define
    // the same dag_id, the one that had it keeps it across a restart, as it does while the daemon
    // runs, instead of the first in the folder's order. Call before the first look.
    void remember_dag_owners(const std::map<std::string, std::string>& owners);

    // Looks at the whole folder once on the calling thread (not while started); returns how many
    // files were parsed.
    size_t scan_once();
    // Looks at the folder on a thread of its own: the whole of it first, then whatever changes.
    void start();
    void stop();

    DagFolderStatus status() const;  // from any thread

  private:
    struct FileStamp {
        std::int64_t mtime_ns = 0;
        std::int64_t ctime_ns = 0;
        std::uint64_t inode = 0;
        std::uint64_t size = 0;
        friend bool operator==(const FileStamp&, const FileStamp&) = default;
    };
    struct KnownFile {
        FileStamp stamp;
        // Included files and their stamps (none: it did not exist when the DAG was parsed).
        std::map<std::string, std::optional<FileStamp>> includes;
        std::string dag_id;                // the DAG it last loaded (kept while it fails); "" when none
        std::string waiting_for_dag_id;    // failed only because another file defines this dag_id
    };
    enum class Presence { present, gone, unknown };

    // The thread's loop: watching with inotify, or looking every scan interval.
    void run();
    bool open_watch();
    void watch_folder(const std::filesystem::path& folder);
    void watch_include_folders(const KnownFile& known);
    void wait(Duration timeout, bool for_changes = true);

    size_t full_scan();
    size_t apply_changes(const std::vector<std::string>& paths);
    size_t retry_pending();
    void retry_later(bool folder_lost);

    static std::optional<FileStamp> stamp_of(const std::string& file);
    bool changed(const std::string& file, const KnownFile& known) const;
    Presence presence(const std::string& file) const;
    // Parses one file and reports it; nothing that happens there escapes. False when the file
    // could not be opened for a moment (no descriptors left) and waits to be tried again.
    bool process(const std::string& file);
    // Both return whether the sink recorded what they reported.
    bool parse_and_report(const std::string& file, KnownFile& known);
    bool report_failed(const std::string& file, const std::vector<LoadError>& errors);
    void forget(const std::string& file);
    void forget_includes(const std::string& file, const KnownFile& known);
    void release_dag_id(const std::string& dag_id, const std::string& file);
    void note_problem(const std::string& problem);
    void publish_status(bool loading);

    DagProcessorOptions options_;
    DagFileSink& sink_;
    std::string root_;  // the DAG folder, without a trailing '/'
    DagFileRules rules_;
    std::map<std::string, KnownFile> known_;                  // by path, as the file system spells it
    std::map<std::string, std::set<std::string>> includers_;  // included file -> the DAG files that include it
    std::map<std::string, std::string> owner_of_dag_id_;      // dag_id -> the file that defines it
    std::set<std::string> pending_;                           // files to parse again, whatever their stamps
    std::set<std::string> skipped_said_;  // entries the last full look skipped, already logged
    std::string problem_;                                     // the last problem logged; "" when none

    std::unique_ptr<FolderWatch> watch_;  // null: looking every scan interval
    bool watch_broken_ = false;           // a folder could not be watched: fall back to looking
    bool folder_lost_ = false;            // the DAG folder itself could not be read
    std::chrono::steady_clock::time_point last_full_scan_;
    std::optional<std::chrono::steady_clock::time_point> retry_at_;
    Duration retry_delay_;

    mutable std::mutex status_mutex_;
    DagFolderStatus status_;
    std::atomic<bool> stopping_{false};
    int wake_fd_ = -1;  // an eventfd: stop() wakes the thread with it
    std::thread thread_;
};

}  // namespace mayaflow
