#include "engine/exec/exit_status.h"

#include <fmt/format.h>

#include <cstring>

namespace mayaflow {

std::string ExitStatus::describe() const {
    if (timed_out) return "still running";
    if (exited) return fmt::format("exited with code {}", exit_code);
    if (signal != 0) {
        const char* name = ::sigabbrev_np(signal);
        if (name == nullptr) return fmt::format("killed by signal {}", signal);
        return fmt::format("killed by signal {} (SIG{})", signal, name);
    }
    return "ended, how is unknown";
}

}  // namespace mayaflow
