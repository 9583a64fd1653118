#include "engine/model/states.h"

#include <array>

namespace mayaflow {
namespace {

constexpr std::array<std::string_view, 12> kTaskStates = {
    "none",         "scheduled",         "queued",          "running", "success", "failed",
    "up_for_retry", "up_for_reschedule", "upstream_failed", "skipped", "removed", "deferred"};
constexpr std::array<std::string_view, 4> kRunStates = {"queued", "running", "success", "failed"};

}  // namespace

std::string_view to_string(TaskState state) { return kTaskStates[static_cast<size_t>(state)]; }
std::string_view to_string(RunState state) { return kRunStates[static_cast<size_t>(state)]; }

std::optional<TaskState> parse_task_state(std::string_view text) {
    for (size_t i = 0; i < kTaskStates.size(); ++i) {
        if (kTaskStates[i] == text) return static_cast<TaskState>(i);
    }
    return std::nullopt;
}

std::optional<RunState> parse_run_state(std::string_view text) {
    for (size_t i = 0; i < kRunStates.size(); ++i) {
        if (kRunStates[i] == text) return static_cast<RunState>(i);
    }
    return std::nullopt;
}

bool is_finished(TaskState state) {
    switch (state) {
        case TaskState::success:
        case TaskState::failed:
        case TaskState::skipped:
        case TaskState::upstream_failed:
        case TaskState::removed: return true;
        default: return false;
    }
}

}  // namespace mayaflow
