#include "operators/gcp/bigquery_check_operators.h"

#include <fmt/format.h>

#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "operators/gcp/bigquery_check_rules.h"
#include "operators/gcp/bigquery_query_operator.h"

namespace mayaflow::gcp {
namespace {

// One value of the first row, in the result's column order.
struct Cell {
    std::string column;
    std::string type;
    nlohmann::json value;
};

std::vector<Cell> first_row(const BigQueryJobOperator::QueryResults& results) {
    std::vector<Cell> cells;
    if (results.rows.empty()) return cells;
    const nlohmann::json& row = results.rows[0];
    const nlohmann::json fields = results.schema.is_object() ? results.schema.value("fields", nlohmann::json()) : nlohmann::json();
    for (const auto& field : fields.is_array() ? fields : nlohmann::json::array()) {
        const std::string name = field.value("name", std::string());
        cells.push_back(Cell{name, field.value("type", std::string("STRING")), row.value(name, nlohmann::json())});
    }
    return cells;
}

std::string shown_query(const nlohmann::json& params) {
    return quote_for_message(params.value("sql", std::string()), 200);
}

std::vector<ParamSpec> check_common_params() {
    std::vector<ParamSpec> params = gcp_common_params();
    params.push_back({.name = "use_legacy_sql", .type = ParamType::boolean, .default_value = false,
                      .help = "Kept for Airflow DAGs: must be false (mayaflow runs GoogleSQL only)"});
    return params;
}

// bigquery_check and bigquery_value_check: the task's own query.
std::vector<ParamSpec> sql_check_params() {
    std::vector<ParamSpec> params = check_common_params();
    params.push_back({.name = "sql", .type = ParamType::string, .required = true, .templated = true,
                      .template_ext = {".sql"}, .help = "The query, or a .sql file beside the DAG file"});
    params.push_back({.name = "query_params", .type = ParamType::any, .templated = true,
                      .help = "Named parameters (@name in the query), as for bigquery_query"});
    return params;
}

// bigquery_column_check and bigquery_table_check: a table and a filter.
std::vector<ParamSpec> table_check_params() {
    std::vector<ParamSpec> params = check_common_params();
    params.push_back({.name = "table", .type = ParamType::string, .required = true, .templated = true,
                      .help = "The table checked: project.dataset.table or dataset.table"});
    params.push_back({.name = "partition_clause", .type = ParamType::string, .templated = true,
                      .help = "A condition (without WHERE) that picks the rows checked, e.g. date = '{{ ds }}'"});
    return params;
}

// A load-time check of one parameter of the table checks: the plan is made of that parameter alone
// (template text unrendered: it sits only in SQL conditions, which are the task's own), so that a
// misspelled check, a bad bound or a column name that is not one is a DAG error with its line.
ParamCheck plan_check(std::string param, Result<TableCheckPlan> (*planner)(const nlohmann::json&, std::string_view)) {
    return [param = std::move(param), planner](const nlohmann::json& value) -> std::optional<ParamProblem> {
        if (value.empty()) return std::nullopt;  // the run says "no checks" when none is given at all
        auto planned = planner(nlohmann::json{{"table", "dataset.table"}, {param, value}}, "project");
        if (planned) return std::nullopt;
        // "column_mapping.amount.min: …", "checks.x must be …" → the path [amount, min] (for the
        // line) and the rest of the message.
        const std::string& message = planned.error().message;
        std::vector<nlohmann::json> path;
        std::string_view rest = message;
        if (rest.starts_with(param)) {
            rest.remove_prefix(param.size());
            while (rest.starts_with('.')) {
                rest.remove_prefix(1);
                const size_t end = std::min(rest.find_first_of(".: "), rest.size());
                path.emplace_back(std::string(rest.substr(0, end)));
                rest.remove_prefix(end);
            }
            if (rest.starts_with(": ")) rest.remove_prefix(2);
            else if (rest.starts_with(' ')) rest.remove_prefix(1);
            else rest = message, path.clear();
        } else {
            rest = message;
        }
        return ParamProblem{.path = std::move(path), .message = std::string(rest)};
    };
}

OperatorSpec check_spec(std::string name, std::string description, std::vector<ParamSpec> params,
                        std::vector<ParamSpec> own_params) {
    OperatorSpec spec{.name = std::move(name), .description = std::move(description), .params = std::move(params)};
    for (auto& param : own_params) spec.params.push_back(std::move(param));
    return spec;
}

}  // namespace

OperatorSpec bigquery_check_operator_spec() {
    return check_spec("bigquery_check",
                      "Fails when the first row of a query's result has a false value (0, false, '', NULL) or there "
                      "is no row, as Airflow's BigQueryCheckOperator.",
                      sql_check_params(), {});
}

OperatorSpec bigquery_value_check_operator_spec() {
    return check_spec(
        "bigquery_value_check",
        "Fails unless every value of the first row of a query's result equals pass_value (within tolerance), as "
        "Airflow's BigQueryValueCheckOperator.",
        sql_check_params(),
        {{.name = "pass_value", .type = ParamType::any, .required = true, .templated = true,
          .help = "The value expected: a number (compared as a number) or text"},
         {.name = "tolerance", .type = ParamType::number,
          .help = "With a numeric pass_value, the fraction a value may be off: 0.1 is ±10%"}});
}

OperatorSpec bigquery_column_check_operator_spec() {
    return check_spec(
        "bigquery_column_check",
        "Checks columns of a table (nulls, distinct and unique values, min, max, accepted values) in one query, as "
        "Airflow's BigQueryColumnCheckOperator.",
        table_check_params(),
        {{.name = "column_mapping", .type = ParamType::map, .templated = true,
          .check = plan_check("column_mapping", plan_column_checks),
          .help = "{column: {null_check|distinct_check|unique_check|min|max: {equal_to, greater_than, geq_to, "
                  "less_than, leq_to, tolerance, partition_clause}}}"},
         {.name = "unique", .type = ParamType::string_list, .check = plan_check("unique", plan_column_checks),
          .help = "Columns whose values must not repeat"},
         {.name = "not_null", .type = ParamType::string_list, .check = plan_check("not_null", plan_column_checks),
          .help = "Columns that must not hold NULL"},
         {.name = "accepted_values", .type = ParamType::map,
          .check = plan_check("accepted_values", plan_column_checks),
          .help = "{column: [values]}: the only values a column may hold (NULL aside)"}});
}

OperatorSpec bigquery_table_check_operator_spec() {
    return check_spec("bigquery_table_check",
                      "Checks conditions on a table's rows and its row count in one query, as Airflow's "
                      "BigQueryTableCheckOperator.",
                      table_check_params(),
                      {{.name = "checks", .type = ParamType::map, .templated = true,
                        .check = plan_check("checks", plan_table_checks),
                        .help = "{name: {check_statement: \"amount > 0\", partition_clause: ...}}: a condition every "
                                "row must meet, or an aggregate condition (COUNT(*) > 0)"},
                       {.name = "min_rows", .type = ParamType::integer, .help = "The fewest rows the table may have"},
                       {.name = "max_rows", .type = ParamType::integer, .help = "The most rows the table may have"}});
}

Result<BigQueryJobOperator::JobPlan> BigQueryCheckJobOperator::plan(const nlohmann::json& params,
                                                                   const GcpConnection& connection, GoogleApi&) const {
    auto planned = plan_in_project(params, connection);
    if (!planned) return planned.error();
    JobPlan plan = std::move(*planned);
    if (params.value("use_legacy_sql", false)) {
        return make_error("use_legacy_sql: true is not supported: mayaflow runs GoogleSQL only; drop the parameter and "
                          "write the query in GoogleSQL");
    }
    auto sql = check_sql(params, plan.project);
    if (!sql) return sql.error();
    nlohmann::json query = {{"query", *sql}, {"useLegacySql", false}};
    if (auto status = add_query_parameters(params, query); !status) return status.error();
    plan.configuration = {{"query", query}};
    return plan;
}

void BigQueryCheckJobOperator::on_succeeded(Finished finished,
                                            std::function<void(Result<nlohmann::json>)> done) const {
    BigQueryJobOperator::on_succeeded(finished, [this, finished, done](Result<nlohmann::json> base) mutable {
        if (!base) return done(base);
        read_query_results(finished, 1, [this, finished, value = std::move(*base), done](Result<QueryResults> results) mutable {
            if (!results) return done(results.error());
            if (auto verdict = judge(finished.params, finished.plan.project, *results); !verdict) {
                const std::string rows_sql = failing_rows_sql(finished.params, finished.plan.project, *results);
                if (rows_sql.empty()) return done(verdict.error());
                // The failing rows, when the query of them runs (a statement that is an aggregate does not).
                return run_followup_query(finished, "failing_rows", rows_sql, 10,
                                          [message = verdict.error().message, done](Result<QueryResults> rows) {
                                              if (!rows || rows->rows.empty()) return done(make_error("{}", message));
                                              std::vector<std::string> shown;
                                              for (const auto& row : rows->rows) shown.push_back(dump_json(row));
                                              done(make_error("{}; the first rows failing it: {}", message,
                                                              join(shown, ", ")));
                                          });
            }
            value["row"] = results->rows.empty() ? nlohmann::json() : results->rows[0];
            done(std::move(value));
        });
    });
}

const OperatorSpec& BigQueryCheckOperator::spec() const {
    static const OperatorSpec spec = bigquery_check_operator_spec();
    return spec;
}

Result<std::string> BigQueryCheckOperator::check_sql(const nlohmann::json& params, const std::string&) const {
    std::string sql = params.value("sql", std::string());
    if (sql.find_first_not_of(" \t\r\n") == std::string::npos) return make_error("sql is empty");
    return sql;
}

Status BigQueryCheckOperator::judge(const nlohmann::json& params, const std::string&,
                                    const QueryResults& results) const {
    if (results.rows.empty()) return make_error("check failed: the query returned no rows: {}", shown_query(params));
    const auto cells = first_row(results);
    std::vector<std::string> falsy;
    for (const auto& cell : cells) {
        if (is_falsy(cell.value, cell.type)) falsy.push_back(cell.column + " = " + show_value(cell.value));
    }
    if (falsy.empty()) return Status::success();
    return make_error("check failed: {} of {} values of the first row are false (0, false, '', NULL): {}; query: {}",
                      falsy.size(), cells.size(), show_first_ten(falsy, falsy.size()), shown_query(params));
}

const OperatorSpec& BigQueryValueCheckOperator::spec() const {
    static const OperatorSpec spec = bigquery_value_check_operator_spec();
    return spec;
}

Result<std::string> BigQueryValueCheckOperator::check_sql(const nlohmann::json& params, const std::string& project) const {
    // pass_value and tolerance are checked before any job runs.
    auto check = ValueCheck::read(params.value("pass_value", nlohmann::json()), params.value("tolerance", nlohmann::json()));
    if (!check) return check.error();
    return BigQueryCheckOperator::check_sql(params, project);
}

Status BigQueryValueCheckOperator::judge(const nlohmann::json& params, const std::string&,
                                         const QueryResults& results) const {
    auto check = ValueCheck::read(params.value("pass_value", nlohmann::json()), params.value("tolerance", nlohmann::json()));
    if (!check) return check.error();
    if (results.rows.empty()) return make_error("value check failed: the query returned no rows: {}", shown_query(params));
    const auto cells = first_row(results);
    std::vector<std::string> differing;
    for (const auto& cell : cells) {
        // A date or time is no number (in Airflow, float() of it raises): said plainly, with the fix.
        const bool temporal = cell.type == "TIMESTAMP" || cell.type == "DATETIME" || cell.type == "DATE" ||
                              cell.type == "TIME";
        if (check->pass_number && temporal && !cell.value.is_null()) {
            return make_error("value check failed: {} is a {}, which cannot be compared with the number {}; select a "
                              "number instead (UNIX_SECONDS({}), DATE_DIFF(...)) or give pass_value as text",
                              cell.column, cell.type, check->pass_value, cell.column);
        }
        auto matches = check->matches(cell.value);
        if (!matches) return make_error("value check failed: {}: {}", cell.column, matches.error().message);
        if (!*matches) differing.push_back(cell.column + " = " + show_value(cell.value));
    }
    if (differing.empty()) return Status::success();
    return make_error("value check failed: {} of {} values of the first row differ from {}: {}; query: {}",
                      differing.size(), cells.size(), check->describe(), show_first_ten(differing, differing.size()),
                      shown_query(params));
}

Result<std::string> BigQueryTableChecksOperator::check_sql(const nlohmann::json& params, const std::string& project) const {
    auto plan = table_checks(params, project);
    if (!plan) return plan.error();
    return plan->query.sql();
}

Status BigQueryTableChecksOperator::judge(const nlohmann::json& params, const std::string& project,
                                          const QueryResults& results) const {
    auto plan = table_checks(params, project);
    if (!plan) return plan.error();
    if (results.rows.empty()) return make_error("the check query returned no row");
    auto verdict = judge_table_checks(plan->checks, results.rows[0]);
    if (!verdict) return make_error("{} {}", params.value("table", std::string()), verdict.error().message);
    return Status::success();
}

std::string BigQueryTableChecksOperator::failing_rows_sql(const nlohmann::json& params, const std::string& project,
                                                          const QueryResults& results) const {
    auto plan = table_checks(params, project);
    if (!plan || results.rows.empty()) return "";
    return first_failing_rows_sql(plan->checks, results.rows[0]);
}

const OperatorSpec& BigQueryColumnCheckOperator::spec() const {
    static const OperatorSpec spec = bigquery_column_check_operator_spec();
    return spec;
}

Result<TableCheckPlan> BigQueryColumnCheckOperator::table_checks(const nlohmann::json& params,
                                                                std::string_view project) const {
    return plan_column_checks(params, project);
}

const OperatorSpec& BigQueryTableCheckOperator::spec() const {
    static const OperatorSpec spec = bigquery_table_check_operator_spec();
    return spec;
}

Result<TableCheckPlan> BigQueryTableCheckOperator::table_checks(const nlohmann::json& params,
                                                               std::string_view project) const {
    return plan_table_checks(params, project);
}

}  // namespace mayaflow::gcp
