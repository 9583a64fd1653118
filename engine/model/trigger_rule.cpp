#include "engine/model/trigger_rule.h"

#include <array>

namespace mayaflow {
namespace {

constexpr std::array<std::string_view, 13> kNames = {
    "all_success",   "all_failed",  "all_done",
    "all_done_min_one_success",     "all_done_setup_success",
    "one_success",   "one_failed",  "one_done",
    "none_failed",   "none_failed_min_one_success",
    "none_skipped",  "all_skipped", "always",
};

}  // namespace

std::string_view to_string(TriggerRule rule) { return kNames[static_cast<size_t>(rule)]; }

std::optional<TriggerRule> parse_trigger_rule(std::string_view text) {
    for (size_t i = 0; i < kNames.size(); ++i) {
        if (kNames[i] == text) return static_cast<TriggerRule>(i);
    }
    return std::nullopt;
}

std::span<const std::string_view> trigger_rule_names() { return kNames; }

}  // namespace mayaflow
