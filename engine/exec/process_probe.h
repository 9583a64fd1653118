#pragma once
// Process probes read what the kernel says about a process that need not be ours. After a daemon restart the
// task processes it left behind belong to init, and these probes let the new daemon tell whether a recorded
// task process (pid + start time) still runs, and wait for it to end.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

// The fields of /proc/<pid>/stat that mayaflow uses; proc(5) numbers them from 1.
struct ProcStat {
    pid_t pid = 0;                  // field 1
    std::string command_name;       // field 2 without its parentheses; may hold spaces and parentheses
    char state = '?';               // field 3: R, S, D, Z (zombie), X (dead), …
    pid_t parent = 0;               // field 4
    pid_t process_group = 0;        // field 5
    pid_t session = 0;              // field 6
    std::uint64_t user_ticks = 0;    // field 14 (utime): clock ticks of CPU in user mode
    std::uint64_t system_ticks = 0;  // field 15 (stime): clock ticks of CPU in the kernel
    std::uint64_t start_ticks = 0;   // field 22: clock ticks since boot at which the process started

    bool ended() const { return state == 'Z' || state == 'X'; }
};

// Parses the text of /proc/<pid>/stat. The command name is the text between the first '(' and the last ')',
// because the name itself may contain ") (" and spaces. nullopt when the text is not such a line.
std::optional<ProcStat> parse_proc_stat(std::string_view text);

// Reads /proc/<pid>/stat; nullopt when there is no such process (or /proc is not mounted).
std::optional<ProcStat> read_proc_stat(pid_t pid);

// When the process started, in clock ticks since boot; with the pid it names one process for the whole boot.
std::optional<std::uint64_t> process_start_ticks(pid_t pid);

// Whether `pid` is still the process that started at `start_ticks` and has not ended (a zombie has ended).
// A pid alone is not enough: once a process is reaped its number is given to the next new process.
bool same_process(pid_t pid, std::uint64_t start_ticks);

// Whether any process, zombies included, is in process group `pgid` (kill(-pgid, 0) succeeds or says EPERM).
// False for pgid <= 1, which kill() would read as "my own group" or "every process".
bool process_group_alive(pid_t pgid);

// Whether a process group has a member that has not ended. Zombies do not count: a task's grandchildren
// that outlive its leader are reparented to init, which reaps them when it gets round to it.
bool process_group_has_live_members(pid_t pgid);

// Whether processes of the group led by `leader` (started at `start_ticks`) outlive it, asked once the
// leader has ended. A zombie leader still holds its group, so this first waits, up to `reap_wait`, for
// the leader's parent to reap it (the task supervisor does so right after recording its end); then the
// kernel says at once whether anyone is left. Without the reaping in time it scans /proc as
// process_group_has_live_members does.
bool group_outlives_leader(pid_t leader, std::uint64_t start_ticks, Duration reap_wait);

// This boot's id (/proc/sys/kernel/random/boot_id). Start ticks count from boot, so a recorded (pid, start
// ticks) pair means something only in the boot that recorded it; compare the boot id first.
std::optional<std::string> boot_id();

// Finds a running session leader whose environment at start held `entry` (e.g. "MAYAFLOW_EXIT_FILE=/…/
// attempt=3.exit"), for an attempt whose pid was never recorded because the daemon died right after
// starting it. Task processes lead their own session, and /proc/<pid>/environ keeps the environment the
// process was started with even after the process unsets a variable. Reads /proc: for recovery, not hot
// paths. nullopt when there is none.
std::optional<pid_t> find_session_leader_with_environment(std::string_view entry);

enum class ForeignWait { ended, timed_out };

// Waits until the process `pid` that started at `start_ticks` ends, or `timeout` passes (nullopt: no
// limit). Works for a process that is not our child, such as a task left running by an earlier daemon; its
// exit code cannot be known this way, which is why task processes write an exit file. `ended` also when the
// process was gone already or the pid now names another process.
Result<ForeignWait> wait_for_foreign_exit(pid_t pid, std::uint64_t start_ticks,
                                          std::optional<Duration> timeout);

}  // namespace mayaflow
