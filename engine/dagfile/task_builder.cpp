#include "engine/dagfile/task_builder.h"

#include <fmt/format.h>

#include <regex>
#include <set>

#include "engine/template/template.h"
#include "engine/util/text.h"

namespace mayaflow {
namespace {

constexpr size_t kMaxGeneratedPerBlock = 10'000;
constexpr size_t kMaxIdLength = 250;

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
        "task_instance", "macros", "var", "conn", "start_date", "test_mode", "task_instance_key_str", "loop"};
    return names;
}

bool is_identifier(const std::string& name) {
    static const std::regex kIdentifier("^[A-Za-z_][A-Za-z0-9_]*$");
    return std::regex_match(name, kIdentifier);
}

bool is_valid_id(const std::string& id) {
    static const std::regex kId("^[A-Za-z0-9_.\\-]+$");
    return std::regex_match(id, kId);
}

bool has_markup(const std::string& text) {
    return text.find("{{") != std::string::npos || text.find("{%") != std::string::npos ||
           text.find("{#") != std::string::npos;
}

std::string describe_loop_vars(const nlohmann::json& loop_vars) {
    if (loop_vars.empty()) return "";
    std::string text;
    for (auto& [name, value] : loop_vars.items()) {
        if (!text.empty()) text += ", ";
        text += name + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
    }
    return " (" + text + ")";
}

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

}  // namespace

const std::vector<std::string>& TaskBuilder::task_field_names() {
    static const std::vector<std::string> names = {
        "task_id",   "operator",          "depends_on",  "trigger_rule",    "retries",
        "retry_delay", "retry_exponential_backoff", "max_retry_delay", "execution_timeout", "pool",
        "pool_slots", "priority_weight",  "weight_rule", "depends_on_past", "owner",
        "doc_md",    "for_each"};
    return names;
}

TaskBuilder::TaskBuilder(FieldReader& reader, const OperatorCatalog& operators)
    : reader_(reader), operators_(operators) {}

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
                          fmt::format("'{}' is not a task field or a parameter of any operator{}", entry.key,
                                      did_you_mean(entry.key, known)));
            continue;
        }
        result.emplace(entry.key, entry);
    }
    return result;
}

void TaskBuilder::add_tasks(const YAML::Node& tasks, const std::string& field) {
    Scope scope;
    scope.default_args = dag_default_args_;
    add_entries(tasks, field, scope);
}

void TaskBuilder::add_entries(const YAML::Node& tasks, const std::string& field, const Scope& scope) {
    if (tasks.IsNull()) return;
    if (!tasks.IsSequence()) {
        reader_.error(tasks, field, "expected a list of tasks (each item starting with '- task_id: ...')");
        return;
    }
    for (size_t i = 0; i < tasks.size(); ++i) {
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
    auto add_list = [&](const std::string& name, const nlohmann::json& values, const YAML::Node& where) {
        if (!is_identifier(name)) {
            reader_.error(where, field + "." + name,
                          fmt::format("'{}' is not a valid variable name (letters, digits and _)", name));
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
                          fmt::format("expected a list of values for '{}', got {}", name, values.dump()));
            return false;
        }
        lists.emplace_back(name, values);
        return true;
    };
    if (node.IsMap() && node.Tag() != "!include") {
        for (const auto& entry : reader_.entries(node, field)) {
            auto values = reader_.json(entry.value, field + "." + entry.key);
            if (!values || !add_list(entry.key, *values, entry.value)) return {};
        }
    } else {
        auto value = reader_.json(node, field);
        if (!value) return {};
        if (!value->is_array()) {
            reader_.error(node, field,
                          "expected a list (for_each: [a, b]) or named lists (for_each: {table: [a, b]})");
            return {};
        }
        lists.emplace_back("item", *value);
    }
    size_t total = 1;
    for (const auto& [name, values] : lists) {
        if (values.empty()) {
            reader_.error(node, field, fmt::format("the for_each list '{}' is empty: it would make no tasks", name));
            return {};
        }
        total *= values.size();
        if (total > kMaxGeneratedPerBlock) {
            reader_.error(node, field,
                          fmt::format("for_each makes more than {} combinations; split the DAG",
                                      kMaxGeneratedPerBlock));
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

std::optional<std::string> TaskBuilder::render_static(const std::string& text, const nlohmann::json& loop_vars,
                                                      SourceLocation where, const std::string& field) {
    if (!has_markup(text)) return text;
    auto parsed = tmpl::Template::parse(text);
    if (!parsed) {
        reader_.error(where, field, "template syntax error: " + parsed.error().message);
        return std::nullopt;
    }
    tmpl::Context context;
    for (auto& [name, value] : loop_vars.items()) context.set(name, tmpl::Value::from_json(value));
    auto rendered = parsed->render(context);
    if (!rendered) {
        std::vector<std::string> names;
        for (auto& [name, value] : loop_vars.items()) names.push_back(name);
        reader_.error(where, field,
                      fmt::format("{}: this value is fixed when the DAG loads, so it may use only the "
                                  "for_each variables{}",
                                  rendered.error().message,
                                  names.empty() ? std::string(" (there are none here)") : " (" + join(names) + ")"));
        return std::nullopt;
    }
    return *rendered;
}

void TaskBuilder::check_template_syntax(const nlohmann::json& value, SourceLocation where,
                                        const std::string& field) {
    if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        if (!has_markup(text)) return;
        auto parsed = tmpl::Template::parse(text);
        if (!parsed) reader_.error(where, field, "template syntax error: " + parsed.error().message);
    } else if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i) check_template_syntax(value[i], where, fmt::format("{}[{}]", field, i));
    } else if (value.is_object()) {
        for (auto& [key, item] : value.items()) check_template_syntax(item, where, field + "." + key);
    }
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
                          fmt::format("unknown group field '{}'{}; a group has: {}", entry.key,
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
    std::vector<nlohmann::json> combinations = {nlohmann::json::object()};
    if (for_each_entry) combinations = expand_for_each(for_each_entry->value, field + ".for_each");
    for (const auto& combination : combinations) {
        nlohmann::json loop_vars = scope.loop_vars;
        for (auto& [name, value] : combination.items()) loop_vars[name] = value;
        std::string group_field = field + describe_loop_vars(combination);
        auto local_id = render_static(*raw_id, loop_vars, reader_.where(id_entry->value), group_field + ".group");
        if (!local_id) continue;
        if (local_id->empty() || !is_valid_id(*local_id)) {
            reader_.error(id_entry->value, group_field + ".group",
                          fmt::format("group id {} may contain only letters, digits, '_', '-' and '.'",
                                      quote_for_message(*local_id)));
            continue;
        }
        GroupBlueprint group;
        group.group_id = full_id(scope.group_id, *local_id);
        group.parent_group_id = scope.group_id;
        group.where = reader_.where(id_entry->key_node);
        group.field = group_field;
        if (depends_entry) {
            if (auto names = reader_.string_list(depends_entry->value, group_field + ".depends_on")) {
                for (const auto& name : *names) {
                    auto rendered = render_static(name, loop_vars, reader_.where(depends_entry->value),
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
                                      raw));
            return;
        }
    }
    for (const auto& combination : combinations) {
        nlohmann::json loop_vars = scope.loop_vars;
        for (auto& [name, value] : combination.items()) loop_vars[name] = value;
        // Task fields come from the task itself, then its groups' and the DAG's default_args.
        std::vector<YamlEntry> merged = entries;
        for (const auto& [key, entry] : scope.default_args) {
            bool set_by_task = std::any_of(entries.begin(), entries.end(), [&](const YamlEntry& e) { return e.key == key; });
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
    TaskBlueprint blueprint;
    Task& task = blueprint.task;
    task.defined_at = where;
    task.group_id = scope.group_id;
    task.loop_vars = loop_vars;
    task.owner = dag_owner_;
    blueprint.field = field;

    auto raw_id = reader_.string(id_entry->value, field + ".task_id");
    if (!raw_id) return;
    auto local_id = render_static(*raw_id, loop_vars, reader_.where(id_entry->value), field + ".task_id");
    if (!local_id) return;
    if (local_id->empty() || !is_valid_id(*local_id)) {
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
                          fmt::format("unknown operator '{}'{}; known operators: {}", *name,
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
                      fmt::format("unknown field '{}' for a {} task{}; {} parameters: {}", entry.key, spec->name,
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
    if (reader_.error_count() == errors_before) blueprint_.tasks.push_back(std::move(blueprint));
}

void TaskBuilder::apply_task_field(Task& task, TaskBlueprint& blueprint, const YamlEntry& entry,
                                   const std::string& field, const nlohmann::json& loop_vars,
                                   const std::string& scope_group) {
    const auto& key = entry.key;
    const auto& value = entry.value;
    if (key == "depends_on") {
        auto names = reader_.string_list(value, field);
        if (!names) return;
        for (const auto& name : *names) {
            auto rendered = render_static(name, loop_vars, reader_.where(value), field);
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
                          fmt::format("unknown trigger rule '{}'{}; the rules are: {}", *text, did_you_mean(*text, names),
                                      join(names)));
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
        auto rendered = render_static(*text, loop_vars, reader_.where(value), field);
        if (!rendered) return;
        if (rendered->empty() || !is_valid_id(*rendered)) {
            reader_.error(value, field, "a pool name may contain only letters, digits, '_', '-' and '.'");
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
        else reader_.error(value, field, fmt::format("unknown weight_rule '{}'; use downstream, upstream or absolute", *text));
    } else if (key == "depends_on_past") {
        if (auto b = reader_.boolean(value, field)) task.depends_on_past = *b;
    } else if (key == "owner") {
        if (auto text = reader_.string(value, field)) task.owner = *text;
    } else if (key == "doc_md") {
        if (auto text = reader_.string(value, field)) task.doc_md = *text;
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
            else return type_error(value->is_null() ? "nothing" : value->dump());
            break;
        case ParamType::integer:
            if (!value->is_number_integer()) return type_error(value->dump());
            result = *value;
            break;
        case ParamType::number:
            if (!value->is_number()) return type_error(value->dump());
            result = *value;
            break;
        case ParamType::boolean: {
            auto b = reader_.boolean(node, field);
            if (!b) return;
            result = *b;
            break;
        }
        case ParamType::list:
            if (!value->is_array()) return type_error(value->dump());
            result = *value;
            break;
        case ParamType::string_list:
            if (value->is_string()) result = nlohmann::json::array({*value});
            else if (value->is_array() && std::all_of(value->begin(), value->end(), [](auto& v) { return v.is_string(); })) result = *value;
            else return type_error(value->dump());
            break;
        case ParamType::map:
            if (!value->is_object()) return type_error(value->dump());
            result = *value;
            break;
        case ParamType::string_map: {
            if (!value->is_object()) return type_error(value->dump());
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
            else return type_error(value->dump());
            break;
        case ParamType::any: result = *value; break;
    }
    if (!param.allowed_values.empty() && result.is_string()) {
        auto text = result.get<std::string>();
        if (std::find(param.allowed_values.begin(), param.allowed_values.end(), text) == param.allowed_values.end()) {
            reader_.error(where, field,
                          fmt::format("{} parameter '{}' must be one of {}, got '{}'{}", spec.name, param.name,
                                      join(param.allowed_values), text, did_you_mean(text, param.allowed_values)));
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
                    auto path = render_static(trimmed, loop_vars, where, field);
                    if (!path) return;
                    auto content = reader_.read_include(*path, where, field);
                    if (!content) return;
                    result = *content;
                    break;
                }
            }
        }
        check_template_syntax(result, where, field);
    } else if (result.is_string()) {
        auto rendered = render_static(result.get<std::string>(), loop_vars, where, field);
        if (!rendered) return;
        result = *rendered;
    }
    task.params[param.name] = std::move(result);
}

}  // namespace mayaflow
