// fault_shim: an LD_PRELOAD library that makes a process's file writes fail and its wall clock
// jump, as a test says, while it runs. The reliability tests (tests/reliability/fault_*_test.py)
// preload it into the daemon and steer it through a control file.
//
// $MAYAFLOW_FAULTS names the control file. It is read again when its mtime or size changes (looked at
// no more than every 20 ms), one setting a line, `#` starts a comment; a missing or empty file means
// no fault:
//
//   write ENOSPC        write, pwrite, writev and ftruncate of a matching file fail with this errno
//   sync EIO            fsync and fdatasync of a matching file fail with this errno
//   open EACCES         opening a matching path for writing (or creating it), and mkdir, fail
//   link EPERM          linkat and link making a matching name fail (an unnamed file linked in, too)
//   prefix /tmp/x/logs  a path matches when it starts with one of the prefixes (up to 8) ...
//   suffix .db          ... or ends with one of the suffixes (up to 8); neither given: nothing matches
//   probability 0.3     a matching call fails with this probability (default 1) ...
//   every 4             ... or only every 4th matching call fails
//   clock_offset 3600   seconds added to CLOCK_REALTIME, gettimeofday and time (may be negative)
//
// The errno names known are ENOSPC, EIO, EACCES, EROFS, EDQUOT and EPERM. Every call that fails
// because of the file adds one to a count kept in the file named by $MAYAFLOW_FAULTS_COUNT, if set
// (as a decimal number, rewritten), so a test can wait until a fault has really been hit.
//
// It is plain C without sanitizers, so it can be preloaded into the ASan daemon (with
// ASAN_OPTIONS=verify_asan_link_order=0) and into the tasks' shells alike.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATTERNS 8
#define PATTERN_SIZE 512

struct faults {
    int write_errno;
    int sync_errno;
    int open_errno;
    int link_errno;
    char prefixes[MAX_PATTERNS][PATTERN_SIZE];
    int prefix_count;
    char suffixes[MAX_PATTERNS][PATTERN_SIZE];
    int suffix_count;
    double probability;
    long every;
    long long clock_offset_ns;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct faults current;
static int any_file_fault;        // read without the lock: a hint that skips the work when zero
static long long clock_offset_ns;  // likewise
static struct timespec checked_at;
static struct timespec control_mtime;
static off_t control_size = -1;
static unsigned long matching_calls;
static unsigned long failed_calls;
static unsigned int random_state = 12345;

static int (*real_clock_gettime)(clockid_t, struct timespec*);

static int errno_named(const char* name) {
    static const struct {
        const char* name;
        int value;
    } known[] = {{"ENOSPC", ENOSPC}, {"EIO", EIO}, {"EACCES", EACCES}, {"EROFS", EROFS}, {"EDQUOT", EDQUOT},
                 {"EPERM", EPERM}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; ++i) {
        if (strcmp(known[i].name, name) == 0) return known[i].value;
    }
    return EIO;
}

static void* next_symbol(const char* name) { return dlsym(RTLD_NEXT, name); }

// A fork while another thread holds the lock would leave the child's copy of it held forever.
static void before_fork(void) { pthread_mutex_lock(&lock); }
static void after_fork_in_parent(void) { pthread_mutex_unlock(&lock); }
static void after_fork_in_child(void) { pthread_mutex_init(&lock, NULL); }

__attribute__((constructor)) static void set_up(void) {
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

static void monotonic_now(struct timespec* now) {
    if (!real_clock_gettime) real_clock_gettime = next_symbol("clock_gettime");
    real_clock_gettime(CLOCK_MONOTONIC, now);
}

static void parse_control(const char* text, struct faults* out) {
    memset(out, 0, sizeof *out);
    out->probability = 1.0;
    const char* line = text;
    while (*line) {
        const char* end = strchr(line, '\n');
        size_t length = end ? (size_t)(end - line) : strlen(line);
        char buffer[PATTERN_SIZE + 64];
        if (length >= sizeof buffer) length = sizeof buffer - 1;
        memcpy(buffer, line, length);
        buffer[length] = 0;
        char* hash = strchr(buffer, '#');
        if (hash) *hash = 0;
        char key[32], value[PATTERN_SIZE];
        if (sscanf(buffer, "%31s %511s", key, value) == 2) {
            if (strcmp(key, "write") == 0) out->write_errno = errno_named(value);
            else if (strcmp(key, "sync") == 0) out->sync_errno = errno_named(value);
            else if (strcmp(key, "open") == 0) out->open_errno = errno_named(value);
            else if (strcmp(key, "link") == 0) out->link_errno = errno_named(value);
            else if (strcmp(key, "prefix") == 0 && out->prefix_count < MAX_PATTERNS)
                strcpy(out->prefixes[out->prefix_count++], value);
            else if (strcmp(key, "suffix") == 0 && out->suffix_count < MAX_PATTERNS)
                strcpy(out->suffixes[out->suffix_count++], value);
            else if (strcmp(key, "probability") == 0) out->probability = atof(value);
            else if (strcmp(key, "every") == 0) out->every = atol(value);
            else if (strcmp(key, "clock_offset") == 0) out->clock_offset_ns = (long long)(atof(value) * 1e9);
        }
        if (!end) break;
        line = end + 1;
    }
}

// Reads the control file again if it changed; at most every 20 ms. Called with the lock held.
static void refresh_locked(void) {
    struct timespec now;
    monotonic_now(&now);
    long long since = (now.tv_sec - checked_at.tv_sec) * 1000000000LL + (now.tv_nsec - checked_at.tv_nsec);
    if (checked_at.tv_sec != 0 && since < 20000000LL) return;
    checked_at = now;
    const char* path = getenv("MAYAFLOW_FAULTS");
    if (!path) return;
    struct stat info;
    if (stat(path, &info) != 0) {
        if (control_size != -1) {
            memset(&current, 0, sizeof current);
            control_size = -1;
        }
    } else if (info.st_size != control_size || info.st_mtim.tv_sec != control_mtime.tv_sec ||
               info.st_mtim.tv_nsec != control_mtime.tv_nsec) {
        int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        char text[8192];
        ssize_t got = syscall(SYS_read, fd, text, sizeof text - 1);
        syscall(SYS_close, fd);
        if (got < 0) return;
        text[got] = 0;
        parse_control(text, &current);
        control_size = info.st_size;
        control_mtime = info.st_mtim;
        matching_calls = 0;
    }
    any_file_fault = (current.write_errno || current.sync_errno || current.open_errno || current.link_errno) &&
                     (current.prefix_count || current.suffix_count);
    clock_offset_ns = current.clock_offset_ns;
}

static void refresh(void) {
    pthread_mutex_lock(&lock);
    refresh_locked();
    pthread_mutex_unlock(&lock);
}

static int path_matches_locked(const char* path) {
    for (int i = 0; i < current.prefix_count; ++i) {
        if (strncmp(path, current.prefixes[i], strlen(current.prefixes[i])) == 0) return 1;
    }
    size_t length = strlen(path);
    for (int i = 0; i < current.suffix_count; ++i) {
        size_t n = strlen(current.suffixes[i]);
        if (length >= n && strcmp(path + length - n, current.suffixes[i]) == 0) return 1;
    }
    return 0;
}

static void count_failure_locked(void) {
    ++failed_calls;
    const char* path = getenv("MAYAFLOW_FAULTS_COUNT");
    if (!path) return;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    char text[32];
    int n = snprintf(text, sizeof text, "%lu\n", failed_calls);
    syscall(SYS_write, fd, text, n);
    syscall(SYS_close, fd);
}

// The errno a call of this kind on `path` must fail with, or 0 to let it through.
static int fault_for_path(const char* path, int kind_errno_offset) {
    int result = 0;
    pthread_mutex_lock(&lock);
    refresh_locked();
    int wanted = kind_errno_offset == 0   ? current.write_errno
                 : kind_errno_offset == 1 ? current.sync_errno
                 : kind_errno_offset == 2 ? current.open_errno
                                          : current.link_errno;
    if (wanted && path_matches_locked(path)) {
        ++matching_calls;
        int fail;
        if (current.every > 0) {
            fail = matching_calls % (unsigned long)current.every == 0;
        } else {
            fail = current.probability >= 1.0 || rand_r(&random_state) < current.probability * ((double)RAND_MAX + 1);
        }
        if (fail) {
            result = wanted;
            count_failure_locked();
        }
    }
    pthread_mutex_unlock(&lock);
    return result;
}

enum { KIND_WRITE = 0, KIND_SYNC = 1, KIND_OPEN = 2, KIND_LINK = 3 };

static int fault_for_fd(int fd, int kind) {
    refresh();
    if (!any_file_fault) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    return fault_for_path(path, kind);
}

// A call of this kind on `path`, relative to `dirfd`: matched in an absolute form (not resolved
// beyond that).
static int fault_for_path_at(int dirfd, const char* path, int kind) {
    refresh();
    if (!any_file_fault || !path) return 0;
    char full[8200];
    if (path[0] == '/') {
        snprintf(full, sizeof full, "%s", path);
    } else {
        char base[4096];
        ssize_t n;
        if (dirfd == AT_FDCWD) {
            if (!getcwd(base, sizeof base)) return 0;
            n = (ssize_t)strlen(base);
        } else {
            char link[64];
            snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
            n = readlink(link, base, sizeof base - 1);
            if (n <= 0) return 0;
            base[n] = 0;
        }
        snprintf(full, sizeof full, "%s/%s", base, path);
    }
    return fault_for_path(full, kind);
}

static int fault_for_open(int dirfd, const char* path, int flags) {
    if (!(flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC))) return 0;
    return fault_for_path_at(dirfd, path, KIND_OPEN);
}

#define FAIL_IF(fault) \
    do {               \
        int e = (fault); \
        if (e) {       \
            errno = e; \
            return -1; \
        }              \
    } while (0)

ssize_t write(int fd, const void* buffer, size_t count) {
    static ssize_t (*real)(int, const void*, size_t);
    if (!real) real = next_symbol("write");
    if (fd > 2) FAIL_IF(fault_for_fd(fd, KIND_WRITE));
    return real(fd, buffer, count);
}

ssize_t pwrite(int fd, const void* buffer, size_t count, off_t offset) {
    static ssize_t (*real)(int, const void*, size_t, off_t);
    if (!real) real = next_symbol("pwrite");
    FAIL_IF(fault_for_fd(fd, KIND_WRITE));
    return real(fd, buffer, count, offset);
}

ssize_t pwrite64(int fd, const void* buffer, size_t count, off64_t offset) {
    static ssize_t (*real)(int, const void*, size_t, off64_t);
    if (!real) real = next_symbol("pwrite64");
    FAIL_IF(fault_for_fd(fd, KIND_WRITE));
    return real(fd, buffer, count, offset);
}

ssize_t writev(int fd, const struct iovec* vector, int count) {
    static ssize_t (*real)(int, const struct iovec*, int);
    if (!real) real = next_symbol("writev");
    if (fd > 2) FAIL_IF(fault_for_fd(fd, KIND_WRITE));
    return real(fd, vector, count);
}

int ftruncate(int fd, off_t length) {
    static int (*real)(int, off_t);
    if (!real) real = next_symbol("ftruncate");
    FAIL_IF(fault_for_fd(fd, KIND_WRITE));
    return real(fd, length);
}

int ftruncate64(int fd, off64_t length) {
    static int (*real)(int, off64_t);
    if (!real) real = next_symbol("ftruncate64");
    FAIL_IF(fault_for_fd(fd, KIND_WRITE));
    return real(fd, length);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = next_symbol("fsync");
    FAIL_IF(fault_for_fd(fd, KIND_SYNC));
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = next_symbol("fdatasync");
    FAIL_IF(fault_for_fd(fd, KIND_SYNC));
    return real(fd);
}

static mode_t mode_argument(int flags, va_list arguments) {
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(arguments, int) : 0;
}

#define DEFINE_OPEN(name)                                             \
    int name(const char* path, int flags, ...) {                      \
        static int (*real)(const char*, int, ...);                    \
        if (!real) real = next_symbol(#name);                         \
        va_list arguments;                                            \
        va_start(arguments, flags);                                   \
        mode_t mode = mode_argument(flags, arguments);                \
        va_end(arguments);                                            \
        FAIL_IF(fault_for_open(AT_FDCWD, path, flags));               \
        return real(path, flags, mode);                               \
    }
DEFINE_OPEN(open)
DEFINE_OPEN(open64)

#define DEFINE_OPENAT(name)                                           \
    int name(int dirfd, const char* path, int flags, ...) {           \
        static int (*real)(int, const char*, int, ...);               \
        if (!real) real = next_symbol(#name);                         \
        va_list arguments;                                            \
        va_start(arguments, flags);                                   \
        mode_t mode = mode_argument(flags, arguments);                \
        va_end(arguments);                                            \
        FAIL_IF(fault_for_open(dirfd, path, flags));                  \
        return real(dirfd, path, flags, mode);                        \
    }
DEFINE_OPENAT(openat)
DEFINE_OPENAT(openat64)

int creat(const char* path, mode_t mode) {
    static int (*real)(const char*, mode_t);
    if (!real) real = next_symbol("creat");
    FAIL_IF(fault_for_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC));
    return real(path, mode);
}

int mkdir(const char* path, mode_t mode) {
    static int (*real)(const char*, mode_t);
    if (!real) real = next_symbol("mkdir");
    FAIL_IF(fault_for_open(AT_FDCWD, path, O_CREAT));
    return real(path, mode);
}

int linkat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath, int flags) {
    static int (*real)(int, const char*, int, const char*, int);
    if (!real) real = next_symbol("linkat");
    FAIL_IF(fault_for_path_at(newdirfd, newpath, KIND_LINK));
    return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

int link(const char* oldpath, const char* newpath) {
    static int (*real)(const char*, const char*);
    if (!real) real = next_symbol("link");
    FAIL_IF(fault_for_path_at(AT_FDCWD, newpath, KIND_LINK));
    return real(oldpath, newpath);
}

// The wall clock, moved by clock_offset; every other clock as it is.

static void shift(struct timespec* time) {
    long long offset = clock_offset_ns;
    long long ns = time->tv_nsec + offset % 1000000000LL;
    time->tv_sec += offset / 1000000000LL + (ns >= 1000000000LL ? 1 : ns < 0 ? -1 : 0);
    time->tv_nsec = ns >= 1000000000LL ? ns - 1000000000LL : ns < 0 ? ns + 1000000000LL : ns;
}

int clock_gettime(clockid_t clock, struct timespec* time) {
    if (!real_clock_gettime) real_clock_gettime = next_symbol("clock_gettime");
    int result = real_clock_gettime(clock, time);
    if (result == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
        refresh();
        if (clock_offset_ns) shift(time);
    }
    return result;
}

int gettimeofday(struct timeval* restrict value, void* restrict zone) {
    struct timespec now;
    int result = clock_gettime(CLOCK_REALTIME, &now);
    struct timeval* volatile out = value;  // glibc declares it nonnull, but callers pass NULL
    if (result == 0 && out) {
        out->tv_sec = now.tv_sec;
        out->tv_usec = now.tv_nsec / 1000;
    }
    if (zone) memset(zone, 0, sizeof(struct timezone));
    return result;
}

time_t time(time_t* out) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (out) *out = now.tv_sec;
    return now.tv_sec;
}
