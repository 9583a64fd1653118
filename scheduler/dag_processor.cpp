#include "scheduler/dag_processor.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "engine/dagfile/dag_folder.h"

namespace mayaflow {

DagProcessor::DagProcessor(DagProcessorOptions options, DagFileSink& sink)
    : options_(std::move(options)), sink_(sink) {}

DagProcessor::~DagProcessor() { stop(); }

std::optional<DagProcessor::FileStamp> DagProcessor::stamp_of(const std::filesystem::path& file) {
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(file, ec);
    if (ec) return std::nullopt;
    auto size = std::filesystem::file_size(file, ec);
    if (ec) return std::nullopt;
    return FileStamp{mtime, size};
}

bool DagProcessor::changed(const std::filesystem::path& file, const KnownFile& known) const {
    if (stamp_of(file) != std::optional<FileStamp>(known.stamp)) return true;
    for (const auto& [include, stamp] : known.includes) {
        if (stamp_of(include) != std::optional<FileStamp>(stamp)) return true;
    }
    return false;
}

void DagProcessor::process(const std::filesystem::path& file) {
    const std::string name = file.string();
    KnownFile known;
    auto stamp = stamp_of(file);
    if (!stamp) return;  // vanished between listing and reading: the next scan sees it gone
    known.stamp = *stamp;
    DagLoadResult result = load_dag_file(file, DagLoadOptions{options_.operators, options_.dags_folder});
    if (result.dag) {
        for (const auto& [other_file, other] : known_) {
            if (other_file != name && other.dag_id == result.dag->dag_id) {
                result.errors.push_back(LoadError{SourceLocation{name, 1, 1}, "dag_id",
                                                  fmt::format("dag_id '{}' is already defined in {}; dag_ids must be unique",
                                                              result.dag->dag_id, other_file)});
                result.dag.reset();
                break;
            }
        }
    }
    if (result.dag) {
        known.dag_id = result.dag->dag_id;
        sink_.dag_loaded(name, *result.dag);
    } else {
        sink_.dag_failed(name, result.errors);
    }
    // Remember the included files so that editing one of them reloads the DAG.
    for (const auto& include : result.included_files) {
        if (auto include_stamp = stamp_of(include)) known.includes[include] = *include_stamp;
    }
    known_[name] = std::move(known);
}

size_t DagProcessor::scan_once() {
    size_t parsed = 0;
    std::set<std::string> present;
    for (const auto& file : list_dag_files(options_.dags_folder)) {
        present.insert(file.string());
        auto it = known_.find(file.string());
        if (it != known_.end() && !changed(file, it->second)) continue;
        process(file);
        ++parsed;
    }
    for (auto it = known_.begin(); it != known_.end();) {
        if (present.count(it->first)) {
            ++it;
            continue;
        }
        sink_.file_deleted(it->first);
        it = known_.erase(it);
    }
    return parsed;
}

void DagProcessor::start() {
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            lock.unlock();
            try {
                scan_once();
            } catch (const std::exception& e) {
                spdlog::error("scanning the DAG folder {} failed: {}", options_.dags_folder.string(), e.what());
            }
            lock.lock();
            wake_.wait_for(lock, options_.scan_interval, [this] { return stopping_; });
        }
    });
}

void DagProcessor::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

}  // namespace mayaflow
