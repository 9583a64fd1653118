#include "web/api/task_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/util/utf8.h"
#include "web/api/problem.h"
#include "web/api/run_shapes.h"

namespace mayaflow {
namespace fs = std::filesystem;

std::optional<std::string> unsafe_file_id_reason(std::string_view id) {
    if (id.empty()) return "is empty";
    if (id == "." || id == "..") return fmt::format("is '{}', a folder's name for itself or its parent", id);
    if (id.find('/') != std::string_view::npos) return "holds a '/' (an absolute path or a path into folders)";
    if (id.find('\\') != std::string_view::npos) return "holds a '\\'";
    for (char c : id) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte == 0) return "holds a NUL byte";
        if (byte < 0x20 || byte == 0x7f) return fmt::format("holds the control character \\x{:02x}", byte);
    }
    return std::nullopt;
}

bool TaskTry::growing() const { return try_number == task.try_number && !is_finished(task.state); }

Read<TaskTry> find_task_try(ApiContext& context, const ApiRequest& request) {
    for (const char* name : {"dag_id", "dag_run_id", "task_id"}) {
        if (auto why = unsafe_file_id_reason(request.param(name))) {
            return bad_request(fmt::format("{} '{}' cannot name a task's files: it {}", name,
                                           escape_invalid_utf8(request.param(name)), *why));
        }
    }
    const std::string& dag_id = request.param("dag_id");
    const std::string& run_id = request.param("dag_run_id");
    const std::string& task_id = request.param("task_id");
    const std::string& try_text = request.param("task_try_number");
    int try_number = 0;
    const bool digits = !try_text.empty() && try_text.size() <= 6 &&
                        try_text.find_first_not_of("0123456789") == std::string::npos;
    if (digits) try_number = std::stoi(try_text);
    if (try_number < 1) {
        return bad_request(fmt::format("task_try_number '{}' is not a try: tries are counted from 1",
                                       escape_invalid_utf8(try_text)));
    }
    if (auto map_index = request.query_value("map_index"); map_index && *map_index != "-1") {
        if (map_index->empty() || map_index->find_first_not_of("-0123456789") != std::string::npos) {
            return bad_request(fmt::format("map_index '{}' is not a whole number", escape_invalid_utf8(*map_index)));
        }
        return not_found(fmt::format("no mapped task instance with map_index {}: mayaflow does not map tasks, so "
                                     "every task instance has map_index -1",
                                     *map_index));
    }

    MAYAFLOW_READ(run, find_run_or_404(context, dag_id, run_id, true));
    TaskTry found;
    found.try_number = try_number;
    bool task_found = false;
    for (auto& task : run.task_instances) {
        if (task.task_id == task_id) {
            found.task = std::move(task);
            task_found = true;
            break;
        }
    }
    if (!task_found) {
        return not_found(fmt::format("run '{}' of DAG '{}' has no task '{}'", escape_invalid_utf8(run_id),
                                     escape_invalid_utf8(dag_id), escape_invalid_utf8(task_id)));
    }
    if (try_number > found.task.try_number) {
        return not_found(fmt::format("task '{}' of run '{}' has had {} {} so far, so no try {}", escape_invalid_utf8(task_id),
                                     escape_invalid_utf8(run_id), found.task.try_number,
                                     found.task.try_number == 1 ? "try" : "tries", try_number));
    }
    run.task_instances.clear();
    found.run = std::move(run);
    return found;
}

OpenedFile::~OpenedFile() {
    if (fd_ >= 0) ::close(fd_);
}

std::uint64_t OpenedFile::size() const {
    struct stat info {};
    if (::fstat(fd_, &info) != 0) return 0;
    return static_cast<std::uint64_t>(info.st_size);
}

Result<std::string> OpenedFile::read(std::uint64_t offset, std::uint64_t length) const {
    std::string out(length, '\0');
    std::uint64_t done = 0;
    while (done < length) {
        const ssize_t got = ::pread(fd_, out.data() + done, length - done, static_cast<off_t>(offset + done));
        if (got < 0) {
            if (errno == EINTR) continue;
            return make_error("cannot read: {}", std::strerror(errno));
        }
        if (got == 0) break;
        done += static_cast<std::uint64_t>(got);
    }
    out.resize(done);
    return out;
}

FileOpening open_file_inside(const fs::path& root, const fs::path& path) {
    FileOpening opening;
    std::error_code error;
    const fs::path real_root = fs::canonical(root, error);
    if (error) {
        opening.outcome = error == std::errc::no_such_file_or_directory ? FileOpening::Outcome::missing
                                                                         : FileOpening::Outcome::failed;
        opening.error = error.message();
        return opening;
    }
    const fs::path real = fs::canonical(path, error);
    if (error) {
        opening.outcome = error == std::errc::no_such_file_or_directory || error == std::errc::not_a_directory
                              ? FileOpening::Outcome::missing
                              : FileOpening::Outcome::failed;
        opening.error = error.message();
        return opening;
    }
    // Inside: the root itself is not a file, so the resolved path must be strictly below it.
    auto [root_end, ignored] = std::mismatch(real_root.begin(), real_root.end(), real.begin(), real.end());
    if (root_end != real_root.end() || real == real_root) {
        opening.outcome = FileOpening::Outcome::outside;
        return opening;
    }
    // The resolved path, opened without following a symlink put there since.
    const int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        opening.outcome = errno == ENOENT ? FileOpening::Outcome::missing : FileOpening::Outcome::failed;
        opening.error = std::strerror(errno);
        return opening;
    }
    OpenedFile file(fd);
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        opening.outcome = FileOpening::Outcome::not_a_file;
        return opening;
    }
    opening.outcome = FileOpening::Outcome::opened;
    opening.file.emplace(std::move(file));
    return opening;
}

}  // namespace mayaflow
