#include "engine/exec/pidfd.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <utility>

namespace mayaflow {

namespace {

timespec to_timespec(std::chrono::steady_clock::duration left) {
    if (left < std::chrono::steady_clock::duration::zero()) left = {};
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(left);
    const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(left - seconds);
    return timespec{static_cast<time_t>(seconds.count()), static_cast<long>(nanoseconds.count())};
}

}  // namespace

Result<std::optional<Pidfd>> Pidfd::open(pid_t pid) {
    if (pid <= 0) return make_error("cannot open a pidfd for pid {}: not a process id", pid);
    // glibc 2.36 has no wrapper that all supported systems share, so call the kernel directly.
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) return std::optional<Pidfd>(Pidfd(static_cast<int>(fd)));
    if (errno == ESRCH) return std::optional<Pidfd>();
    if (errno == ENOSYS) {
        return make_error(
            "cannot watch process {}: this kernel has no pidfd_open (mayaflow needs Linux 5.3 or newer)",
            pid);
    }
    return make_error(
        "cannot watch process {}: pidfd_open failed: {}; if it says too many open files, raise the "
        "daemon's open-file limit (ulimit -n)",
        pid, std::strerror(errno));
}

Pidfd::Pidfd(Pidfd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Pidfd& Pidfd::operator=(Pidfd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

Pidfd::~Pidfd() {
    if (fd_ >= 0) ::close(fd_);
}

Result<bool> Pidfd::wait_for_exit(std::optional<Duration> timeout) const {
    if (fd_ < 0) return make_error("cannot wait on a pidfd that was moved from");
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
        pollfd entry{fd_, POLLIN, 0};
        timespec left{};
        const timespec* limit = nullptr;
        if (timeout) {
            left = to_timespec(*timeout - (std::chrono::steady_clock::now() - start));
            limit = &left;
        }
        const int ready = ::ppoll(&entry, 1, limit, nullptr);
        if (ready > 0) return true;
        if (ready == 0) return false;
        if (errno != EINTR) {
            return make_error("cannot wait for a process to end: ppoll on its pidfd failed: {}",
                              std::strerror(errno));
        }
    }
}

}  // namespace mayaflow
