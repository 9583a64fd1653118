#include "engine/dagfile/task_builder.h"

#include <fmt/format.h>

#include <optional>
#include <set>

#include "engine/dagfile/names.h"
#include "engine/template/template.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow {
namespace {

const std::vector<std::string>& group_field_names() {
    static const std::vector<std::string> names = {"group",       "tasks",   "depends_on", "for_each",
                                                   "default_args", "tooltip", "description", "prefix_group_id"};
    return names;
}

// Names Airflow puts in every template context; a for_each variable may not hide them.
const std::set<std::string>& context_names() {
    static const std::set<std::string> names = {
        "ds",          "ds_nodash",  "ts",     "ts_nodash", "ts_nodash_with_tz", "logical_date",
        "data_interval_start", "data_interval_end", "run_id", "dag_run", "params", "dag", "task", "ti",
        "task_instance", "macros", "var", "conn", "start_date", "test_mode", "task_instance_key_str", "loop",
        "prev_data_interval_start_success", "prev_data_interval_end_success", "prev_start_date_success",
        "prev_end_date_success", "inlets", "outlets"};
    return names;
}

// " (table=students, day=mon)": which combination a generated task or group came from, for error
// messages; long values are shortened, as the text is kept with every generated task.
std::string describe_loop_vars(const nlohmann::json& loop_vars) {
    if (loop_vars.empty()) return "";
    std::string text;
    for (auto& [name, value] : loop_vars.items()) {
        if (!text.empty()) text += ", ";
        std::string shown = value.is_string() ? shorten_message(value.get_ref<const std::string&>(), 40)
                                              : shorten_message(dump_json(value), 40);
        text += name + "=" + shown;
    }
    return " (" + text + ")";
}

// A JSON value for an error message: short, and valid UTF-8 whatever it holds.
std::string shown_json(const nlohmann::json& value) { return shorten_message(dump_json(value), 60); }

nlohmann::json product_of(const std::vector<std::pair<std::string, nlohmann::json>>& lists) {
    auto combinations = nlohmann::json::array({nlohmann::json::object()});
    for (const auto& [name, values] : lists) {
        auto next = nlohmann::json::array();
        for (const auto& partial : combinations) {
            for (const auto& value : values) {
                auto combined = partial;
                combined[name] = value;
                next.push_back(std::move(combined));
            }
        }
        combinations = std::move(next);
    }
    return combinations;
}

// The node `path` (keys and list indexes) leads to inside `node`, as far as the YAML has it; a
// step it cannot follow (a key from a merge or an included file) stops at the node before.
YAML::Node node_at(YAML::Node node, const std::vector<nlohmann::json>& path) {
    for (const auto& step : path) {
        std::optional<YAML::Node> next;
        if (step.is_number_unsigned() && node.IsSequence() && step.get<std::size_t>() < node.size()) {
            next = node[step.get<std::size_t>()];
        } else if (step.is_string() && node.IsMap()) {
            for (const auto& entry : node) {
                if (entry.first.IsScalar() && entry.first.Scalar() == step.get_ref<const std::string&>()) {
                    next = entry.second.IsNull() ? entry.first : entry.second;
                }
            }
        }
        if (!next) break;
        node = *next;
    }
    return node;
}

}  // namespace

const std::vector<std::string>& TaskBuilder::task_field_names() {
    static const std::vector<std::string> names = {
        "task_id",   "operator",          "depends_on",  "trigger_rule",    "retries",
        "retry_delay", "retry_exponential_backoff", "max_retry_delay", "execution_timeout", "pool",
        "pool_slots", "priority_weight",  "weight_rule", "depends_on_past", "owner",
        "doc_md",    "for_each",          "on_failure_callback", "on_retry_callback", "on_success_callback"};
    return names;
}

TaskBuilder::TaskBuilder(FieldReader& reader, const OperatorCatalog& operators)
    : reader_(reader), operators_(operators), budget_(reader), templates_(reader) {}

void TaskBuilder::set_default_args(const YAML::Node& node, const std::string& field) {
    dag_default_args_ = checked_default_args(node, field);
}

std::map<std::string, YamlEntry> TaskBuilder::checked_default_args(const YAML::Node& node,
                                                                  const std::string& field) {
    std::map<std::string, YamlEntry> result;
    if (node.IsNull()) return result;
    std::vector<std::string> known;
    for (const auto& name : task_field_names()) {
        if (name != "task_id" && name != "for_each" && name != "depends_on") known.push_back(name);
    }
    for (const auto& name : operators_.names()) {
        if (const auto* spec = operators_.find(name)) {
            for (const auto& param : spec->params) known.push_back(param.name);
        }
    }
    for (auto& entry : reader_.entries(node, field)) {
        if (std::find(known.begin(), known.end(), entry.key) == known.end()) {
            reader_.error(entry.key_node, field + "." + entry.key,
                          fmt::format("{} is not a task field or a parameter of any operator{}", quote_name(entry.key),
                                      did_you_mean(entry.key, known)));
            continue;
        }
        result.emplace(entry.key, entry);
    }
    return result;
}

void TaskBuilder::add_tasks(const YAML::Node& tasks, const std::string& field) {
    // Refuse a DAG that would have too many tasks before building any of them: a file of a few
    // kilobytes can ask for millions.
    if (!budget_.room_for_tasks(DagBudget::count_tasks(tasks), tasks, field, "the for_each lists in this file")) return;
    Scope scope;
    scope.default_args = dag_default_args_;
    add_entries(tasks, field, scope);
}

void TaskBuilder::add_entries(const YAML::Node& tasks, const std::string& field, const Scope& scope) {
    if (!reader_.untagged(tasks, field)) return;
    if (tasks.IsNull()) return;
    if (!tasks.IsSequence()) {
        reader_.error(tasks, field, "expected a list of tasks (each item starting with '- task_id: ...')");
        return;
    }
    for (size_t i = 0; i < tasks.size() && building(); ++i) {
        const YAML::Node& node = tasks[i];
        std::string item_field = fmt::format("{}[{}]", field, i);
        if (!node.IsMap()) {
            reader_.error(node, item_field, "each task must be a mapping with task_id and operator");
            continue;
        }
        if (node["group"]) {
            add_group(node, item_field, scope);
        } else {
            add_task(node, item_field, scope);
        }
    }
}

std::vector<nlohmann::json> TaskBuilder::expand_for_each(const YAML::Node& node, const std::string& field) {
    // Named lists keep the order they are written in: the first varies slowest.
    std::vector<std::pair<std::string, nlohmann::json>> lists;
    auto too_many_items = [&](size_t items, const YAML::Node& where, const std::string& list_field) {
        if (items <= kMaxForEachItems) return false;
        reader_.error(where, list_field,
                      fmt::format("the for_each list has {} items; a list may have at most {}", items, kMaxForEachItems));
        return true;
    };
    auto add_list = [&](const std::string& name, const nlohmann::json& values, const YAML::Node& where) {
        if (!is_identifier(name)) {
            reader_.error(where, field + "." + name,
                          fmt::format("{} is not a valid variable name (letters, digits and _)", quote_name(name)));
            return false;
        }
        if (context_names().count(name)) {
            reader_.error(where, field + "." + name,
                          fmt::format("for_each variable '{}' would hide Airflow's template name '{}'; "
                                      "choose another name",
                                      name, name));
            return false;
        }
        if (!values.is_array()) {
            reader_.error(where, field + "." + name,
                          fmt::format("expected a list of values for '{}', got {}", name, shown_json(values)));
            return false;
        }
        if (too_many_items(values.size(), where, field + "." + name)) return false;
        lists.emplace_back(name, values);
        return true;
    };
    if (node.IsMap() && node.Tag() != "!include") {
        for (const auto& entry : reader_.entries(node, field)) {
            // The size is known before the list is read: refuse a huge one without converting it.
            if (entry.value.IsSequence() && too_many_items(entry.value.size(), entry.value, field + "." + entry.key)) {
                return {};
            }
            auto values = reader_.json(entry.value, field + "." + entry.key);
            if (!values || !add_list(entry.key, *values, entry.value)) return {};
        }
    } else {
        if (node.IsSequence() && too_many_items(node.size(), node, field)) return {};
        auto value = reader_.json(node, field);
        if (!value) return {};
        if (!value->is_array()) {
            reader_.error(node, field,
                          "expected a list (for_each: [a, b]) or named lists (for_each: {table: [a, b]})");
            return {};
        }
        if (too_many_items(value->size(), node, field)) return {};
        lists.emplace_back("item", *value);
    }
    size_t total = 1;
    for (const auto& [name, values] : lists) {
        if (values.empty()) {
            reader_.error(node, field, fmt::format("the for_each list '{}' is empty: it would make no tasks", name));
            return {};
        }
        total = saturating_multiply(total, values.size());
        if (total > kMaxTasksPerDag) {
            reader_.error(node, field,
                          fmt::format("for_each makes more than {} combinations; a DAG may have at most {} tasks: "
                                      "split it into several DAGs",
                                      kMaxTasksPerDag, kMaxTasksPerDag));
            return {};
        }
    }
    if (lists.empty()) {
        reader_.error(node, field, "for_each has no lists");
        return {};
    }
    auto combinations = product_of(lists);
    return std::vector<nlohmann::json>(combinations.begin(), combinations.end());
}

std::string TaskBuilder::full_id(const std::string& group_id, const std::string& local_id) const {
    return group_id.empty() ? local_id : group_id + "." + local_id;
}

void TaskBuilder::add_group(const YAML::Node& node, const std::string& field, const Scope& scope) {
    auto entries = reader_.entries(node, field);
    const YamlEntry* id_entry = nullptr;
    const YamlEntry* tasks_entry = nullptr;
    const YamlEntry* for_each_entry = nullptr;
    const YamlEntry* depends_entry = nullptr;
    const YamlEntry* defaults_entry = nullptr;
    bool prefix = true;
    for (const auto& entry : entries) {
        if (entry.key == "group") id_entry = &entry;
        else if (entry.key == "tasks") tasks_entry = &entry;
        else if (entry.key == "for_each") for_each_entry = &entry;
        else if (entry.key == "depends_on") depends_entry = &entry;
        else if (entry.key == "default_args") defaults_entry = &entry;
        else if (entry.key == "prefix_group_id") prefix = reader_.boolean(entry.value, field + ".prefix_group_id").value_or(true);
        else if (entry.key == "tooltip" || entry.key == "description") reader_.string(entry.value, field + "." + entry.key);
        else {
            reader_.error(entry.key_node, field + "." + entry.key,
                          fmt::format("unknown group field {}{}; a group has: {}", quote_name(entry.key),
                                      did_you_mean(entry.key, group_field_names()), join(group_field_names())));
        }
    }
    if (!id_entry) return;
    auto raw_id = reader_.string(id_entry->value, field + ".group");
    if (!raw_id) return;
    if (!tasks_entry || !tasks_entry->value.IsSequence() || tasks_entry->value.size() == 0) {
        reader_.error(id_entry->key_node, field, "a group needs a non-empty 'tasks' list");
        return;
    }
    if (scope.depth >= kMaxGroupDepth) {
        reader_.error(id_entry->key_node, field,
                      fmt::format("groups are nested more than {} deep; flatten them", kMaxGroupDepth));
        return;
    }
    std::vector<nlohmann::json> combinations = {nlohmann::json::object()};
    if (for_each_entry) combinations = expand_for_each(for_each_entry->value, field + ".for_each");
    // Every combination makes the group's tasks again: count them all before making any.
    size_t inside = DagBudget::count_tasks(tasks_entry->value);
    if (!budget_.room_for_tasks(saturating_multiply(combinations.size(), inside), node, field, "this group's for_each")) return;
    for (const auto& combination : combinations) {
        if (!building()) return;
        nlohmann::json loop_vars = scope.loop_vars;
        for (auto& [name, value] : combination.items()) loop_vars[name] = value;
        std::string group_field = field + describe_loop_vars(combination);
        auto local_id = templates_.render(*raw_id, loop_vars, reader_.where(id_entry->value), group_field + ".group");
        if (!local_id) continue;
        if (!is_id_text(*local_id)) {
            reader_.error(id_entry->value, group_field + ".group",
                          fmt::format("group id {} may contain only letters, digits, '_', '-' and '.'",
                                      quote_for_message(*local_id)));
            continue;
        }
        if (full_id(scope.group_id, *local_id).size() > kMaxIdLength) {
            reader_.error(id_entry->value, group_field + ".group",
                          fmt::format("group id {} makes task ids longer than {} characters",
                                      quote_for_message(full_id(scope.group_id, *local_id)), kMaxIdLength));
            continue;
        }
        GroupBlueprint group;
        group.group_id = full_id(scope.group_id, *local_id);
        group.parent_group_id = scope.group_id;
        group.where = reader_.where(id_entry->key_node);
        group.field = group_field;
        if (depends_entry) {
            auto names = reader_.string_list(depends_entry->value, group_field + ".depends_on");
            if (names && budget_.add_dependencies(names->size(), depends_entry->value, group_field + ".depends_on")) {
                for (const auto& name : *names) {
                    auto rendered = templates_.render(name, loop_vars, reader_.where(depends_entry->value),
                                                  group_field + ".depends_on");
                    if (rendered) {
                        group.depends_on.push_back(DependencyRef{*rendered, scope.group_id,
                                                                 reader_.where(depends_entry->value),
                                                                 group_field + ".depends_on"});
                    }
                }
            }
        }
        Scope inner;
        inner.group_id = group.group_id;
        inner.loop_vars = loop_vars;
        inner.default_args = scope.default_args;
        inner.depth = scope.depth + 1;
        if (defaults_entry) {
            for (auto& [key, entry] : checked_default_args(defaults_entry->value, group_field + ".default_args")) {
                inner.default_args.insert_or_assign(key, entry);
            }
        }
        const std::string this_group = group.group_id;
        blueprint_.groups.push_back(std::move(group));
        if (!prefix) inner.group_id = scope.group_id;
        // The group's members know their group through Task::group_id even without a prefix.
        size_t first_task = blueprint_.tasks.size();
        add_entries(tasks_entry->value, group_field + ".tasks", inner);
        for (size_t i = first_task; i < blueprint_.tasks.size(); ++i) {
            auto& task = blueprint_.tasks[i].task;
            if (task.group_id == inner.group_id) task.group_id = this_group;
        }
    }
}

void TaskBuilder::add_task(const YAML::Node& node, const std::string& field, const Scope& scope) {
    auto entries = reader_.entries(node, field);
    const YamlEntry* id_entry = nullptr;
    const YamlEntry* for_each_entry = nullptr;
    for (const auto& entry : entries) {
        if (entry.key == "task_id") id_entry = &entry;
        if (entry.key == "for_each") for_each_entry = &entry;
    }
    if (!id_entry) {
        reader_.error(node, field, "a task needs a 'task_id'");
        return;
    }
    std::vector<nlohmann::json> combinations = {nlohmann::json::object()};
    if (for_each_entry) {
        combinations = expand_for_each(for_each_entry->value, field + ".for_each");
        auto raw = id_entry->value.IsScalar() ? id_entry->value.Scalar() : std::string();
        if (combinations.size() > 1 && !has_markup(raw)) {
            reader_.error(id_entry->value, field + ".task_id",
                          fmt::format("a task with for_each must use a for_each variable in its task_id, e.g. "
                                      "'{}_{{{{ item }}}}', or every generated task gets the same id",
                                      shorten_message(raw, 60)));
            return;
        }
    }
    if (!budget_.room_for_tasks(combinations.size(), node, field, "this task's for_each")) return;
    for (const auto& combination : combinations) {
        if (!building()) return;
        nlohmann::json loop_vars = scope.loop_vars;
        for (auto& [name, value] : combination.items()) loop_vars[name] = value;
        // Task fields come from the task itself, then its groups' and the DAG's default_args.
        std::vector<YamlEntry> merged = entries;
        for (const auto& [key, entry] : scope.default_args) {
            bool set_by_task = std::any_of(entries.begin(), entries.end(),
                                           [&name = key](const YamlEntry& e) { return e.key == name; });
            if (!set_by_task) {
                merged.push_back(entry);
                merged.back().inherited = true;
            }
        }
        build_task(merged, id_entry, field + describe_loop_vars(combination), scope, loop_vars,
                   reader_.where(node));
    }
}

void TaskBuilder::build_task(const std::vector<YamlEntry>& entries, const YamlEntry* id_entry,
                             const std::string& field, const Scope& scope, const nlohmann::json& loop_vars,
                             SourceLocation where) {
    size_t errors_before = reader_.error_count();
    if (!budget_.add_task(id_entry->value, field)) return;
    if (!budget_.add_text(loop_vars, where, field)) return;
    TaskBlueprint blueprint;
    Task& task = blueprint.task;
    task.defined_at = where;
    task.group_id = scope.group_id;
    task.loop_vars = loop_vars;
    task.owner = dag_owner_;
    blueprint.field = field;

    auto raw_id = reader_.string(id_entry->value, field + ".task_id");
    if (!raw_id) return;
    auto local_id = templates_.render(*raw_id, loop_vars, reader_.where(id_entry->value), field + ".task_id");
    if (!local_id) return;
    if (!is_id_text(*local_id)) {
        reader_.error(id_entry->value, field + ".task_id",
                      fmt::format("task_id {} may contain only letters, digits, '_', '-' and '.'",
                                  quote_for_message(*local_id)));
        return;
    }
    task.task_id = full_id(scope.group_id, *local_id);
    if (task.task_id.size() > kMaxIdLength) {
        reader_.error(id_entry->value, field + ".task_id",
                      fmt::format("task_id is {} characters long; the limit is {}", task.task_id.size(), kMaxIdLength));
        return;
    }

    const OperatorSpec* spec = nullptr;
    auto operator_entry = std::find_if(entries.begin(), entries.end(), [](const YamlEntry& e) { return e.key == "operator"; });
    if (operator_entry == entries.end()) {
        reader_.error(id_entry->key_node, field, fmt::format("task '{}' needs an 'operator' (one of: {})", task.task_id,
                                                              join(operators_.names())));
        return;
    }
    if (auto name = reader_.string(operator_entry->value, field + ".operator")) {
        spec = operators_.find(*name);
        if (!spec) {
            reader_.error(operator_entry->value, field + ".operator",
                          fmt::format("unknown operator {}{}; known operators: {}", quote_name(*name),
                                      did_you_mean(*name, operators_.names()), join(operators_.names())));
            return;
        }
        task.operator_name = spec->name;
    } else {
        return;
    }

    std::set<std::string> set_params;
    for (const auto& entry : entries) {
        std::string entry_field = field + "." + entry.key;
        if (entry.key == "task_id" || entry.key == "operator" || entry.key == "for_each") continue;
        const auto& fields = task_field_names();
        // default_args give values to the task fields and to the parameters this operator declares.
        if (entry.inherited && !spec->find_param(entry.key) &&
            std::find(fields.begin(), fields.end(), entry.key) == fields.end()) {
            continue;
        }
        if (std::find(fields.begin(), fields.end(), entry.key) != fields.end()) {
            apply_task_field(task, blueprint, entry, entry_field, loop_vars, scope.group_id);
            continue;
        }
        if (const ParamSpec* param = spec->find_param(entry.key)) {
            apply_param(task, *spec, *param, entry, entry_field, loop_vars);
            set_params.insert(entry.key);
            continue;
        }
        std::vector<std::string> candidates = fields;
        for (const auto& param : spec->params) candidates.push_back(param.name);
        std::vector<std::string> param_names;
        for (const auto& param : spec->params) param_names.push_back(param.name);
        reader_.error(entry.key_node, entry_field,
                      fmt::format("unknown field {} for a {} task{}; {} parameters: {}", quote_name(entry.key), spec->name,
                                  did_you_mean(entry.key, candidates), spec->name,
                                  param_names.empty() ? std::string("none") : join(param_names)));
    }
    for (const auto& param : spec->params) {
        if (set_params.count(param.name)) continue;
        if (param.required) {
            reader_.error(id_entry->key_node, field,
                          fmt::format("{} task '{}' is missing its required parameter '{}'{}", spec->name,
                                      task.task_id, param.name, param.help.empty() ? "" : " (" + param.help + ")"));
        } else if (!param.default_value.is_null()) {
            task.params[param.name] = param.default_value;
        }
    }
    for (const auto& group : spec->one_of_required) {
        if (std::any_of(group.begin(), group.end(), [&](const std::string& name) { return set_params.count(name) > 0; })) {
            continue;
        }
        std::vector<std::string> quoted;
        for (const auto& name : group) quoted.push_back("'" + name + "'");
        std::string last = quoted.back();
        quoted.pop_back();
        reader_.error(id_entry->key_node, field,
                      fmt::format("{} task '{}' needs {}{}{}", spec->name, task.task_id, join(quoted),
                                  quoted.empty() ? "" : " or ", last));
    }
    for (const auto& group : spec->exactly_one_of) {
        std::vector<std::string> set;
        for (const auto& name : group) {
            if (set_params.count(name) > 0) set.push_back("'" + name + "'");
        }
        if (set.size() == 1) continue;
        std::vector<std::string> quoted;
        for (const auto& name : group) quoted.push_back("'" + name + "'");
        reader_.error(id_entry->key_node, field,
                      set.empty() ? fmt::format("{} task '{}' needs one of {}", spec->name, task.task_id, join(quoted))
                                  : fmt::format("{} task '{}' sets {}: it takes exactly one of {}", spec->name,
                                                task.task_id, join(set, " and "), join(quoted)));
    }
    if (reader_.error_count() == errors_before) blueprint_.tasks.push_back(std::move(blueprint));
}

void TaskBuilder::apply_task_field(Task& task, TaskBlueprint& blueprint, const YamlEntry& entry,
                                   const std::string& field, const nlohmann::json& loop_vars,
                                   const std::string& scope_group) {
    const auto& key = entry.key;
    const auto& value = entry.value;
    if (key == "depends_on") {
        auto names = reader_.string_list(value, field);
        if (!names || !budget_.add_dependencies(names->size(), value, field)) return;
        for (const auto& name : *names) {
            auto rendered = templates_.render(name, loop_vars, reader_.where(value), field);
            if (rendered) blueprint.depends_on.push_back(DependencyRef{*rendered, scope_group, reader_.where(value), field});
        }
    } else if (key == "trigger_rule") {
        auto text = reader_.string(value, field);
        if (!text) return;
        auto rule = parse_trigger_rule(*text);
        if (!rule) {
            std::vector<std::string> names;
            for (auto name : trigger_rule_names()) names.emplace_back(name);
            reader_.error(value, field,
                          fmt::format("unknown trigger rule {}{}; the rules are: {}", quote_name(*text),
                                      did_you_mean(*text, names), join(names)));
            return;
        }
        task.trigger_rule = *rule;
    } else if (key == "retries") {
        if (auto n = reader_.integer(value, field, 0, 1000)) task.retry.retries = static_cast<int>(*n);
    } else if (key == "retry_delay") {
        if (auto d = reader_.duration(value, field)) task.retry.retry_delay = *d;
    } else if (key == "max_retry_delay") {
        if (auto d = reader_.duration(value, field)) task.retry.max_retry_delay = *d;
    } else if (key == "retry_exponential_backoff") {
        if (auto b = reader_.boolean(value, field)) task.retry.exponential_backoff = *b;
    } else if (key == "execution_timeout") {
        if (auto d = reader_.duration(value, field)) {
            if (d->count() <= 0) {
                reader_.error(value, field, "execution_timeout must be longer than zero");
                return;
            }
            task.execution_timeout = *d;
        }
    } else if (key == "pool") {
        auto text = reader_.string(value, field);
        if (!text) return;
        auto rendered = templates_.render(*text, loop_vars, reader_.where(value), field);
        if (!rendered) return;
        if (rendered->size() > kMaxIdLength || !is_id_text(*rendered)) {
            reader_.error(value, field,
                          fmt::format("pool name {} may contain only letters, digits, '_', '-' and '.', at most {}",
                                      quote_for_message(*rendered), kMaxIdLength));
            return;
        }
        task.pool = *rendered;
    } else if (key == "pool_slots") {
        if (auto n = reader_.integer(value, field, 1, 1'000'000)) task.pool_slots = static_cast<int>(*n);
    } else if (key == "priority_weight") {
        if (auto n = reader_.integer(value, field, -2147483648LL, 2147483647LL)) task.priority_weight = static_cast<int>(*n);
    } else if (key == "weight_rule") {
        auto text = reader_.string(value, field);
        if (!text) return;
        if (*text == "downstream") task.weight_rule = WeightRule::downstream;
        else if (*text == "upstream") task.weight_rule = WeightRule::upstream;
        else if (*text == "absolute") task.weight_rule = WeightRule::absolute;
        else reader_.error(value, field, fmt::format("unknown weight_rule {}; use downstream, upstream or absolute", quote_name(*text)));
    } else if (key == "depends_on_past") {
        if (auto b = reader_.boolean(value, field)) task.depends_on_past = *b;
    } else if (key == "owner") {
        if (auto text = reader_.string(value, field)) task.owner = *text;
    } else if (key == "doc_md") {
        if (auto text = reader_.string(value, field)) task.doc_md = *text;
    } else if (key == "on_failure_callback") {
        task.callbacks.on_failure = read_callbacks(value, field, loop_vars);
    } else if (key == "on_retry_callback") {
        task.callbacks.on_retry = read_callbacks(value, field, loop_vars);
    } else if (key == "on_success_callback") {
        task.callbacks.on_success = read_callbacks(value, field, loop_vars);
    }
}

void TaskBuilder::apply_param(Task& task, const OperatorSpec& spec, const ParamSpec& param, const YamlEntry& entry,
                              const std::string& field, const nlohmann::json& loop_vars) {
    const auto& node = entry.value;
    auto where = reader_.where(node.IsNull() ? entry.key_node : node);
    auto type_error = [&](std::string_view got) {
        reader_.error(where, field,
                      fmt::format("{} parameter '{}' must be {}, got {}", spec.name, param.name, to_string(param.type), got));
    };
    auto value = reader_.json(node, field);
    if (!value) return;
    nlohmann::json result;
    switch (param.type) {
        case ParamType::string:
            if (node.IsScalar() && node.Tag() != "!include") result = node.Scalar();
            else if (value->is_string()) result = *value;
            else return type_error(value->is_null() ? "nothing" : shown_json(*value));
            break;
        case ParamType::integer:
            if (!value->is_number_integer()) return type_error(shown_json(*value));
            result = *value;
            break;
        case ParamType::number:
            if (!value->is_number()) return type_error(shown_json(*value));
            result = *value;
            break;
        case ParamType::boolean: {
            auto b = reader_.boolean(node, field);
            if (!b) return;
            result = *b;
            break;
        }
        case ParamType::list:
            if (!value->is_array()) return type_error(shown_json(*value));
            result = *value;
            break;
        case ParamType::string_list:
            if (value->is_string()) result = nlohmann::json::array({*value});
            else if (value->is_array() && std::all_of(value->begin(), value->end(), [](auto& v) { return v.is_string(); })) result = *value;
            else return type_error(shown_json(*value));
            break;
        case ParamType::map:
            if (!value->is_object()) return type_error(shown_json(*value));
            result = *value;
            break;
        case ParamType::string_map: {
            if (!value->is_object()) return type_error(shown_json(*value));
            result = nlohmann::json::object();
            for (auto& [k, v] : value->items()) {
                if (v.is_string()) result[k] = v;
                else if (v.is_number() || v.is_boolean()) result[k] = v.dump();
                else return type_error(fmt::format("a non-string value for '{}'", k));
            }
            break;
        }
        case ParamType::duration: {
            auto d = reader_.duration(node, field);
            if (!d) return;
            result = std::chrono::duration<double>(*d).count();
            break;
        }
        case ParamType::integer_or_list:
            if (value->is_number_integer()) result = nlohmann::json::array({*value});
            else if (value->is_array() && std::all_of(value->begin(), value->end(), [](auto& v) { return v.is_number_integer(); })) result = *value;
            else return type_error(shown_json(*value));
            break;
        case ParamType::any: result = *value; break;
    }
    if (!param.allowed_values.empty() && result.is_string()) {
        auto text = result.get<std::string>();
        if (std::find(param.allowed_values.begin(), param.allowed_values.end(), text) == param.allowed_values.end()) {
            reader_.error(where, field,
                          fmt::format("{} parameter '{}' must be one of {}, got {}{}", spec.name, param.name,
                                      join(param.allowed_values), quote_name(text), did_you_mean(text, param.allowed_values)));
            return;
        }
    }
    // A string's check runs on its final text, below; `where` has no lines inside a string to point at.
    auto passes_check = [&](const nlohmann::json& text) {
        if (!param.check || !text.is_string()) return true;
        auto problem = param.check(text);
        if (problem) reader_.error(where, param_path_text(field, problem->path), problem->message);
        return !problem;
    };
    if (param.check && !result.is_string()) {
        if (auto problem = param.check(result)) {
            const YAML::Node inner = node_at(node, problem->path);
            reader_.error(reader_.where(inner.IsNull() ? node : inner), param_path_text(field, problem->path),
                          problem->message);
            return;
        }
    }
    if (param.templated) {
        // A string naming a file with one of the operator's template extensions is replaced by the
        // file's text (the file name itself may use for_each variables).
        if (result.is_string() && !param.template_ext.empty()) {
            std::string text = result.get<std::string>();
            std::string trimmed = text;
            while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.pop_back();
            for (const auto& ext : param.template_ext) {
                if (trimmed.size() > ext.size() && trimmed.ends_with(ext) && trimmed.find('\n') == std::string::npos) {
                    auto path = templates_.render(trimmed, loop_vars, where, field);
                    if (!path) return;
                    auto content = reader_.read_include(*path, where, field);
                    if (!content) return;
                    result = std::move(*content);
                    break;
                }
            }
        }
        // A value given as text (a .json file's): the check reads it, and has no lines to point at.
        if (!passes_check(result)) return;
        if (!budget_.add_text(result, where, field)) return;
        templates_.check(result, loop_vars, where, field);
    } else {
        if (!budget_.add_text(result, where, field)) return;
        if (result.is_string()) {
            auto rendered = templates_.render(result.get<std::string>(), loop_vars, where, field, false);
            if (!rendered) return;
            result = std::move(*rendered);
            // An untemplated string is final here (for_each variables put in), so its check is too.
            if (!passes_check(result)) return;
        }
    }
    task.params[param.name] = std::move(result);
}

}  // namespace mayaflow
