#pragma once
// OperatorSpec is what an operator declares about itself: its name and its parameters (type,
// required, templated, default). The DAG loader checks every task against it, so a misspelled or
// missing parameter is a load error, not a 3 a.m. failure. Operators live above the engine; they
// hand their specs down through an OperatorCatalog.

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mayaflow {

enum class ParamType {
    string,
    integer,
    number,
    boolean,
    list,            // a list of any values
    string_list,     // a list of strings; a single string is taken as a one-item list
    map,             // a mapping of any values
    string_map,      // a mapping of string to string (e.g. environment variables)
    duration,        // "90s", "5m", "1h30m" or seconds
    integer_or_list, // an integer or a list of integers
    any,
};

std::string_view to_string(ParamType type);

// What a parameter's own check (ParamSpec::check) finds wrong in a value: where inside it (the keys
// and list indexes from the parameter down, as JSON strings and numbers) and what.
struct ParamProblem {
    std::vector<nlohmann::json> path;
    std::string message;
};
using ParamCheck = std::function<std::optional<ParamProblem>(const nlohmann::json& value)>;

// "configuration.query.useLegacySQL", "checks[2].name": `path` under `param`, for messages.
std::string param_path_text(std::string_view param, const std::vector<nlohmann::json>& path);

struct ParamSpec {
    std::string name;
    ParamType type = ParamType::string;
    bool required = false;
    // Rendered with the run's template context just before the task executes. String leaves of
    // lists and maps are rendered too.
    bool templated = false;
    // A templated string ending in one of these (".sql", ".sh") names a file relative to the DAG
    // file whose text becomes the value, as Airflow's template_ext does.
    std::vector<std::string> template_ext;
    // When not null, used when the task does not set the parameter.
    nlohmann::json default_value;
    // When not empty, the only values a string parameter may take.
    std::vector<std::string> allowed_values;
    // When set, checks the value as the DAG loads (after the type check; template text is still
    // unrendered there), so that a mistake inside a structured value is a load error with its line.
    ParamCheck check;
    std::string help;
};

struct OperatorSpec {
    std::string name;
    std::string description;
    std::vector<ParamSpec> params;
    // Groups of parameters of which a task must set at least one (slack_webhook: text, message or
    // blocks), checked as a required parameter is.
    std::vector<std::vector<std::string>> one_of_required;
    // Groups of parameters of which a task must set exactly one (firebase_export: sql, rows_from or rows).
    std::vector<std::vector<std::string>> exactly_one_of;

    const ParamSpec* find_param(std::string_view param_name) const;
};

// The operators a DAG file may name. The operator layer implements it; the loader only reads it.
class OperatorCatalog {
  public:
    virtual ~OperatorCatalog() = default;
    virtual const OperatorSpec* find(std::string_view operator_name) const = 0;
    virtual std::vector<std::string> names() const = 0;
    // The notifiers an on_*_callback may name ("slack", "webhook"), declared as operators are.
    virtual const OperatorSpec* find_notifier(std::string_view) const { return nullptr; }
    virtual std::vector<std::string> notifier_names() const { return {}; }
};

}  // namespace mayaflow
