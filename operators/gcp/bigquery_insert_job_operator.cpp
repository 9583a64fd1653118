#include "operators/gcp/bigquery_insert_job_operator.h"

#include <fmt/format.h>

#include "engine/connections/python_json.h"
#include "engine/util/text.h"
#include "operators/gcp/bigquery_discovery.h"

namespace mayaflow::gcp {
namespace {

const std::vector<std::string> kJobStates = {"PENDING", "RUNNING", "DONE"};
const std::vector<std::string> kJobKinds = {"query", "load", "copy", "extract"};

bool has_template(std::string_view text) {
    return text.find("{{") != std::string_view::npos || text.find("{%") != std::string_view::npos;
}

// The configuration as a mapping: itself, or JSON text read as one. Null (and no error) for text
// that is still a template and does not read as JSON yet.
Result<nlohmann::json> configuration_mapping(const nlohmann::json& configuration) {
    if (configuration.is_object()) return configuration;
    if (!configuration.is_string()) {
        return make_error("must be a mapping (BigQuery's JobConfiguration) or a .json file holding one");
    }
    const auto& text = configuration.get_ref<const std::string&>();
    if (Status shallow = pyjson::check_nesting(text); !shallow) return make_error("{}", shallow.error().message);
    auto read = nlohmann::json::parse(text, nullptr, false);
    if (read.is_discarded()) {
        if (has_template(text)) return nlohmann::json();
        auto where = pyjson::loads(text);  // says where the text stops being JSON
        return make_error("is not JSON: {}", where ? "unreadable" : where.error().message);
    }
    if (!read.is_object()) return make_error("must be a JSON object (BigQuery's JobConfiguration)");
    return read;
}

}  // namespace

std::optional<ParamProblem> check_job_configuration(const nlohmann::json& configuration) {
    auto mapping = configuration_mapping(configuration);
    if (!mapping) return ParamProblem{.message = mapping.error().message};
    if (mapping->is_null()) return std::nullopt;
    if (auto problem = bigquery_schemas().check("JobConfiguration", *mapping)) return problem;
    int kinds = 0;
    for (const auto& kind : kJobKinds) kinds += mapping->contains(kind) && !(*mapping)[kind].is_null();
    if (kinds != 1) {
        return ParamProblem{.message = fmt::format("must hold exactly one of query, load, copy or extract (it holds {})",
                                                   kinds)};
    }
    return std::nullopt;
}

OperatorSpec bigquery_insert_job_operator_spec() {
    OperatorSpec spec;
    spec.name = "bigquery_insert_job";
    spec.description = "Runs any BigQuery job (query, load, copy, extract) from its JobConfiguration.";
    spec.params = gcp_common_params();
    auto add = [&spec](ParamSpec param) { spec.params.push_back(std::move(param)); };
    add({.name = "configuration", .type = ParamType::any, .required = true, .templated = true,
         .template_ext = {".json"}, .check = check_job_configuration,
         .help = "BigQuery's JobConfiguration: {query: {query: ..., useLegacySql: false}}, or a .json file holding it"});
    add({.name = "job_id", .type = ParamType::string, .templated = true,
         .help = "The head of the job's id (default mayaflow_<dag>_<task>); the logical date, try and a hash follow"});
    add({.name = "force_rerun", .type = ParamType::boolean, .default_value = true,
         .help = "Every try runs its own job; false: a try finds an earlier try's job of the same configuration"});
    add({.name = "reattach_states", .type = ParamType::string_list, .default_value = nlohmann::json::array(),
         .check =
             [](const nlohmann::json& states) -> std::optional<ParamProblem> {
                 for (std::size_t i = 0; i < states.size(); ++i) {
                     const std::string state = states[i].get<std::string>();
                     if (std::find(kJobStates.begin(), kJobStates.end(), state) == kJobStates.end()) {
                         return ParamProblem{.path = {i},
                                             .message = fmt::format("must be one of {}, got {}{}", join(kJobStates),
                                                                    quote_name(state), did_you_mean(state, kJobStates))};
                     }
                 }
                 return std::nullopt;
             },
         .help = "With force_rerun: false, the states (PENDING, RUNNING, DONE) of an earlier try's job to follow"});
    return spec;
}

const OperatorSpec& BigQueryInsertJobOperator::spec() const {
    static const OperatorSpec spec = bigquery_insert_job_operator_spec();
    return spec;
}

Result<BigQueryJobOperator::JobPlan> BigQueryInsertJobOperator::plan(const nlohmann::json& params,
                                                                    const GcpConnection& connection, GoogleApi&) const {
    auto planned = plan_in_project(params, connection);
    if (!planned) return planned.error();
    JobPlan plan = std::move(*planned);
    const nlohmann::json given = params.value("configuration", nlohmann::json());
    auto configuration = configuration_mapping(given);
    if (!configuration) return make_error("configuration {}", configuration.error().message);
    if (configuration->is_null()) return make_error("configuration is not JSON once rendered");
    // Rendered now: checked again, templates and all.
    if (auto problem = check_job_configuration(*configuration)) {
        return make_error("{}: {}", param_path_text("configuration", problem->path), problem->message);
    }
    plan.configuration = std::move(*configuration);
    plan.job_id_prefix = params.value("job_id", std::string());
    plan.job_per_try = params.value("force_rerun", true);
    if (params.contains("reattach_states")) plan.reattach_states = params["reattach_states"].get<std::vector<std::string>>();
    return plan;
}

}  // namespace mayaflow::gcp
