#pragma once
// The files of a task instance's tries that the API serves (logs, executed notebooks), and the
// checks that keep ids from the URL to the file they name: an id that could step out of its folder
// ('/', "..", NUL, an absolute path) is refused before it reaches a path, the path is the one the
// scheduler writes (engine/model/log_path.h), and the file it resolves to — symlinks followed — must
// still be inside the logs folder.

#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "engine/store/run_store.h"
#include "web/api/api_context.h"
#include "web/api/api_request.h"

namespace mayaflow {

// Why `id` cannot name a file ("holds a '/'"), or nullopt when it can.
std::optional<std::string> unsafe_file_id_reason(std::string_view id);

// One try of a task instance, found from the URL's dag_id, dag_run_id, task_id and task_try_number.
struct TaskTry {
    DagRunRow run;
    TaskInstanceRow task;
    int try_number = 0;
    // The try may still add to its files: it is the task's latest try and the task has not finished.
    bool growing() const;
};

// The try, or the answer: 400 for an id that cannot name a file or a try number that is not one,
// 404 for an unknown DAG, run, task or try, 503 when the store cannot answer.
Read<TaskTry> find_task_try(ApiContext& context, const ApiRequest& request);

// A file opened for reading, closed when it goes.
class OpenedFile {
  public:
    explicit OpenedFile(int fd) : fd_(fd) {}
    OpenedFile(OpenedFile&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    OpenedFile& operator=(OpenedFile&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    ~OpenedFile();
    int fd() const { return fd_; }
    std::uint64_t size() const;
    // `length` bytes at most from `offset` (fewer at the end of the file).
    Result<std::string> read(std::uint64_t offset, std::uint64_t length) const;

  private:
    int fd_;
};

struct FileOpening {
    enum class Outcome { opened, missing, outside, not_a_file, failed } outcome = Outcome::missing;
    std::optional<OpenedFile> file;
    std::string error;  // failed: why
};

// Opens `path` for reading if it resolves (symlinks followed) to a regular file inside `root`.
FileOpening open_file_inside(const std::filesystem::path& root, const std::filesystem::path& path);

}  // namespace mayaflow
