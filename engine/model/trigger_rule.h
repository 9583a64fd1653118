#pragma once
// TriggerRule says when a task may run given its upstream tasks' states (Airflow 3's thirteen rules).

#include <optional>
#include <span>
#include <string_view>

namespace mayaflow {

enum class TriggerRule {
    all_success,
    all_failed,
    all_done,
    all_done_min_one_success,
    all_done_setup_success,
    one_success,
    one_failed,
    one_done,
    none_failed,
    none_failed_min_one_success,
    none_skipped,
    all_skipped,
    always,
};

std::string_view to_string(TriggerRule rule);
std::optional<TriggerRule> parse_trigger_rule(std::string_view text);
std::span<const std::string_view> trigger_rule_names();

}  // namespace mayaflow
