#pragma once
// The SQL of bigquery_column_check and bigquery_table_check, built by mayaflow rather than pasted
// together from the task's text: tables and columns are checked as identifiers and quoted with
// backticks, values become GoogleSQL literals, and all the checks of a task are one query whose only
// row holds one column per measure:
//
//   WITH checked_rows AS (SELECT * FROM `p.d.t` WHERE (<partition_clause>)),
//        measures AS (SELECT COUNT(*) AS row_count, COUNTIF(`amount` IS NULL) AS m1 FROM checked_rows)
//   SELECT *, (SELECT STRING_AGG(v, '\x1f') FROM (… LIMIT 10)) AS m2 FROM measures
//
// partition_clause and check_statement are SQL by design (as in Airflow): they are the task's own. A
// check may have its own partition_clause too (Airflow's), which narrows that check's rows within the
// task's: its measure is then a subquery over checked_rows.

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/result.h"

namespace mayaflow::gcp {

// A column (or a nested field, a.b) quoted for GoogleSQL: `a`.`b`. Only letters, digits and '_',
// not starting with a digit: anything else is an error, so a name cannot carry SQL.
Result<std::string> quoted_column(std::string_view name);

// A table named as the operators name it (project.dataset.table, dataset.table) quoted for a FROM
// clause: `project.dataset.table`. A partition decorator is refused: queries filter with
// partition_clause instead. `field` names the parameter in errors.
Result<std::string> quoted_table(std::string_view text, std::string_view default_project, std::string_view field);

// A GoogleSQL literal of a DAG file's value: 'text' (escaped), 42, 1.5, TRUE.
Result<std::string> sql_literal(const nlohmann::json& value);

// The one query of a task's checks over a table.
class TableCheckQuery {
  public:
    // The column that always holds the number of checked rows.
    static constexpr const char* kRowCount = "row_count";

    TableCheckQuery(std::string quoted_table, std::string partition_clause);
    // An aggregate over the checked rows (COUNTIF(...)); returns the result column that holds it.
    std::string add_aggregate(std::string aggregate);
    // A scalar subquery over the checked rows (a FROM checked_rows query); returns its column.
    std::string add_subquery(std::string select);
    // The first ten distinct values of `column` (quoted) in the rows where `condition` holds, kept
    // only when they occur more than once with `repeated_only`; read them with sample_values().
    std::string add_sample(const std::string& column, const std::string& condition, bool repeated_only);
    std::string sql() const;
    // A query of the first ten checked rows (narrowed by a check's own `check_clause`, when not "")
    // where `condition` is not true (false or NULL).
    std::string rows_failing(const std::string& condition, const std::string& check_clause = "") const;

  private:
    std::string next_column();
    std::string table_;
    std::string partition_clause_;
    std::vector<std::string> aggregates_;
    std::vector<std::string> subqueries_;
    int columns_ = 0;
};

// The values of a sample column, shown for a message ('a', 'b').
std::vector<std::string> sample_values(const nlohmann::json& cell);

// One check of a table: the number it measures, what it shows when it fails.
struct TableCheck {
    std::string name;     // as messages name it: "unique(user_id)", "amount.null_check"
    std::string measure;  // the result column of the measured value
    std::string sample;   // the result column of the offending values, or ""
    // What was found when the check fails (e.g. "3 rows are NULL"); nullopt when it passes.
    std::function<std::optional<std::string>(const nlohmann::json& measured)> failure;
    // For a check of each row (check_statement): a query of the first rows failing it, run when it
    // fails so that the message can show them. "" for the others.
    std::string failing_rows_sql;
};

struct TableCheckPlan {
    TableCheckQuery query;
    std::vector<TableCheck> checks;
};

// bigquery_column_check's checks: column_mapping (Airflow's), unique, not_null, accepted_values.
Result<TableCheckPlan> plan_column_checks(const nlohmann::json& params, std::string_view project);
// bigquery_table_check's checks: checks (Airflow's), min_rows, max_rows.
Result<TableCheckPlan> plan_table_checks(const nlohmann::json& params, std::string_view project);

// The verdict on the query's row: an error names every failed check with what it found and the
// offending values (the first ten).
Status judge_table_checks(const std::vector<TableCheck>& checks, const nlohmann::json& row);

// The failing_rows_sql of the first check that fails on the query's row and has one, or "".
std::string first_failing_rows_sql(const std::vector<TableCheck>& checks, const nlohmann::json& row);

}  // namespace mayaflow::gcp
