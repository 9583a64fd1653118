#pragma once
// A task's processes form one process group: its first process leads its own session and group, and every
// process it starts stays in that group unless it leaves on purpose. These functions signal and wait for
// the whole group, so a timeout or a cancel ends the task's grandchildren too, not only the shell.

#include <sys/types.h>

#include "engine/time/instant.h"
#include "engine/util/result.h"

namespace mayaflow {

// Sends `signal` to every process in group `pgid`. Refuses pgid <= 1 (kill() reads those as "my group" and
// "every process") and the caller's own group. A group that no longer exists is not an error.
Status signal_process_group(pid_t pgid, int signal);

// Waits until no member of group `pgid` is left that has not ended (see process_group_has_live_members),
// or `timeout` passes. Returns whether the group has ended. There is no kernel event for "a group is
// empty", so this polls, from 1 ms up to every 20 ms.
bool wait_for_group_to_end(pid_t pgid, Duration timeout);

// Ends a process group whose leader is not our child, such as a task adopted after a restart: SIGTERM
// (and SIGCONT, so stopped members can act on it), up to `grace` for the group to end, then SIGKILL and
// a short wait for the kill to land. Returns whether the group has ended.
// Call it only for a group you know is the task's (its leader passed same_process just now, or it has
// live members): once a group is empty the kernel may reuse its number.
Result<bool> terminate_process_group(pid_t pgid, Duration grace);

// How long to wait after SIGKILL for the kernel to finish off a group's members.
inline constexpr Duration kKillSettleTime = std::chrono::seconds(2);

}  // namespace mayaflow
