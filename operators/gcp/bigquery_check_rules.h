#pragma once
// The rules by which the BigQuery check operators judge a result, as Airflow's SQL check operators
// judge it: which values are false (bigquery_check), how a value meets pass_value and tolerance
// (bigquery_value_check), and how a measured number meets a column_mapping check's bounds
// (bigquery_column_check). Pure functions of the decoded values (bigquery_rows.h), so they are tested
// without BigQuery.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/result.h"

namespace mayaflow::gcp {

// Python's bool() of a value as Airflow's BigQuery hook returns it: NULL, false, 0, 0.0, "", an
// empty list, and a NUMERIC or BIGNUMERIC zero (`"0.00"`, which Python reads as Decimal) are false.
// `bigquery_type` is the column's type in the result's schema.
bool is_falsy(const nlohmann::json& value, std::string_view bigquery_type);

// Python's float() of a value: numbers, true/false, and text such as " 1.5", "1e3", "nan", "inf";
// nullopt where float() raises (NULL, "abc", lists).
std::optional<double> python_float(const nlohmann::json& value);

// Python's str() of a value, which Airflow's string comparison uses: True/False, None, 1.5, text as it is.
std::string python_str(const nlohmann::json& value);

// A value as a message shows it: NULL, true, 42, 1.5, 'text' (shortened).
std::string show_value(const nlohmann::json& value);

// "v1, v2, … (and N more)": the first ten of `values` (already shown) and how many were left out.
std::string show_first_ten(const std::vector<std::string>& values, long long total);

// The pass_value and tolerance of bigquery_value_check, read as Airflow's SQLValueCheckOperator
// reads them: pass_value is str()'d, then compared as a number when float() takes it, else as text.
struct ValueCheck {
    std::string pass_value;
    std::optional<double> pass_number;
    std::optional<double> tolerance;  // a fraction: 0.1 is ±10%

    static Result<ValueCheck> read(const nlohmann::json& pass_value, const nlohmann::json& tolerance);
    // Whether the value passes; an error when a numeric check meets a value float() refuses.
    Result<bool> matches(const nlohmann::json& value) const;
    // "pass_value 10 (tolerance ±10%)"
    std::string describe() const;
};

// One check of column_mapping ({equal_to, greater_than, geq_to, less_than, leq_to, tolerance}), as
// Airflow's SQLColumnCheckOperator compares a measured number with it.
struct CheckBounds {
    std::optional<double> equal_to, greater_than, geq_to, less_than, leq_to, tolerance;

    // `where` names the check in errors (column_mapping.amount.null_check).
    static Result<CheckBounds> read(const nlohmann::json& spec, std::string_view where);
    // Airflow's _get_match: NULL counts as 0 (accept_none).
    bool matches(const nlohmann::json& measured) const;
    // "equal_to 0", "geq_to 5, leq_to 10, tolerance 0.1"
    std::string describe() const;
};

}  // namespace mayaflow::gcp
