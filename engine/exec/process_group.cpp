#include "engine/exec/process_group.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "engine/exec/process_probe.h"

namespace mayaflow {

Status signal_process_group(pid_t pgid, int signal) {
    if (pgid <= 1) return make_error("refusing to signal process group {}: not a task's process group", pgid);
    if (pgid == ::getpgrp()) {
        return make_error("refusing to signal process group {}: it is mayaflow's own group, not a task's",
                          pgid);
    }
    if (::kill(-pgid, signal) == 0 || errno == ESRCH) return Status::success();
    return make_error("cannot send signal {} to process group {}: {}", signal, pgid, std::strerror(errno));
}

bool wait_for_group_to_end(pid_t pgid, Duration timeout) {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point deadline = Clock::now() + timeout;
    auto pause = std::chrono::microseconds(1000);
    for (;;) {
        if (!process_group_has_live_members(pgid)) return true;
        const Clock::time_point now = Clock::now();
        if (now >= deadline) return false;
        std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
        pause = std::min(pause * 2, std::chrono::microseconds(20'000));
    }
}

Result<bool> terminate_process_group(pid_t pgid, Duration grace) {
    if (Status sent = signal_process_group(pgid, SIGTERM); !sent) return sent.error();
    (void)signal_process_group(pgid, SIGCONT);
    if (wait_for_group_to_end(pgid, grace)) return true;
    if (Status sent = signal_process_group(pgid, SIGKILL); !sent) return sent.error();
    return wait_for_group_to_end(pgid, kKillSettleTime);
}

}  // namespace mayaflow
