#pragma once
// TaskBuilder turns the `tasks:` list of a DAG file into task blueprints: it expands for_each
// blocks (one task or group per item, or per combination of several lists), prefixes task ids
// with their groups, applies default_args, and checks every task field and operator parameter
// against the operator's declaration. It counts the tasks a DAG will make before making them, and
// refuses a DAG over the limits in load_limits.h before doing the work.

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/dagfile/field_reader.h"
#include "engine/dagfile/load_limits.h"
#include "engine/dagfile/task_blueprint.h"
#include "engine/model/operator_spec.h"
#include "engine/template/template.h"

namespace mayaflow {

class TaskBuilder {
  public:
    TaskBuilder(FieldReader& reader, const OperatorCatalog& operators);

    // DAG-level default_args: checked once here, applied to every task.
    void set_default_args(const YAML::Node& node, const std::string& field);
    void set_dag_owner(std::string owner) { dag_owner_ = std::move(owner); }

    void add_tasks(const YAML::Node& tasks, const std::string& field);
    DagBlueprint take() { return std::move(blueprint_); }

    static const std::vector<std::string>& task_field_names();

    // The number of tasks `tasks` makes, from the sizes of the for_each lists written in the file (a
    // list read from an included file counts as one item until it is read), without building
    // anything. Stops counting, and answers more than kMaxTasksPerDag, once the count passes it.
    static size_t count_tasks(const YAML::Node& tasks);

  private:
    struct Scope {
        std::string group_id;
        nlohmann::json loop_vars = nlohmann::json::object();
        std::map<std::string, YamlEntry> default_args;
        int depth = 0;  // groups around this scope
    };
    // What checking a templated value's syntax found, kept per text: a for_each of 10,000 tasks
    // over one script parses it once.
    struct TemplateCheck {
        std::optional<std::string> syntax_error;
        std::vector<tmpl::NameUse> removed_names;  // Airflow 2 names that Airflow 3 removed
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

    std::map<std::string, YamlEntry> checked_default_args(const YAML::Node& node, const std::string& field);
    // Each combination of the for_each lists, as an object of variables; one empty object when the
    // block has no for_each; nothing when for_each is wrong.
    std::vector<nlohmann::json> expand_for_each(const YAML::Node& node, const std::string& field);
    // Renders text that is fixed when the DAG loads (ids, dependency names, pools, file names, the
    // parameters that are not templated): only the for_each variables may appear in it. A name's
    // template may be at most kMaxStaticTemplateBytes long.
    std::optional<std::string> render_static(const std::string& text, const nlohmann::json& loop_vars,
                                             SourceLocation where, const std::string& field, bool is_name = true);
    void check_template_syntax(const nlohmann::json& value, const nlohmann::json& loop_vars, SourceLocation where,
                               const std::string& field);
    void check_template_text(const std::string& text, const nlohmann::json& loop_vars, SourceLocation where,
                             const std::string& field);
    std::string full_id(const std::string& group_id, const std::string& local_id) const;

    // False once the DAG is over a DAG-wide limit or has too many errors: building stops.
    bool building() const { return !over_limit_ && !reader_.error_limit_reached(); }
    // True when `more` tasks still fit in the DAG; records an error at `node` otherwise.
    bool room_for(size_t more, const YAML::Node& node, const std::string& field, std::string_view what);
    // Counts depends_on names against kMaxDependenciesPerDag; false (with an error) past it.
    bool charge_dependencies(size_t count, const YAML::Node& node, const std::string& field);
    // Counts the text a task holds against kMaxTaskTextBytesPerDag; false (with an error) past it.
    bool charge_text(const nlohmann::json& value, SourceLocation where, const std::string& field);

    FieldReader& reader_;
    const OperatorCatalog& operators_;
    std::string dag_owner_;
    std::map<std::string, YamlEntry> dag_default_args_;
    DagBlueprint blueprint_;
    size_t tasks_made_ = 0;
    size_t task_text_bytes_ = 0;
    size_t dependencies_ = 0;
    bool over_limit_ = false;
    tmpl::RenderBudget render_budget_{kMaxStaticRenderWorkPerDag};
    std::unordered_map<std::string, Result<tmpl::Template>> static_templates_;
    std::unordered_map<std::string, TemplateCheck> template_checks_;
};

}  // namespace mayaflow
