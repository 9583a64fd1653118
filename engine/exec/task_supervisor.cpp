#include "engine/exec/task_supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/connections/secret_masker.h"
#include "engine/exec/exit_file.h"
#include "engine/exec/log_file.h"
#include "engine/exec/process_probe.h"
#include "engine/util/json_log_formatter.h"

extern char** environ;

namespace mayaflow {
namespace {

// A request or answer is one datagram; commands and environments are bounded by the kernel's own
// limit on argv and the environment (2 MiB), so 4 MiB buffers always hold one. The secrets to mask,
// which have no such bound, travel apart, in pieces (kSecretsPiece), and only when they change: a
// datagram starting with kSecretsPieceTag carries the next bytes of the set, one that is
// kSecretsEndTag alone ends it; each is answered, as a request is.
constexpr int kSocketBuffer = 4 << 20;
constexpr std::size_t kSecretsPiece = 128 << 10;
constexpr char kSecretsPieceTag = 'S';
constexpr char kSecretsEndTag = 'E';
// The open file that may come with a request (the try's unnamed log, see TryFiles); closed unless taken.
class PassedFile {
  public:
    PassedFile() = default;
    PassedFile(PassedFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    PassedFile& operator=(PassedFile&& other) noexcept {
        std::swap(fd_, other.fd_);
        return *this;
    }
    ~PassedFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    void set(int fd) { fd_ = fd; }
    // The descriptor, now the caller's to close; -1 when none came.
    int take() { return std::exchange(fd_, -1); }

  private:
    int fd_ = -1;
};

void size_buffers(int socket) {
    int size = kSocketBuffer;
    (void)::setsockopt(socket, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    (void)::setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

Status send_datagram(int socket, std::string_view text) {
    while (true) {
        ssize_t sent = ::send(socket, text.data(), text.size(), MSG_NOSIGNAL);
        if (sent >= 0) return Status::success();
        if (errno == EINTR) continue;
        return make_error("the task supervisor is gone ({})", std::strerror(errno));
    }
}

Status send_message(int socket, const nlohmann::json& message) {
    return send_datagram(socket, message.dump());
}

// A request, with an open file (`file`, when not -1) passed along with it.
Status send_message(int socket, const nlohmann::json& message, int file) {
    if (file < 0) return send_message(socket, message);
    const std::string text = message.dump();
    iovec part{const_cast<char*>(text.data()), text.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr header{};
    header.msg_iov = &part;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    cmsghdr* rights = CMSG_FIRSTHDR(&header);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(rights), &file, sizeof(int));
    while (true) {
        if (::sendmsg(socket, &header, MSG_NOSIGNAL) >= 0) return Status::success();
        if (errno == EINTR) continue;
        return make_error("the task supervisor is gone ({})", std::strerror(errno));
    }
}

// One datagram as it came, and the open file passed with it (into `file` when given, else closed);
// nullopt when the other side hung up.
Result<std::optional<std::string>> receive_datagram(int socket, PassedFile* file = nullptr) {
    std::string buffer;
    while (true) {
        // The datagram's size first (MSG_TRUNC), so that the buffer is as big as the message.
        ssize_t size = ::recv(socket, nullptr, 0, MSG_PEEK | MSG_TRUNC);
        if (size < 0 && errno == EINTR) continue;
        if (size < 0)
            return make_error("cannot read from the task supervisor's socket: {}", std::strerror(errno));
        buffer.resize(static_cast<size_t>(size));
        iovec part{buffer.data(), buffer.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        msghdr header{};
        header.msg_iov = &part;
        header.msg_iovlen = 1;
        header.msg_control = control;
        header.msg_controllen = sizeof control;
        ssize_t got = ::recvmsg(socket, &header, MSG_CMSG_CLOEXEC);
        if (got >= 0) {
            PassedFile passed;
            const cmsghdr* rights = CMSG_FIRSTHDR(&header);
            if (rights && rights->cmsg_level == SOL_SOCKET && rights->cmsg_type == SCM_RIGHTS &&
                rights->cmsg_len >= CMSG_LEN(sizeof(int))) {
                int fd = -1;
                std::memcpy(&fd, CMSG_DATA(rights), sizeof fd);
                passed.set(fd);
            }
            // More than a request carries (the rest the kernel closed): not used.
            if (header.msg_flags & MSG_CTRUNC) passed = PassedFile();
            if (file) *file = std::move(passed);
        }
        if (got < 0 && errno == EINTR) continue;
        if (got < 0)
            return make_error("cannot read from the task supervisor's socket: {}", std::strerror(errno));
        if (got == 0 && size == 0) {
            // A zero-length read: the other side hung up (we never send empty datagrams).
            return std::optional<std::string>();
        }
        buffer.resize(static_cast<size_t>(got));
        return std::optional<std::string>(std::move(buffer));
    }
}

nlohmann::json parse_message(const std::string& datagram, bool& ok) {
    auto message = nlohmann::json::parse(datagram, nullptr, false);
    ok = !message.is_discarded();
    return message;
}

// One JSON datagram; nullopt when the other side hung up.
Result<std::optional<nlohmann::json>> receive_message(int socket) {
    auto datagram = receive_datagram(socket);
    if (!datagram) return datagram.error();
    if (!*datagram) return std::optional<nlohmann::json>();
    bool ok = false;
    auto message = parse_message(**datagram, ok);
    if (!ok) return make_error("the task supervisor's socket carried something not JSON");
    return std::optional<nlohmann::json>(std::move(message));
}

// The secrets as bytes: each as its length (4 bytes, little-endian) and itself. Any bytes go, not
// only UTF-8 (JSON could not carry an environment's stray byte).
std::string encode_secrets(const std::vector<std::string>& secrets) {
    std::string bytes;
    for (const auto& secret : secrets) {
        const auto length = static_cast<std::uint32_t>(secret.size());
        for (int shift = 0; shift < 32; shift += 8)
            bytes.push_back(static_cast<char>((length >> shift) & 0xFF));
        bytes += secret;
    }
    return bytes;
}

std::optional<std::vector<std::string>> decode_secrets(std::string_view bytes) {
    std::vector<std::string> secrets;
    while (!bytes.empty()) {
        if (bytes.size() < 4) return std::nullopt;
        std::uint32_t length = 0;
        for (int i = 0; i < 4; ++i)
            length |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
        bytes.remove_prefix(4);
        if (bytes.size() < length) return std::nullopt;
        secrets.emplace_back(bytes.substr(0, length));
        bytes.remove_prefix(length);
    }
    return secrets;
}

// The exit file opened to be written, made if missing and emptied: the daemon's worker makes it so
// (empty) as it asks for the process, the supervisor to write the status into it.
int open_exit_file(const std::filesystem::path& path) {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
}

// One write() of a few bytes: a reader sees the whole status or an empty file (read as no status
// yet), without a temporary file and a rename for every try. By name, emptied first: whatever the
// task wrote there or did to the file, the status lands under that name. The daemon made the file
// (empty) as it asked for the process, so this is normally no new inode (see TryFiles).
// A failure is said on stderr (the daemon's log): the try then fails for want of its status.
void write_exit_file(const std::filesystem::path& path, int status) {
    int fd = open_exit_file(path);
    if (fd < 0 && errno == ENOENT) {
        // The log's folder was removed while the process ran (a clean-up of the logs folder): made
        // again, so that the status is not lost with it.
        std::error_code ignored;
        std::filesystem::create_directories(path.parent_path(), ignored);
        fd = open_exit_file(path);
    }
    const std::string text = std::to_string(status) + "\n";
    ssize_t written = -1;
    if (fd >= 0) {
        while ((written = ::write(fd, text.data(), text.size())) < 0 && errno == EINTR) {
        }
    }
    if (written != static_cast<ssize_t>(text.size())) {
        spdlog::error("task supervisor: cannot record exit status {} in \"{}\": {}", status, path.string(),
                      std::strerror(errno));
    }
    if (fd >= 0) ::close(fd);
}

// A supervised process's output on its way to the log when it has secrets to mask: read from a pipe,
// masked, appended. The pipe stays open while anything the task started holds it.
class OutputPump {
  public:
    OutputPump(int pipe, int log, std::shared_ptr<const SecretMasker> masker)
        : pipe_(pipe), log_(log), masker_(std::move(masker)), stream_(*masker_) {}
    ~OutputPump() {
        ::close(pipe_);
        ::close(log_);
    }
    OutputPump(const OutputPump&) = delete;
    OutputPump& operator=(const OutputPump&) = delete;

    int fd() const { return pipe_; }

    // Moves what the pipe holds now (up to `limit` bytes) to the log. False once the pipe is at its
    // end (every writer has closed it) or broken: what was held back is then written too.
    bool pump(std::size_t limit = std::size_t{1} << 20) {
        char buffer[65536];
        std::size_t moved = 0;
        while (moved < limit) {
            const ssize_t got = ::read(pipe_, buffer, sizeof buffer);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0 && errno == EAGAIN) return true;
            if (got <= 0) {
                flush();
                return false;
            }
            append(stream_.write(std::string_view(buffer, static_cast<std::size_t>(got))));
            moved += static_cast<std::size_t>(got);
        }
        return true;
    }

    // Writes what is held back in case a secret continued: when the process has ended, its output
    // is complete, and its log must be too before its end is recorded.
    void flush() { append(stream_.finish()); }

  private:
    void append(const std::string& text) {
        if (text.empty()) return;
        LogLock lock(log_);  // a note the daemon adds (append_line_to_log) goes between two writes
        std::size_t written = 0;
        while (written < text.size()) {
            const ssize_t n = ::write(log_, text.data() + written, text.size() - written);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;  // a full disk: the output is lost, as a direct write would lose it
            written += static_cast<std::size_t>(n);
        }
    }

    int pipe_;
    int log_;
    std::shared_ptr<const SecretMasker> masker_;  // shared by every pump of the same secrets
    StreamMasker stream_;
};

// By a number never reused (a descriptor number is, once its pipe is closed).
using Pumps = std::map<std::uint64_t, std::unique_ptr<OutputPump>>;

struct Supervised {
    std::filesystem::path exit_file;
    std::uint64_t pump = 0;  // the key of its OutputPump, 0 when its output goes straight to the log
};

// Whether linkat's refusal to link an unnamed file in says that it never will here (a security
// module, a filesystem or a /proc that does not allow it), rather than something about this try (a
// log of that name already there, a folder removed meanwhile).
bool refuses_every_link(int error) {
    if (error == EPERM || error == EACCES || error == EOPNOTSUPP || error == ENOSYS || error == EXDEV) return true;
    return error == ENOENT && ::access("/proc/self/fd", X_OK) != 0;
}

// How the try's header went into its log (see write_log_header).
struct HeaderWritten {
    std::uint64_t log_size = 0;  // the log's size after the header
    bool linked = false;         // the unnamed log passed with the request is the log now
    bool unnamed_refused = false;  // linking it in was refused for good: the daemon should stop making them
};

// The request's header line in the log: written to the unnamed log the daemon passed, which is then
// linked in as the log (so the log appears with its header), or else appended to the log by its name.
// `log_fd` keeps the linked log open for the process's output.
Result<HeaderWritten> write_log_header(const std::filesystem::path& log_file, const std::string& header,
                                       int unnamed_log, int& log_fd) {
    HeaderWritten written;
    if (unnamed_log >= 0) {
        auto size = append_line_to_open_log(unnamed_log, log_file, header);
        const std::string name = "/proc/self/fd/" + std::to_string(unnamed_log);
        if (size && ::linkat(AT_FDCWD, name.c_str(), AT_FDCWD, log_file.c_str(), AT_SYMLINK_FOLLOW) == 0) {
            log_fd = unnamed_log;
            written.log_size = *size;
            written.linked = true;
            return written;
        }
        if (size) written.unnamed_refused = refuses_every_link(errno);
        ::close(unnamed_log);  // a log of that name is there already (or it could not be linked): appended to
    }
    auto size = append_line_to_log(log_file, header);
    if (!size) return size.error();
    written.log_size = *size;
    return written;
}

// A pipe for a process's output (its write end for the child, blocking; the read end ours,
// non-blocking) and the log to append to: `open_log` (the linked log, now the pump's) or, when that
// is -1, the log opened by its name.
Result<std::unique_ptr<OutputPump>> open_pump(const std::filesystem::path& log_file, int open_log,
                                              std::shared_ptr<const SecretMasker> masker, int& write_end) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) {
        const int error = errno;
        if (open_log >= 0) ::close(open_log);
        return make_error("cannot make a pipe for the task's output: {}", std::strerror(error));
    }
    (void)::fcntl(ends[0], F_SETFL, ::fcntl(ends[0], F_GETFL) | O_NONBLOCK);
    (void)::fcntl(ends[0], F_SETPIPE_SZ,
                  1 << 20);  // fewer stalls of a chatty task; the default 64 KiB if refused
    const int log = open_log >= 0 ? open_log
                                   : ::open(log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (log < 0) {
        const int error = errno;
        ::close(ends[0]);
        ::close(ends[1]);
        return make_error(
            "cannot open log file \"{}\": {}; check the logs folder's permissions and free space",
            log_file.string(), std::strerror(error));
    }
    write_end = ends[1];
    return std::make_unique<OutputPump>(ends[0], log, std::move(masker));
}

// Whether the other end of the socket has hung up: the daemon (its requests still queued in the socket
// are then dropped) or the supervisor (killed or crashed: a new one takes its place).
bool other_side_gone(int socket) {
    pollfd fd{socket, POLLRDHUP, 0};
    return ::poll(&fd, 1, 0) > 0 && (fd.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

// The secrets the daemon sent last, and the set it is sending now.
struct SecretsSet {
    std::shared_ptr<const SecretMasker> masker;  // null until a set has come
    std::string incoming;                        // encode_secrets of the set on its way
};

// A piece of the secrets, or their end: the set replaces the last one once it is whole.
nlohmann::json receive_secrets(const std::string& datagram, SecretsSet& secrets) {
    if (datagram[0] == kSecretsPieceTag) {
        secrets.incoming.append(datagram, 1);
        return nlohmann::json::object();
    }
    auto decoded = decode_secrets(secrets.incoming);
    secrets.incoming.clear();
    secrets.incoming.shrink_to_fit();
    if (!decoded) return {{"error", "the secrets to mask came damaged"}};
    auto masker = std::make_shared<SecretMasker>();
    masker->set_secrets(std::move(*decoded));
    secrets.masker = std::move(masker);
    return {{"secrets", secrets.masker->secret_list()->size()}};
}

nlohmann::json start_process(const nlohmann::json& request, PassedFile unnamed_log_file, const SecretsSet& secrets,
                             std::map<pid_t, Supervised>& running, Pumps& pumps) {
    static std::uint64_t pumps_made = 0;
    ProcessSpec spec;
    int log_fd = -1;  // the linked log, open
    struct Closer {
        int& fd;
        ~Closer() {
            if (fd >= 0) ::close(fd);
        }
    } close_log{log_fd};
    try {
        spec.argv = request.at("argv").get<std::vector<std::string>>();
        spec.env = request.at("env").get<std::map<std::string, std::string>>();
        spec.cwd = request.at("cwd").get<std::string>();
        spec.log_file = request.at("log_file").get<std::string>();
        auto exit_file = std::filesystem::path(request.at("exit_file").get<std::string>());
        // The output goes through a pipe, masked, when the daemon says so: with the last set it sent.
        std::shared_ptr<const SecretMasker> masker;
        if (request.value("masked", false)) {
            if (!secrets.masker) return {{"error", "a masked process was asked for before any secrets came"}};
            masker = secrets.masker;
        }
        std::string header = request.at("log_header").get<std::string>();
        if (masker) header = masker->mask(header);
        // The unnamed log passed with the request, if one was (see TryFiles): taken only now, so that
        // it is closed on every way out before this.
        const int unnamed_log = unnamed_log_file.take();
        auto written = write_log_header(spec.log_file, header, unnamed_log, log_fd);
        if (!written) return {{"error", written.error().message}};
        std::unique_ptr<OutputPump> pump;
        int write_end = -1;
        if (masker) {
            auto opened = open_pump(spec.log_file, std::exchange(log_fd, -1), masker, write_end);
            if (!opened) return {{"error", opened.error().message}};
            pump = std::move(*opened);
            spec.output_fd = write_end;
        } else if (log_fd >= 0) {
            spec.output_fd = log_fd;
        }
        auto child = ChildProcess::spawn(spec);
        if (write_end >= 0) ::close(write_end);  // the child's copy is the only writer now
        if (!child) return {{"error", child.error().message}};
        SupervisedProcess started{child->pid(), child->start_ticks(), child->started_at()};
        child->detach();  // reaped here, by waitid, once its exit file is written
        Supervised supervised{exit_file};
        if (pump) {
            supervised.pump = ++pumps_made;
            pumps[supervised.pump] = std::move(pump);
        }
        running[started.pid] = supervised;
        nlohmann::json answer = {{"pid", started.pid},
                                 {"start_ticks", started.start_ticks},
                                 {"started_at", started.started_at.time_since_epoch().count()},
                                 {"log_size_before", written->log_size},
                                 {"log_linked", written->linked}};
        if (written->unnamed_refused) answer["unnamed_logs_refused"] = true;
        return answer;
    } catch (const std::exception& e) {
        return {{"error", std::string("a malformed request to the task supervisor: ") + e.what()}};
    }
}

// Moves a pump's output to the log; closes the pump at the pipe's end.
void run_pump(Pumps& pumps, std::uint64_t key) {
    auto found = pumps.find(key);
    if (found != pumps.end() && !found->second->pump()) pumps.erase(found);
}

// Records and reaps every supervised process that has ended. Its output is in the log first: a
// reader of the exit file may read the log at once (its last line is the task's result).
void reap_ended(std::map<pid_t, Supervised>& running, Pumps& pumps) {
    while (true) {
        siginfo_t info{};
        if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) return;
        pid_t pid = info.si_pid;
        int status = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
        auto found = running.find(pid);
        if (found != running.end()) {
            if (auto pump = pumps.find(found->second.pump); pump != pumps.end()) {
                // Everything the process wrote before it ended is in the pipe now.
                // Bounded: a background process that keeps writing must not hold up every other task.
                if (pump->second->pump(std::size_t{4} << 20)) {
                    pump->second->flush();
                } else {
                    pumps.erase(pump);
                }
            }
            write_exit_file(found->second.exit_file, status);
            running.erase(found);
        }
        siginfo_t reaped{};
        (void)::waitid(P_PID, static_cast<id_t>(pid), &reaped, WEXITED | WNOHANG);
    }
}

}  // namespace

int run_task_supervisor(int socket, bool json_log) {
    // What it has to say goes to the daemon's stderr, in the daemon's format: JSON lines or text.
    auto out = std::make_shared<spdlog::sinks::stderr_sink_st>();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("supervisor", out));
    if (json_log) {
        spdlog::set_formatter(std::make_unique<JsonLogFormatter>());
    } else {
        spdlog::set_pattern(kTextLogPattern);
    }
    // Terminal and shutdown signals do not end the supervisor: it ends when the daemon has gone and
    // the last task has ended, so that every end is recorded.
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t child_signal;
    sigemptyset(&child_signal);
    sigaddset(&child_signal, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &child_signal, nullptr);
    int signals = ::signalfd(-1, &child_signal, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signals < 0) return 1;
    size_buffers(socket);
    std::map<pid_t, Supervised> running;
    Pumps pumps;
    SecretsSet secrets;
    bool daemon_here = true;
    std::vector<pollfd> fds;
    std::vector<std::uint64_t> polled_pumps;
    while (daemon_here || !running.empty()) {
        fds.assign({{signals, POLLIN, 0}, {daemon_here ? socket : -1, POLLIN, 0}});
        polled_pumps.clear();
        for (const auto& [key, pump] : pumps) {
            fds.push_back({pump->fd(), POLLIN, 0});
            polled_pumps.push_back(key);
        }
        if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return 1;
        for (std::size_t i = 2; i < fds.size(); ++i) {
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) run_pump(pumps, polled_pumps[i - 2]);
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo drained[16];
            while (::read(signals, drained, sizeof drained) > 0) {
            }
        }
        reap_ended(running, pumps);  // also after a start: a process may end before its SIGCHLD is read
        if (daemon_here && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            // A daemon that has died may have left requests in the socket: they are dropped, not run
            // behind the back of the daemon that restarts (it runs those tries again itself).
            PassedFile file;
            auto datagram = other_side_gone(socket)
                                ? Result<std::optional<std::string>>(std::optional<std::string>())
                                : receive_datagram(socket, &file);
            if (!datagram || !*datagram || (*datagram)->empty()) {
                daemon_here = false;
                ::close(socket);
                continue;
            }
            const std::string& received = **datagram;
            if (received[0] == kSecretsPieceTag || received[0] == kSecretsEndTag) {
                (void)send_message(socket, receive_secrets(received, secrets));
                continue;
            }
            bool ok = false;
            auto request = parse_message(received, ok);
            (void)send_message(
                socket, ok ? start_process(request, std::move(file), secrets, running, pumps)
                           : nlohmann::json{{"error", "a request to the task supervisor that is not JSON"}});
            reap_ended(running, pumps);
        }
    }
    // What background processes the tasks left have written so far; they lose their reader now.
    for (auto& [key, pump] : pumps) {
        if (pump->pump()) pump->flush();
    }
    return 0;
}

namespace {

// Starts `program _supervise` with a socket on its descriptor 3: our end of the socket, and its pid.
Result<std::pair<int, pid_t>> launch_supervisor(const std::filesystem::path& program, bool json_log) {
    int sockets[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) != 0) {
        return make_error("cannot make a socket for the task supervisor: {}", std::strerror(errno));
    }
    size_buffers(sockets[0]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, sockets[1], 3);  // dup2 clears close-on-exec
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::string path = program.string();
    std::string command = "_supervise";
    std::string format = "json";
    char* argv[] = {path.data(), command.data(), json_log ? format.data() : nullptr, nullptr};
    pid_t pid = 0;
    int spawned = ::posix_spawn(&pid, path.c_str(), &actions, &attributes, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    ::close(sockets[1]);
    if (spawned != 0) {
        ::close(sockets[0]);
        return make_error("cannot start the task supervisor {}: {}", path, std::strerror(spawned));
    }
    return std::pair<int, pid_t>(sockets[0], pid);
}

// How a reaped supervisor ended, in words.
std::string describe_end(const siginfo_t& info) {
    if (info.si_code == CLD_EXITED) return fmt::format("it exited with status {}", info.si_status);
    return fmt::format("it was killed by signal {} ({})", info.si_status, ::strsignal(info.si_status));
}

}  // namespace

Result<std::unique_ptr<TaskSupervisor>> TaskSupervisor::start(const std::filesystem::path& program, bool json_log) {
    auto launched = launch_supervisor(program, json_log);
    if (!launched) return launched.error();
    return std::unique_ptr<TaskSupervisor>(new TaskSupervisor(program, json_log, launched->first, launched->second));
}

bool TaskSupervisor::gone() {
    std::lock_guard lock(mutex_);
    return socket_ < 0 || other_side_gone(socket_);
}

Status TaskSupervisor::replace_gone_supervisor() {
    const pid_t gone = pid_.load();
    ::close(socket_);
    socket_ = -1;
    sent_secrets_.reset();
    // Its socket closes as it exits: reaped within moments (waited for up to 100 ms, not for ever).
    std::string how = "it hung up";
    for (int i = 0; i < 100; ++i) {
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(gone), &info, WEXITED | WNOHANG) != 0) break;
        if (info.si_pid == gone) {
            how = describe_end(info);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto launched = launch_supervisor(program_, json_log_);
    if (!launched) {
        return make_error("the task supervisor (pid {}) has gone ({}), and a new one could not start: {}; restart "
                          "the scheduler",
                          gone, how, launched.error().message);
    }
    socket_ = launched->first;
    pid_ = launched->second;
    ++replacements_;
    spdlog::error("the task supervisor (pid {}) has gone ({}); a new one (pid {}) starts the tasks from now on. The "
                  "processes the old one started run on, but no one records their exit status: each of those "
                  "tries fails when its process ends, and is retried as its task says",
                  gone, how, launched->second);
    return Status::success();
}

TaskSupervisor::~TaskSupervisor() {
    if (socket_ >= 0) ::close(socket_);
    // Not waited for: it ends on its own once its tasks have. Reap it if it already has.
    siginfo_t info{};
    (void)::waitid(P_PID, static_cast<id_t>(pid_.load()), &info, WEXITED | WNOHANG);
}

Status TaskSupervisor::send_secrets(const std::shared_ptr<const std::vector<std::string>>& secrets) {
    if (sent_secrets_ && (sent_secrets_ == secrets || *sent_secrets_ == *secrets)) return Status::success();
    sent_secrets_.reset();  // until the whole set is there
    const std::string bytes = encode_secrets(*secrets);
    auto exchange = [&](std::string datagram) -> Status {
        if (auto sent = send_datagram(socket_, datagram); !sent) return sent;
        auto answer = receive_message(socket_);
        if (!answer) return answer.error();
        if (!*answer) return make_error("the task supervisor has gone");
        if ((**answer).contains("error")) return make_error("{}", (**answer)["error"].get<std::string>());
        return Status::success();
    };
    for (std::size_t at = 0; at < bytes.size(); at += kSecretsPiece) {
        if (Status sent = exchange(kSecretsPieceTag + bytes.substr(at, kSecretsPiece)); !sent) return sent;
    }
    if (Status ended = exchange(std::string(1, kSecretsEndTag)); !ended) return ended;
    sent_secrets_ = secrets;
    return Status::success();
}

Result<SupervisedProcess> TaskSupervisor::spawn(const ProcessSpec& spec,
                                                const std::filesystem::path& exit_file,
                                                const std::string& log_header,
                                                const std::vector<std::string>& secrets) {
    return spawn(spec, exit_file, log_header, std::make_shared<const std::vector<std::string>>(secrets));
}

namespace {

// A try's exit file (made empty) and its log (unnamed, in the log's folder, see write_log_header),
// made by the thread that asks for the process rather than by the supervisor: its one thread serves
// every task, and making files is what costs it most (a new inode takes 0.02 ms on tmpfs, but up to
// 1.4 ms on an ext4 without a journal that has just deleted many files, docs/benchmarks.md). The
// log is passed open with the request; the exit file is left for the supervisor to write by name
// (opening a file that is there is cheap). When a file cannot be made here (a filesystem without
// O_TMPFILE, say), the supervisor makes it by its name, as it always did, and says what is wrong
// if that fails too.
struct TryFiles {
    bool made_exit_file = false;
    int unnamed_log = -1;
    TryFiles() = default;
    TryFiles(const TryFiles&) = delete;
    TryFiles& operator=(const TryFiles&) = delete;
    ~TryFiles() {
        if (unnamed_log >= 0) ::close(unnamed_log);
    }
};

// Set once a folder said it cannot hold unnamed files: it is not asked again for every try.
std::atomic<bool> g_unnamed_files_refused{false};

void make_try_files(const std::filesystem::path& log_file, const std::filesystem::path& exit_file, TryFiles& files) {
    const std::filesystem::path folder = log_file.parent_path();
    std::error_code error;
    if (!folder.empty()) std::filesystem::create_directories(folder, error);
    if (error) return;
    const int exit = open_exit_file(exit_file);
    if (exit >= 0) {
        ::close(exit);
        files.made_exit_file = true;
    }
    if (g_unnamed_files_refused.load(std::memory_order_relaxed)) return;
    // Write-only, as the process's output: it cannot read its own log through it.
    files.unnamed_log =
        ::open(folder.empty() ? "." : folder.c_str(), O_TMPFILE | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
    const int refused = errno;
    if (files.unnamed_log < 0 && (refused == EOPNOTSUPP || refused == EISDIR || refused == EINVAL)) {
        g_unnamed_files_refused.store(true, std::memory_order_relaxed);
        spdlog::info("the logs folder's filesystem cannot make unnamed files (O_TMPFILE: {}); the task "
                     "supervisor makes each try's log by its name",
                     std::strerror(refused));
    }
}

// An exit file made for a process that was never started: not left behind, empty, beside no log.
void remove_unused_exit_file(const std::filesystem::path& exit_file, const TryFiles& files) {
    if (files.made_exit_file) (void)::unlink(exit_file.c_str());
}

}  // namespace

Result<SupervisedProcess> TaskSupervisor::spawn(
    const ProcessSpec& spec, const std::filesystem::path& exit_file, const std::string& log_header,
    const std::shared_ptr<const std::vector<std::string>>& secrets) {
    const bool masked = secrets && !secrets->empty();
    nlohmann::json request = {{"argv", spec.argv},
                              {"env", spec.env},
                              {"cwd", spec.cwd.string()},
                              {"log_file", spec.log_file.string()},
                              {"exit_file", exit_file.string()},
                              {"log_header", log_header},
                              {"masked", masked}};
    TryFiles files;
    make_try_files(spec.log_file, exit_file, files);
    std::lock_guard lock(mutex_);
    // A supervisor that has gone (killed, crashed) is replaced before the request goes out, and once
    // more if it goes while the request is on its way: nothing sent to it was started.
    for (int attempt = 0;; ++attempt) {
        const bool gone = socket_ < 0 || other_side_gone(socket_);
        if (gone) {
            if (Status replaced = replace_gone_supervisor(); !replaced) {
                remove_unused_exit_file(exit_file, files);
                return replaced.error();
            }
        }
        Status sent = masked ? send_secrets(secrets) : Status::success();
        if (sent) sent = send_message(socket_, request, files.unnamed_log);
        if (sent) break;
        if (attempt == 0 && other_side_gone(socket_)) continue;
        remove_unused_exit_file(exit_file, files);
        return sent.error();
    }
    // From here the supervisor may have started the process (it writes the exit file by name then).
    auto answer = receive_message(socket_);
    if (!answer) {
        if (other_side_gone(socket_)) (void)replace_gone_supervisor();  // for the tries after this one
        return answer.error();
    }
    if (!*answer) {
        (void)replace_gone_supervisor();  // for the tries after this one; it says what happened
        return make_error("the task supervisor ended while it was starting this task's process, which may or may not "
                          "have started");
    }
    const auto& reply = **answer;
    if (reply.contains("error")) {
        remove_unused_exit_file(exit_file, files);  // it answered that no process started
        return make_error("{}", reply["error"].get<std::string>());
    }
    if (reply.value("unnamed_logs_refused", false) && !g_unnamed_files_refused.exchange(true)) {
        spdlog::info("the task supervisor cannot link unnamed files into the logs folder; it makes each try's "
                     "log by its name from now on");
    }
    return SupervisedProcess{reply.value("pid", 0), reply.value("start_ticks", std::uint64_t{0}),
                             Instant(Duration(reply.value("started_at", std::int64_t{0}))),
                             reply.value("log_size_before", std::uint64_t{0}), reply.value("log_linked", false),
                             replacements_.load()};
}

namespace {

// Wakes the waiter when a file of the exit file's folder is written and closed: the supervisor
// writes the file within a moment of the end, and a poll with a sleep would either spin or oversleep.
// Each thread keeps one inotify instance (closing one waits for an RCU grace period, milliseconds)
// and watches one folder at a time.
class FolderWatch {
  public:
    explicit FolderWatch(const std::filesystem::path& folder) {
        static thread_local const Instance instance;
        if (instance.fd < 0) return;
        fd_ = instance.fd;
        drain();  // what earlier watches left
        watch_ = ::inotify_add_watch(fd_, folder.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR);
    }
    ~FolderWatch() {
        if (watch_ >= 0) (void)::inotify_rm_watch(fd_, watch_);
    }
    FolderWatch(const FolderWatch&) = delete;
    FolderWatch& operator=(const FolderWatch&) = delete;

    // Waits up to `limit` for a change (without a watch, up to 1 ms), then drops what was seen.
    void wait(std::chrono::milliseconds limit) {
        if (watch_ < 0) {
            std::this_thread::sleep_for(std::min(limit, std::chrono::milliseconds(1)));
            return;
        }
        pollfd fd{fd_, POLLIN, 0};
        if (::poll(&fd, 1, static_cast<int>(limit.count())) > 0) drain();
    }

  private:
    // The thread's inotify instance, closed when the thread ends (-1 when none could be made, e.g. past
    // fs.inotify.max_user_instances: then the wait sleeps in 1 ms steps).
    struct Instance {
        int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        ~Instance() {
            if (fd >= 0) ::close(fd);
        }
    };
    void drain() {
        alignas(inotify_event) char events[4096];
        while (::read(fd_, events, sizeof events) > 0) {
        }
    }
    int fd_ = -1;
    int watch_ = -1;
};

}  // namespace

std::optional<int> wait_for_exit_file(const std::filesystem::path& exit_file, pid_t pid,
                                      std::uint64_t start_ticks, Duration timeout) {
    if (std::optional<int> status = read_exit_file(exit_file)) return status;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    FolderWatch watch(exit_file.parent_path());
    while (true) {
        // Read after the watch is set, so that a file written meanwhile is not missed.
        if (std::optional<int> status = read_exit_file(exit_file)) return status;
        // Reaped (no such process, or the pid is another's): the supervisor writes the file before it
        // reaps, so what is there now is final. Still running, or ended and not yet reaped: wait.
        auto stat = read_proc_stat(pid);
        if (!stat || stat->start_ticks != start_ticks) return read_exit_file(exit_file);
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return std::nullopt;
        // At least every 5 ms: a process whose supervisor has died is reaped by init, without a file.
        watch.wait(std::min(std::chrono::milliseconds(5),
                            std::chrono::ceil<std::chrono::milliseconds>(deadline - now)));
    }
}

}  // namespace mayaflow
