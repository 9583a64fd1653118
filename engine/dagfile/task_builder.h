#pragma once
// TaskBuilder turns the `tasks:` list of a DAG file into task blueprints: it expands for_each
// blocks (one task or group per item, or per combination of several lists), prefixes task ids
// with their groups, applies default_args, and checks every task field and operator parameter
// against the operator's declaration. Its DagBudget refuses a DAG over the limits in load_limits.h
// before building what the DAG asks for.

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/dagfile/dag_budget.h"
#include "engine/dagfile/field_reader.h"
#include "engine/dagfile/load_time_templates.h"
#include "engine/dagfile/task_blueprint.h"
#include "engine/model/operator_spec.h"

namespace mayaflow {

class TaskBuilder {
  public:
    TaskBuilder(FieldReader& reader, const OperatorCatalog& operators);

    // DAG-level default_args: checked once here, applied to every task.
    void set_default_args(const YAML::Node& node, const std::string& field);
    void set_dag_owner(std::string owner) { dag_owner_ = std::move(owner); }

    void add_tasks(const YAML::Node& tasks, const std::string& field);
    // An on_*_callback's value: one notifier ({notifier: slack, text: ...}) or a list of them, each
    // checked against the notifier's declared parameters (task_callbacks.cpp).
    std::vector<NotifierCall> read_callbacks(const YAML::Node& node, const std::string& field,
                                             const nlohmann::json& loop_vars);
    DagBlueprint take() { return std::move(blueprint_); }

    static const std::vector<std::string>& task_field_names();

  private:
    struct Scope {
        std::string group_id;
        nlohmann::json loop_vars = nlohmann::json::object();
        std::map<std::string, YamlEntry> default_args;
        int depth = 0;  // groups around this scope
    };
    void add_entries(const YAML::Node& tasks, const std::string& field, const Scope& scope);
    void add_task(const YAML::Node& node, const std::string& field, const Scope& scope);
    void add_group(const YAML::Node& node, const std::string& field, const Scope& scope);
    void build_task(const std::vector<YamlEntry>& entries, const YamlEntry* id_entry, const std::string& field,
                    const Scope& scope, const nlohmann::json& loop_vars, SourceLocation where);
    void apply_task_field(Task& task, TaskBlueprint& blueprint, const YamlEntry& entry, const std::string& field,
                          const nlohmann::json& loop_vars, const std::string& scope_group);
    void apply_param(Task& task, const OperatorSpec& spec, const ParamSpec& param, const YamlEntry& entry,
                     const std::string& field, const nlohmann::json& loop_vars);

    std::optional<NotifierCall> read_callback(const YAML::Node& node, const std::string& field,
                                              const nlohmann::json& loop_vars);
    std::map<std::string, YamlEntry> checked_default_args(const YAML::Node& node, const std::string& field);
    // Each combination of the for_each lists, as an object of variables; one empty object when the
    // block has no for_each; nothing when for_each is wrong.
    std::vector<nlohmann::json> expand_for_each(const YAML::Node& node, const std::string& field);
    std::string full_id(const std::string& group_id, const std::string& local_id) const;

    // False once the DAG is over a DAG-wide limit or has too many errors: building stops.
    bool building() const { return !budget_.exhausted() && !reader_.error_limit_reached(); }

    FieldReader& reader_;
    const OperatorCatalog& operators_;
    std::string dag_owner_;
    std::map<std::string, YamlEntry> dag_default_args_;
    DagBlueprint blueprint_;
    DagBudget budget_;
    LoadTimeTemplates templates_;
};

}  // namespace mayaflow
