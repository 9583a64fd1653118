#include "operators/gcp/bigquery_check_sql.h"

#include <fmt/format.h>

#include "engine/util/text.h"
#include "operators/gcp/bigquery_check_rules.h"
#include "operators/gcp/bigquery_table_ref.h"

namespace mayaflow::gcp {
namespace {

// The task's own SQL (partition_clause, check_statement) as it goes inside mayaflow's parentheses:
// one that may end in a line comment (-- or #) gets a line break, so the comment cannot swallow the
// closing parenthesis.
std::string own_sql(const std::string& text) {
    const bool may_comment = text.find("--") != std::string::npos || text.find('#') != std::string::npos;
    return may_comment ? text + "\n" : text;
}

constexpr char kSampleSeparator = '\x1f';  // the unit separator: never in a value worth showing
constexpr size_t kMaxIdentifier = 300;      // BigQuery's limit on column names

bool is_identifier(std::string_view name) {
    if (name.empty() || name.size() > kMaxIdentifier || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    for (char c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    return true;
}

std::string sql_string(std::string_view text) {
    std::string literal = "'";
    for (unsigned char c : text) {
        if (c == '\\' || c == '\'') {
            literal += '\\';
            literal += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            literal += fmt::format("\\x{:02x}", c);
        } else {
            literal += static_cast<char>(c);
        }
    }
    return literal + "'";
}

// A list of column names (a string is one column), each checked and quoted.
Result<std::vector<std::pair<std::string, std::string>>> quoted_columns(const nlohmann::json& names,
                                                                         std::string_view field) {
    std::vector<std::pair<std::string, std::string>> columns;
    if (names.is_null()) return columns;
    const nlohmann::json list = names.is_string() ? nlohmann::json::array({names}) : names;
    if (!list.is_array()) return make_error("{} must be a list of column names", field);
    for (const auto& name : list) {
        if (!name.is_string()) return make_error("{} must be a list of column names, got {}", field, name.dump());
        auto quoted = quoted_column(name.get<std::string>());
        if (!quoted) return make_error("{}: {}", field, quoted.error().message);
        columns.emplace_back(name.get<std::string>(), std::move(*quoted));
    }
    return columns;
}

bool has_sql(const std::string& text) { return text.find_first_not_of(" \t\r\n") != std::string::npos; }

// `joiner` and the task's own condition in parentheses (" WHERE (x)", " AND (x)"), or "" when there is
// no condition.
std::string condition_after(std::string_view joiner, const std::string& condition) {
    return has_sql(condition) ? fmt::format("{}({})", joiner, own_sql(condition)) : std::string();
}

// A check's own partition_clause (Airflow's, per check): narrows the rows of that check only, within
// the task's partition_clause. "" when the check has none.
Result<std::string> check_partition_clause(const nlohmann::json& check, std::string_view where) {
    if (!check.is_object() || !check.contains("partition_clause")) return std::string();
    const nlohmann::json& clause = check["partition_clause"];
    if (!clause.is_string()) return make_error("{}.partition_clause must be SQL text (a condition), got {}", where, clause.dump());
    return clause.get<std::string>();
}

// `aggregate` over the checked rows, or over those where the check's own clause holds too.
std::string add_measure(TableCheckQuery& query, const std::string& aggregate, const std::string& clause) {
    if (!has_sql(clause)) return query.add_aggregate(aggregate);
    return query.add_subquery(fmt::format("SELECT {} FROM checked_rows{}", aggregate, condition_after(" WHERE ", clause)));
}

long long measured_count(const nlohmann::json& measured) { return python_float(measured).value_or(0); }

// A check that fails when its measure (a count of offending rows) is not 0.
TableCheck count_check(std::string name, std::string measure, std::string sample, std::string what) {
    return TableCheck{std::move(name), std::move(measure), std::move(sample),
                      [what = std::move(what)](const nlohmann::json& measured) -> std::optional<std::string> {
                          const long long count = measured_count(measured);
                          if (count == 0) return std::nullopt;
                          return fmt::format("{} {} {}", count, count == 1 ? "row" : "rows", what);
                      }};
}

Result<TableCheckQuery> table_query(const nlohmann::json& params, std::string_view project) {
    auto table = quoted_table(params.value("table", std::string()), project, "table");
    if (!table) return table.error();
    return TableCheckQuery(std::move(*table), params.value("partition_clause", std::string()));
}

// Airflow's column checks, as aggregates.
const std::vector<std::pair<std::string, std::string>>& column_measures() {
    static const std::vector<std::pair<std::string, std::string>> measures = {
        {"null_check", "COUNTIF({0} IS NULL)"},
        {"distinct_check", "COUNT(DISTINCT {0})"},
        {"unique_check", "COUNT({0}) - COUNT(DISTINCT {0})"},
        {"min", "MIN({0})"},
        {"max", "MAX({0})"},
    };
    return measures;
}

Status add_column_mapping(const nlohmann::json& mapping, TableCheckPlan& plan) {
    if (mapping.is_null()) return Status::success();
    if (!mapping.is_object()) return make_error("column_mapping must map columns to their checks");
    std::vector<std::string> names;
    for (const auto& [name, _] : column_measures()) names.push_back(name);
    for (const auto& [column, checks] : mapping.items()) {
        auto quoted = quoted_column(column);
        if (!quoted) return make_error("column_mapping: {}", quoted.error().message);
        if (!checks.is_object()) return make_error("column_mapping.{} must map check names to bounds", column);
        for (const auto& [check, spec] : checks.items()) {
            auto measure = std::find_if(column_measures().begin(), column_measures().end(),
                                        [&check = check](const auto& entry) { return entry.first == check; });
            if (measure == column_measures().end()) {
                return make_error("column_mapping.{}: unknown check {}{}; the checks are {}", column, quote_name(check),
                                  did_you_mean(check, names), join(names));
            }
            const std::string where = fmt::format("column_mapping.{}.{}", column, check);
            auto clause = check_partition_clause(spec, where);
            if (!clause) return clause.error();
            nlohmann::json bounds_spec = spec;
            if (bounds_spec.is_object()) bounds_spec.erase("partition_clause");
            auto bounds = CheckBounds::read(bounds_spec, where);
            if (!bounds) return bounds.error();
            const std::string result_column =
                add_measure(plan.query, fmt::format(fmt::runtime(measure->second), *quoted), *clause);
            const std::string sample =
                check == "unique_check"
                    ? plan.query.add_sample(*quoted, *quoted + " IS NOT NULL" + condition_after(" AND ", *clause), true)
                    : "";
            plan.checks.push_back(TableCheck{
                fmt::format("{}.{}", column, check), result_column, sample,
                [bounds = *bounds](const nlohmann::json& measured) -> std::optional<std::string> {
                    if (bounds.matches(measured)) return std::nullopt;
                    return fmt::format("found {}, expected {}", show_value(measured), bounds.describe());
                }});
        }
    }
    return Status::success();
}

}  // namespace

Result<std::string> quoted_column(std::string_view name) {
    std::string quoted;
    size_t start = 0;
    while (true) {
        const size_t dot = name.find('.', start);
        const std::string_view part = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
        if (!is_identifier(part)) {
            return make_error("{} is not a column name (letters, digits and '_', not starting with a digit; a.b for "
                              "a nested field)",
                              quote_for_message(name));
        }
        quoted += (quoted.empty() ? "`" : ".`") + std::string(part) + "`";
        if (dot == std::string_view::npos) return quoted;
        start = dot + 1;
    }
}

Result<std::string> quoted_table(std::string_view text, std::string_view default_project, std::string_view field) {
    auto table = parse_table_reference(text, default_project, field);
    if (!table) return table.error();
    if (table->table.find('$') != std::string::npos) {
        return make_error("{} {}: a query cannot read a partition decorator; name the table and filter with "
                          "partition_clause (e.g. \"date = '2024-01-01'\")",
                          field, quote_for_message(text));
    }
    if (table->table.find('\\') != std::string::npos) {
        return make_error("{} {} is not a table id: it holds a backslash", field, quote_for_message(text));
    }
    return "`" + table->to_string() + "`";
}

Result<std::string> sql_literal(const nlohmann::json& value) {
    if (value.is_string()) return sql_string(value.get_ref<const std::string&>());
    if (value.is_boolean()) return std::string(value.get<bool>() ? "TRUE" : "FALSE");
    if (value.is_number()) return value.dump();
    return make_error("{} is not a value a column can hold (text, a number, true/false)", shorten_message(value.dump(), 60));
}

TableCheckQuery::TableCheckQuery(std::string quoted_table, std::string partition_clause)
    : table_(std::move(quoted_table)), partition_clause_(std::move(partition_clause)) {}

std::string TableCheckQuery::next_column() { return fmt::format("m{}", ++columns_); }

std::string TableCheckQuery::add_aggregate(std::string aggregate) {
    std::string column = next_column();
    aggregates_.push_back(fmt::format("{} AS {}", aggregate, column));
    return column;
}

std::string TableCheckQuery::add_subquery(std::string select) {
    std::string column = next_column();
    subqueries_.push_back(fmt::format("({}) AS {}", select, column));
    return column;
}

std::string TableCheckQuery::add_sample(const std::string& column, const std::string& condition, bool repeated_only) {
    return add_subquery(fmt::format("SELECT STRING_AGG(v, '\\x1f') FROM (SELECT CAST({0} AS STRING) AS v FROM checked_rows "
                                    "WHERE {1} GROUP BY {0}{2} ORDER BY {0} LIMIT 10)",
                                    column, condition, repeated_only ? " HAVING COUNT(*) > 1" : ""));
}

std::string TableCheckQuery::sql() const {
    std::string sql = fmt::format("WITH checked_rows AS (SELECT * FROM {}{}),\n", table_,
                                  condition_after(" WHERE ", partition_clause_));
    sql += fmt::format("measures AS (SELECT COUNT(*) AS {}", kRowCount);
    for (const auto& aggregate : aggregates_) sql += ",\n  " + aggregate;
    sql += " FROM checked_rows)\nSELECT *";
    for (const auto& subquery : subqueries_) sql += ",\n  " + subquery;
    return sql + "\nFROM measures";
}

std::string TableCheckQuery::rows_failing(const std::string& condition, const std::string& check_clause) const {
    std::string filters;
    for (const std::string* clause : {&partition_clause_, &check_clause}) {
        if (has_sql(*clause)) filters += "(" + own_sql(*clause) + ") AND ";
    }
    return fmt::format("SELECT * FROM {} WHERE {}NOT COALESCE(({}), FALSE) LIMIT 10", table_, filters, own_sql(condition));
}

std::vector<std::string> sample_values(const nlohmann::json& cell) {
    std::vector<std::string> values;
    if (!cell.is_string()) return values;
    const std::string& text = cell.get_ref<const std::string&>();
    size_t start = 0;
    while (start <= text.size()) {
        const size_t end = std::min(text.find(kSampleSeparator, start), text.size());
        values.push_back(quote_for_message(std::string_view(text).substr(start, end - start)));
        start = end + 1;
    }
    return values;
}

Result<TableCheckPlan> plan_column_checks(const nlohmann::json& params, std::string_view project) {
    auto query = table_query(params, project);
    if (!query) return query.error();
    TableCheckPlan plan{std::move(*query), {}};
    if (auto status = add_column_mapping(params.value("column_mapping", nlohmann::json()), plan); !status) {
        return status.error();
    }
    auto unique = quoted_columns(params.value("unique", nlohmann::json()), "unique");
    if (!unique) return unique.error();
    for (const auto& [name, column] : *unique) {
        std::string repeats = plan.query.add_aggregate(fmt::format("COUNT({0}) - COUNT(DISTINCT {0})", column));
        std::string sample = plan.query.add_sample(column, column + " IS NOT NULL", true);
        plan.checks.push_back(count_check(fmt::format("unique({})", name), std::move(repeats), std::move(sample),
                                          "with a repeated value"));
    }
    auto not_null = quoted_columns(params.value("not_null", nlohmann::json()), "not_null");
    if (!not_null) return not_null.error();
    for (const auto& [name, column] : *not_null) {
        plan.checks.push_back(count_check(fmt::format("not_null({})", name),
                                          plan.query.add_aggregate(fmt::format("COUNTIF({} IS NULL)", column)), "",
                                          "with NULL"));
    }
    const nlohmann::json accepted = params.value("accepted_values", nlohmann::json());
    if (!accepted.is_null() && !accepted.is_object()) return make_error("accepted_values must map columns to lists of values");
    for (const auto& [name, values] : accepted.items()) {
        auto column = quoted_column(name);
        if (!column) return make_error("accepted_values: {}", column.error().message);
        if (!values.is_array() || values.empty()) return make_error("accepted_values.{} must be a list of values", name);
        std::vector<std::string> literals;
        for (const auto& value : values) {
            auto literal = sql_literal(value);
            if (!literal) return make_error("accepted_values.{}: {}", name, literal.error().message);
            literals.push_back(std::move(*literal));
        }
        const std::string outside = fmt::format("{} NOT IN ({})", *column, join(literals));
        std::string others = plan.query.add_aggregate(fmt::format("COUNTIF({})", outside));
        std::string sample = plan.query.add_sample(*column, outside, false);
        plan.checks.push_back(count_check(fmt::format("accepted_values({})", name), std::move(others), std::move(sample),
                                          "with other values"));
    }
    if (plan.checks.empty()) return make_error("no checks: give column_mapping, unique, not_null or accepted_values");
    return plan;
}

Result<TableCheckPlan> plan_table_checks(const nlohmann::json& params, std::string_view project) {
    auto query = table_query(params, project);
    if (!query) return query.error();
    TableCheckPlan plan{std::move(*query), {}};
    const nlohmann::json checks = params.value("checks", nlohmann::json());
    if (!checks.is_null() && !checks.is_object()) return make_error("checks must map names to {{check_statement: ...}}");
    for (const auto& [name, check] : checks.items()) {
        if (!check.is_object() || !check.contains("check_statement") || !check["check_statement"].is_string()) {
            return make_error("checks.{} must be {{check_statement: \"<a condition>\"}}", name);
        }
        for (const auto& [key, _] : check.items()) {
            if (key != "check_statement" && key != "partition_clause") {
                return make_error("checks.{}: unknown key {}; a check takes check_statement and partition_clause", name,
                                  quote_name(key));
            }
        }
        auto clause = check_partition_clause(check, "checks." + name);
        if (!clause) return clause.error();
        const std::string statement = check["check_statement"];
        // Airflow's form: the statement is judged per row, or once when it is an aggregate (COUNT(*) > 0).
        const std::string failing = plan.query.add_subquery(fmt::format(
            "SELECT COUNTIF(passed = 0) FROM (SELECT CASE WHEN ({}) THEN 1 ELSE 0 END AS passed FROM checked_rows{})",
            own_sql(statement), condition_after(" WHERE ", *clause)));
        plan.checks.push_back(count_check(fmt::format("{} ({})", name, quote_for_message(statement)), failing, "",
                                          "failing it"));
        plan.checks.back().failing_rows_sql = plan.query.rows_failing(statement, *clause);
    }
    for (const auto& [param, is_min] : {std::pair{"min_rows", true}, std::pair{"max_rows", false}}) {
        if (!params.contains(param) || params[param].is_null()) continue;
        const long long bound = params[param].get<long long>();
        if (bound < 0) return make_error("{} must be 0 or more, got {}", param, bound);
        plan.checks.push_back(TableCheck{
            fmt::format("{} {}", param, bound), TableCheckQuery::kRowCount, "",
            [bound, is_min = is_min](const nlohmann::json& measured) -> std::optional<std::string> {
                const long long rows = measured_count(measured);
                if (is_min ? rows >= bound : rows <= bound) return std::nullopt;
                return fmt::format("the table has {} rows, {} than {}", rows, is_min ? "fewer" : "more", bound);
            }});
    }
    if (plan.checks.empty()) return make_error("no checks: give checks, min_rows or max_rows");
    return plan;
}

Status judge_table_checks(const std::vector<TableCheck>& checks, const nlohmann::json& row) {
    std::vector<std::string> failures;
    for (const auto& check : checks) {
        const nlohmann::json measured = row.value(check.measure, nlohmann::json());
        auto failure = check.failure(measured);
        if (!failure) continue;
        std::string text = fmt::format("{}: {}", check.name, *failure);
        if (!check.sample.empty()) {
            const auto values = sample_values(row.value(check.sample, nlohmann::json()));
            if (!values.empty()) text += fmt::format(" ({}: {})", values.size() >= 10 ? "the first 10 values" : "values", join(values));
        }
        failures.push_back(std::move(text));
    }
    if (failures.empty()) return Status::success();
    return make_error("{} of {} checks failed: {}", failures.size(), checks.size(), join(failures, "; "));
}

std::string first_failing_rows_sql(const std::vector<TableCheck>& checks, const nlohmann::json& row) {
    for (const auto& check : checks) {
        if (check.failing_rows_sql.empty()) continue;
        if (check.failure(row.value(check.measure, nlohmann::json()))) return check.failing_rows_sql;
    }
    return "";
}

}  // namespace mayaflow::gcp
