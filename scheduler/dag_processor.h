#pragma once
// DagProcessor watches the DAG folder: every scan interval it looks at each DAG file's size and
// modification time (and those of the files it includes), re-parses only what changed, on its own
// thread so that parsing never holds up scheduling, and reports each result to a sink. A file
// that fails to load keeps its last good DAG version running and reports the errors; a file that
// disappears is reported once.

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/dagfile/dag_loader.h"

namespace mayaflow {

class DagFileSink {
  public:
    virtual ~DagFileSink() = default;
    virtual void dag_loaded(const std::string& filename, const Dag& dag) = 0;
    virtual void dag_failed(const std::string& filename, const std::vector<LoadError>& errors) = 0;
    virtual void file_deleted(const std::string& filename) = 0;
};

struct DagProcessorOptions {
    std::filesystem::path dags_folder;
    Duration scan_interval = std::chrono::milliseconds(500);
    const OperatorCatalog* operators = nullptr;
};

class DagProcessor {
  public:
    DagProcessor(DagProcessorOptions options, DagFileSink& sink);
    ~DagProcessor();

    // Scans once on the calling thread: how the daemon loads the folder before it starts serving.
    // Returns how many files were (re)parsed.
    size_t scan_once();
    void start();  // scans every scan_interval on a thread of its own
    void stop();

  private:
    struct FileStamp {
        std::filesystem::file_time_type mtime;
        std::uintmax_t size = 0;
        friend bool operator==(const FileStamp&, const FileStamp&) = default;
    };
    struct KnownFile {
        FileStamp stamp;
        std::map<std::string, FileStamp> includes;
        std::string dag_id;  // "" when the file failed to load
    };

    bool changed(const std::filesystem::path& file, const KnownFile& known) const;
    void process(const std::filesystem::path& file);
    static std::optional<FileStamp> stamp_of(const std::filesystem::path& file);

    DagProcessorOptions options_;
    DagFileSink& sink_;
    std::map<std::string, KnownFile> known_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace mayaflow
