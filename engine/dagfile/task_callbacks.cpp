// TaskBuilder's reading of on_failure_callback, on_retry_callback and on_success_callback: each
// names a notifier the operator catalog declares, whose parameters are checked as an operator's
// are (types, allowed values, templates), so a misspelled notifier or parameter is a load error
// with its line, not a silent 3 a.m. non-message.

#include <fmt/format.h>

#include <algorithm>

#include "engine/dagfile/task_builder.h"
#include "engine/util/text.h"

namespace mayaflow {

std::vector<NotifierCall> TaskBuilder::read_callbacks(const YAML::Node& node, const std::string& field,
                                                      const nlohmann::json& loop_vars) {
    std::vector<NotifierCall> calls;
    // `on_failure_callback:` left empty turns off what default_args gave.
    if (node.IsNull() || !reader_.untagged(node, field)) return calls;
    if (node.IsMap()) {
        if (auto call = read_callback(node, field, loop_vars)) calls.push_back(std::move(*call));
        return calls;
    }
    if (node.IsSequence()) {
        for (size_t i = 0; i < node.size(); ++i) {
            if (auto call = read_callback(node[i], fmt::format("{}[{}]", field, i), loop_vars)) {
                calls.push_back(std::move(*call));
            }
        }
        return calls;
    }
    reader_.error(node, field,
                  fmt::format("expected a notifier ({{notifier: slack, text: ...}}) or a list of them; notifiers: {} "
                              "(mayaflow runs no Python callables)",
                              join(operators_.notifier_names())));
    return calls;
}

std::optional<NotifierCall> TaskBuilder::read_callback(const YAML::Node& node, const std::string& field,
                                                       const nlohmann::json& loop_vars) {
    const auto names = operators_.notifier_names();
    if (!node.IsMap()) {
        reader_.error(node, field,
                      fmt::format("expected a notifier as a mapping ({{notifier: slack, ...}}); notifiers: {}",
                                  join(names)));
        return std::nullopt;
    }
    auto entries = reader_.entries(node, field);
    auto notifier_entry =
        std::find_if(entries.begin(), entries.end(), [](const YamlEntry& e) { return e.key == "notifier"; });
    if (notifier_entry == entries.end()) {
        reader_.error(node, field, fmt::format("a callback needs 'notifier' (one of: {})", join(names)));
        return std::nullopt;
    }
    auto name = reader_.string(notifier_entry->value, field + ".notifier");
    if (!name) return std::nullopt;
    const OperatorSpec* spec = operators_.find_notifier(*name);
    if (!spec) {
        reader_.error(notifier_entry->value, field + ".notifier",
                      fmt::format("unknown notifier {}{}; notifiers: {}", quote_name(*name), did_you_mean(*name, names),
                                  join(names)));
        return std::nullopt;
    }
    const size_t errors_before = reader_.error_count();
    Task scratch;  // apply_param checks a value and writes it into a task's params
    for (const auto& entry : entries) {
        if (entry.key == "notifier") continue;
        const ParamSpec* param = spec->find_param(entry.key);
        if (!param) {
            std::vector<std::string> param_names;
            for (const auto& p : spec->params) param_names.push_back(p.name);
            reader_.error(entry.key_node, field + "." + entry.key,
                          fmt::format("unknown field {} for the {} notifier{}; its parameters: {}", quote_name(entry.key),
                                      spec->name, did_you_mean(entry.key, param_names), join(param_names)));
            continue;
        }
        apply_param(scratch, *spec, *param, entry, field + "." + entry.key, loop_vars);
    }
    for (const auto& param : spec->params) {
        if (scratch.params.contains(param.name)) continue;
        if (param.required) {
            reader_.error(notifier_entry->key_node, field,
                          fmt::format("the {} notifier needs '{}'{}", spec->name, param.name,
                                      param.help.empty() ? "" : " (" + param.help + ")"));
        } else if (!param.default_value.is_null()) {
            scratch.params[param.name] = param.default_value;
        }
    }
    if (reader_.error_count() != errors_before) return std::nullopt;
    return NotifierCall{spec->name, std::move(scratch.params), reader_.where(node)};
}

}  // namespace mayaflow
