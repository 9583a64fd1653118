#pragma once
// ExitStatus is how a task's process ended, as far as waiting for it tells: by exit() with a code, by a
// signal, or not yet (the wait's time ran out first).

#include <string>

namespace mayaflow {

struct ExitStatus {
    bool exited = false;     // it called exit(); exit_code holds the code (0..255)
    int exit_code = -1;      // -1 unless exited
    int signal = 0;          // the signal that killed it, or 0
    bool timed_out = false;  // the wait ended before the process did: it is still running

    bool succeeded() const { return exited && exit_code == 0; }

    // "exited with code 3", "killed by signal 9 (SIGKILL)", "still running": for logs and task messages.
    std::string describe() const;
};

}  // namespace mayaflow
