#include "operators/operator.h"

#include <exception>
#include <future>

#include "engine/connections/secret_key_file.h"
#include "engine/connections/secret_masker.h"
#include "engine/connections/secrets_lookup.h"
#include "engine/template/error.h"

extern char** environ;

namespace mayaflow {

namespace {

// Renders every string leaf of `value`; `where` names the leaf in errors ("env.TABLE", "args[2]").
Result<nlohmann::json> render_leaves(const nlohmann::json& value, const std::string& where,
                                     const tmpl::Context& context) {
    if (value.is_string()) {
        auto parsed = tmpl::Template::parse(value.get_ref<const std::string&>());
        if (!parsed) return make_error("template error in {}: {}", where, parsed.error().message);
        // Text with no markup is the value as written: rendering would only drop one trailing newline and
        // turn \r into \n, as Jinja does to a template's own text (docs/templates.md).
        if (!parsed->has_markup()) return value;
        Result<std::string> rendered = [&]() -> Result<std::string> {
            // Lookups (variables, connections, results) are callbacks given by the scheduler; whatever they
            // throw is this parameter's failure, not the daemon's.
            try {
                return parsed->render(context);
            } catch (const std::exception& error) {
                return Error{error.what()};
            }
        }();
        if (!rendered) return make_error("template error in {}: {}", where, rendered.error().message);
        return nlohmann::json(std::move(*rendered));
    }
    if (value.is_array()) {
        nlohmann::json result = nlohmann::json::array();
        for (std::size_t i = 0; i < value.size(); ++i) {
            auto item = render_leaves(value[i], fmt::format("{}[{}]", where, i), context);
            if (!item) return item;
            result.push_back(std::move(*item));
        }
        return result;
    }
    if (value.is_object()) {
        nlohmann::json result = nlohmann::json::object();
        for (const auto& [key, item] : value.items()) {
            auto rendered = render_leaves(item, where + "." + key, context);
            if (!rendered) return rendered;
            result[key] = std::move(*rendered);
        }
        return result;
    }
    return value;
}

}  // namespace

std::string_view to_string(TaskOutcome outcome) {
    switch (outcome) {
        case TaskOutcome::success:
            return "success";
        case TaskOutcome::failed:
            return "failed";
        case TaskOutcome::skipped:
            return "skipped";
        case TaskOutcome::rescheduled:
            return "up_for_reschedule";
    }
    return "failed";
}

Operator::~Operator() = default;

OperatorResult AsyncOperator::execute(const TaskRun& run) {
    std::promise<OperatorResult> ended;
    start(run, [&ended](OperatorResult result) { ended.set_value(std::move(result)); });
    return ended.get_future().get();
}

OperatorResult AsyncOperator::resume(const TaskRun& run, const StartedProcess& recorded) {
    std::promise<OperatorResult> ended;
    start_resume(run, recorded, [&ended](OperatorResult result) { ended.set_value(std::move(result)); });
    return ended.get_future().get();
}

OperatorResult Operator::resume(const TaskRun&, const StartedProcess&) {
    return OperatorResult{.outcome = TaskOutcome::failed, .message = std::string(kEndedWithDaemonMessage)};
}

tmpl::Context make_task_context(const TaskRun& run) {
    tmpl::RunInfo info = run.run_info;
    info.task_id = run.task.task_id;
    info.loop_vars = run.task.loop_vars;
    info.try_number = run.try_number;
    return tmpl::make_airflow_context(info);
}

Result<nlohmann::json> render_templated_params(const OperatorSpec& spec, const Task& task,
                                               const tmpl::Context& context) {
    nlohmann::json params = task.params.is_object() ? task.params : nlohmann::json::object();
    for (const ParamSpec& param : spec.params) {
        if (!param.templated) continue;
        auto found = params.find(param.name);
        if (found == params.end()) continue;
        auto rendered = render_leaves(*found, param.name, context);
        if (!rendered) return rendered;
        *found = std::move(*rendered);
    }
    return params;
}

void read_secrets_through(tmpl::RunInfo& info, SecretsLookup& lookup) {
    info.connection = [&lookup](std::string_view conn_id) -> std::optional<nlohmann::json> {
        auto found = lookup.find_connection(std::string(conn_id));
        if (!found) tmpl::throw_runtime("cannot read connection '{}': {}", conn_id, found.error().message);
        if (!*found) return std::nullopt;
        return nlohmann::json(connection_template_value(**found));
    };
    info.variable = [&lookup](std::string_view key) -> std::optional<std::string> {
        auto found = lookup.find_variable(std::string(key));
        if (!found) tmpl::throw_runtime("cannot read variable '{}': {}", key, found.error().message);
        return *found;
    };
}

std::string mask_secrets(const TaskRun& run, std::string_view text) {
    return run.masker ? run.masker->mask(text) : std::string(text);
}

std::map<std::string, std::string> daemon_environment() {
    std::map<std::string, std::string> variables;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        std::string_view text(*entry);
        const std::size_t equals = text.find('=');
        if (equals == std::string_view::npos || equals == 0) continue;
        variables.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
    }
    // The key that opens every stored secret is the daemon's alone: a task reads the connections it
    // needs through its templates.
    variables.erase(kSecretKeyVariable);
    return variables;
}

}  // namespace mayaflow
