#include "operators/gcp/bigquery_query_operator.h"

#include <fmt/format.h>


#include "engine/util/text.h"
#include "operators/gcp/bigquery_table_ref.h"

namespace mayaflow::gcp {
namespace {

constexpr long long kMaxResultRows = 10'000;

Result<nlohmann::json> scalar_parameter(const std::string& name, const nlohmann::json& value) {
    if (value.is_boolean()) return nlohmann::json{{"type", "BOOL"}, {"value", value.get<bool>() ? "true" : "false"}};
    if (value.is_number_integer()) return nlohmann::json{{"type", "INT64"}, {"value", value.dump()}};
    if (value.is_number()) return nlohmann::json{{"type", "FLOAT64"}, {"value", value.dump()}};
    if (value.is_string()) return nlohmann::json{{"type", "STRING"}, {"value", value}};
    return make_error("query_params.{}: a value must be text, a number, true/false, a list of them, or {{type, value}}",
                      name);
}

}  // namespace

Result<nlohmann::json> bigquery_query_parameters(const nlohmann::json& query_params) {
    if (query_params.is_null()) return nlohmann::json::array();
    if (query_params.is_array()) {
        for (size_t i = 0; i < query_params.size(); ++i) {
            const auto& parameter = query_params[i];
            if (!parameter.is_object() || !parameter.contains("parameterType") || !parameter.contains("parameterValue")) {
                return make_error("query_params[{}] must be a BigQuery query parameter: {{name, parameterType: {{type}}, "
                                  "parameterValue: {{value}}}}",
                                  i);
            }
        }
        return query_params;
    }
    if (!query_params.is_object()) return make_error("query_params must be a mapping of names to values, or a list");
    nlohmann::json parameters = nlohmann::json::array();
    for (const auto& [name, value] : query_params.items()) {
        nlohmann::json type;
        nlohmann::json parameter_value;
        if (value.is_object()) {
            if (!value.contains("type") || !value["type"].is_string() || !value.contains("value")) {
                return make_error("query_params.{} must be {{type: DATE, value: \"2024-01-01\"}} when it is a mapping", name);
            }
            type = {{"type", value["type"]}};
            const auto& given = value["value"];
            parameter_value = {{"value", given.is_string() ? given : nlohmann::json(given.dump())}};
        } else if (value.is_array()) {
            nlohmann::json items = nlohmann::json::array();
            std::string item_type = "STRING";
            for (const auto& item : value) {
                auto scalar = scalar_parameter(name, item);
                if (!scalar) return scalar.error();
                if (items.empty()) item_type = (*scalar)["type"];
                else if ((*scalar)["type"] != item_type) {
                    return make_error("query_params.{}: the items of a list must all be of one type", name);
                }
                items.push_back({{"value", (*scalar)["value"]}});
            }
            type = {{"type", "ARRAY"}, {"arrayType", {{"type", item_type}}}};
            parameter_value = {{"arrayValues", items}};
        } else {
            auto scalar = scalar_parameter(name, value);
            if (!scalar) return scalar.error();
            type = {{"type", (*scalar)["type"]}};
            parameter_value = {{"value", (*scalar)["value"]}};
        }
        parameters.push_back({{"name", name}, {"parameterType", type}, {"parameterValue", parameter_value}});
    }
    return parameters;
}

Status add_query_parameters(const nlohmann::json& params, nlohmann::json& query) {
    if (!params.contains("query_params")) return Status::success();
    auto parameters = bigquery_query_parameters(params["query_params"]);
    if (!parameters) return parameters.error();
    if (!parameters->empty()) {
        query["parameterMode"] = "NAMED";
        query["queryParameters"] = *parameters;
    }
    return Status::success();
}

OperatorSpec bigquery_query_operator_spec() {
    OperatorSpec spec;
    spec.name = "bigquery_query";
    spec.description =
        "Runs a GoogleSQL query as a BigQuery job, optionally into a table; the first rows of the result become "
        "the task's result.";
    spec.params = gcp_common_params();
    auto add = [&spec](ParamSpec param) { spec.params.push_back(std::move(param)); };
    add({.name = "sql", .type = ParamType::string, .required = true, .templated = true, .template_ext = {".sql"},
         .help = "The query, or a .sql file beside the DAG file"});
    add({.name = "destination_dataset_table", .type = ParamType::string, .templated = true,
         .help = "Where the result goes: project.dataset.table or dataset.table, with a decorator such as $20240101"});
    add({.name = "write_disposition", .type = ParamType::string, .templated = true,
         .allowed_values = {"WRITE_EMPTY", "WRITE_TRUNCATE", "WRITE_APPEND"},
         .help = "With a destination: WRITE_EMPTY (BigQuery's default), WRITE_TRUNCATE or WRITE_APPEND"});
    add({.name = "create_disposition", .type = ParamType::string, .templated = true,
         .allowed_values = {"CREATE_IF_NEEDED", "CREATE_NEVER"}});
    add({.name = "query_params", .type = ParamType::any, .templated = true,
         .help = "Named parameters (@name in the query): a mapping of names to values, or BigQuery's list"});
    add({.name = "priority", .type = ParamType::string, .default_value = "INTERACTIVE",
         .allowed_values = {"INTERACTIVE", "BATCH"}});
    add({.name = "maximum_bytes_billed", .type = ParamType::integer,
         .help = "BigQuery fails the job, at no cost, when it would bill more bytes than this"});
    add({.name = "estimate_bytes", .type = ParamType::boolean, .default_value = false,
         .help = "Dry-run first and fail without running when the estimate is over maximum_bytes_billed"});
    add({.name = "time_partitioning", .type = ParamType::map, .templated = true});
    add({.name = "cluster_fields", .type = ParamType::string_list, .templated = true});
    add({.name = "use_query_cache", .type = ParamType::boolean, .default_value = true});
    add({.name = "dry_run", .type = ParamType::boolean, .default_value = false,
         .help = "Only validate the query and estimate its bytes"});
    add({.name = "max_result_rows", .type = ParamType::integer, .default_value = 100,
         .check = [](const nlohmann::json& rows) -> std::optional<ParamProblem> {
             if (rows.is_number_integer() && rows.get<long long>() >= 0 && rows.get<long long>() <= kMaxResultRows) {
                 return std::nullopt;
             }
             return ParamProblem{.message = fmt::format("must be from 0 to {}, got {}", kMaxResultRows, rows.dump())};
         },
         .help = "How many rows of the result become the task's result (0 to 10000)"});
    return spec;
}

const OperatorSpec& BigQueryQueryOperator::spec() const {
    static const OperatorSpec spec = bigquery_query_operator_spec();
    return spec;
}

Result<BigQueryJobOperator::JobPlan> BigQueryQueryOperator::plan(const nlohmann::json& params,
                                                                const GcpConnection& connection, GoogleApi&) const {
    auto planned = plan_in_project(params, connection);
    if (!planned) return planned.error();
    JobPlan plan = std::move(*planned);
    const std::string sql = params.value("sql", std::string());
    if (sql.find_first_not_of(" \t\r\n") == std::string::npos) return make_error("sql is empty");

    nlohmann::json query = {{"query", sql}, {"useLegacySql", false}, {"priority", params.value("priority", "INTERACTIVE")},
                            {"useQueryCache", params.value("use_query_cache", true)}};
    if (auto destination = params.value("destination_dataset_table", std::string()); !destination.empty()) {
        auto table = parse_table_reference(destination, plan.project, "destination_dataset_table");
        if (!table) return table.error();
        query["destinationTable"] = table->to_json();
    }
    for (const auto& [param, field] : {std::pair{"write_disposition", "writeDisposition"},
                                       std::pair{"create_disposition", "createDisposition"}}) {
        if (auto value = params.value(param, std::string()); !value.empty()) query[field] = value;
    }
    if (auto status = add_query_parameters(params, query); !status) return status.error();
    add_table_layout(params, query);
    if (params.contains("maximum_bytes_billed") && params["maximum_bytes_billed"].is_number_integer()) {
        const long long cap = params["maximum_bytes_billed"].get<long long>();
        if (cap <= 0) return make_error("maximum_bytes_billed must be more than 0, got {}", cap);
        query["maximumBytesBilled"] = std::to_string(cap);
        if (params.value("estimate_bytes", false)) plan.estimate_cap = cap;
    } else if (params.value("estimate_bytes", false)) {
        return make_error("estimate_bytes needs maximum_bytes_billed: the cap the estimate is held to");
    }
    const long long rows = params.value("max_result_rows", 100LL);
    if (rows < 0 || rows > kMaxResultRows) {
        return make_error("max_result_rows must be from 0 to {}, got {}", kMaxResultRows, rows);
    }
    plan.configuration = {{"query", query}};
    if (params.value("dry_run", false)) plan.configuration["dryRun"] = true;
    return plan;
}

void BigQueryQueryOperator::on_succeeded(Finished finished, std::function<void(Result<nlohmann::json>)> done) const {
    BigQueryJobOperator::on_succeeded(finished, [finished, done](Result<nlohmann::json> base) mutable {
        if (!base) return done(base);
        nlohmann::json value = std::move(*base);
        const long long max_rows = finished.params.value("max_result_rows", 100LL);
        if (finished.plan.configuration.value("dryRun", false) || max_rows == 0) return done(value);
        read_query_results(finished, max_rows, [value = std::move(value), done](Result<QueryResults> results) mutable {
            if (!results) return done(results.error());
            value["rows"] = std::move(results->rows);
            value["total_rows"] = results->total_rows;
            done(value);
        });
    });
}

}  // namespace mayaflow::gcp
