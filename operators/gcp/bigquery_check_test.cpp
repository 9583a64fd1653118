// The BigQuery check operators' pure parts: Airflow's falsy and value rules, column_mapping bounds,
// identifiers and literals, the one query of a table's checks, and the verdict on its row.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/dagfile/dag_loader.h"
#include "operators/gcp/bigquery_check_rules.h"
#include "operators/gcp/bigquery_check_sql.h"
#include "operators/operator_registry.h"

namespace mayaflow::gcp {
namespace {

using json = nlohmann::json;

TEST_CASE("falsy values are Airflow's (Python's bool of the hook's values)") {
    for (const json& value : {json(nullptr), json(false), json(0), json(0.0), json(""), json::array()}) {
        CHECK(is_falsy(value, "STRING"));
    }
    for (const json& value : {json(true), json(1), json(-0.5), json("0"), json("false"), json::array({0})}) {
        CHECK_FALSE(is_falsy(value, "STRING"));
    }
    // NUMERIC arrives as text; Python reads it as Decimal, whose zero is false.
    CHECK(is_falsy(json("0.00"), "NUMERIC"));
    CHECK(is_falsy(json("0"), "BIGNUMERIC"));
    CHECK_FALSE(is_falsy(json("0.01"), "NUMERIC"));
    CHECK_FALSE(is_falsy(json("0"), "STRING"));
}

TEST_CASE("python_float and python_str read values as Airflow's comparisons do") {
    CHECK(python_float(json(" 1.5 ")) == 1.5);
    CHECK(python_float(json("1e3")) == 1000.0);
    CHECK(python_float(json(true)) == 1.0);
    CHECK_FALSE(python_float(json("abc")));
    CHECK_FALSE(python_float(json("0x10")));
    CHECK_FALSE(python_float(json(nullptr)));
    CHECK(python_str(json(true)) == "True");
    CHECK(python_str(json(nullptr)) == "None");
    CHECK(python_str(json("yuki")) == "yuki");
}

TEST_CASE("a value check compares numbers with tolerance, and other values as text") {
    auto exact = ValueCheck::read(json(10), json());
    REQUIRE(exact);
    CHECK(*exact->matches(json(10)));
    CHECK(*exact->matches(json("10.0")));
    CHECK_FALSE(*exact->matches(json(11)));
    CHECK(exact->describe() == "pass_value 10");

    auto tolerant = ValueCheck::read(json("100"), json(0.1));
    REQUIRE(tolerant);
    CHECK(*tolerant->matches(json(90)));
    CHECK(*tolerant->matches(json(110)));
    CHECK_FALSE(*tolerant->matches(json(110.5)));
    CHECK_FALSE(*tolerant->matches(json(89.9)));
    CHECK(tolerant->describe() == "pass_value 100 (tolerance ±10%)");
    // A numeric check meeting text that is no number is an error, as float() raising in Airflow.
    CHECK_FALSE(tolerant->matches(json("abc")));
    CHECK_FALSE(tolerant->matches(json(nullptr)));

    auto text = ValueCheck::read(json("yuki"), json());
    REQUIRE(text);
    CHECK(*text->matches(json("yuki")));
    CHECK_FALSE(*text->matches(json("masa")));
    // pass_value true is str()'d to "True" (never 1.0), and a BOOL true prints as True.
    auto boolean = ValueCheck::read(json(true), json());
    REQUIRE(boolean);
    CHECK_FALSE(boolean->pass_number);
    CHECK(*boolean->matches(json(true)));
    CHECK_FALSE(*boolean->matches(json(1)));

    CHECK_FALSE(ValueCheck::read(json(nullptr), json()));
    CHECK_FALSE(ValueCheck::read(json(1), json(-0.1)));
    CHECK_FALSE(ValueCheck::read(json(1), json("ten")));
}

TEST_CASE("column_mapping bounds match as Airflow's _get_match does") {
    auto equal = CheckBounds::read(json{{"equal_to", 0}}, "c.null_check");
    REQUIRE(equal);
    CHECK(equal->matches(json(0)));
    CHECK(equal->matches(json(nullptr)));  // accept_none: NULL counts as 0
    CHECK_FALSE(equal->matches(json(1)));
    CHECK(equal->describe() == "equal_to 0");

    auto range = CheckBounds::read(json{{"geq_to", 10}, {"less_than", 20}, {"tolerance", 0.1}}, "c.max");
    REQUIRE(range);
    CHECK(range->matches(json(9)));
    CHECK(range->matches(json(21.9)));
    CHECK_FALSE(range->matches(json(22)));
    CHECK_FALSE(range->matches(json(8.9)));
    CHECK_FALSE(range->matches(json("2024-01-01")));  // not a number: never matches

    auto greater = CheckBounds::read(json{{"greater_than", 5}}, "c.distinct_check");
    REQUIRE(greater);
    CHECK_FALSE(greater->matches(json(5)));
    CHECK(greater->matches(json(6)));

    auto misspelled = CheckBounds::read(json{{"equals_to", 0}}, "c.null_check");
    REQUIRE_FALSE(misspelled);
    CHECK_THAT(misspelled.error().message, Catch::Contains("unknown key 'equals_to' (did you mean 'equal_to'?)"));
    CHECK_FALSE(CheckBounds::read(json{{"tolerance", 0.1}}, "c.min"));
    CHECK_FALSE(CheckBounds::read(json{{"greater_than", 5}, {"less_than", 5}}, "c.min"));
    CHECK_FALSE(CheckBounds::read(json{{"geq_to", 6}, {"leq_to", 5}}, "c.min"));
    CHECK_FALSE(CheckBounds::read(json{{"equal_to", "0"}}, "c.min"));
}

TEST_CASE("columns and tables are checked as identifiers before they are quoted") {
    CHECK(*quoted_column("amount") == "`amount`");
    CHECK(*quoted_column("event.value_1") == "`event`.`value_1`");
    for (const char* bad : {"", "1st", "a b", "a`b", "amount) FROM x; --", "a.", ".a", "a..b", "a-b"}) {
        CHECK_FALSE(quoted_column(bad));
    }
    CHECK(*quoted_table("raw.expenses", "test-project", "table") == "`test-project.raw.expenses`");
    CHECK(*quoted_table("p-1:raw.expenses", "test-project", "table") == "`p-1.raw.expenses`");
    auto decorated = quoted_table("raw.expenses$20240101", "p", "table");
    REQUIRE_FALSE(decorated);
    CHECK_THAT(decorated.error().message, Catch::Contains("partition_clause"));
    CHECK_FALSE(quoted_table("raw.exp`enses", "p", "table"));
    CHECK_FALSE(quoted_table("raw.exp\\enses", "p", "table"));
    CHECK_FALSE(quoted_table("raw;DROP.x", "p", "table"));
}

TEST_CASE("values become GoogleSQL literals, escaped") {
    CHECK(*sql_literal(json("it's")) == "'it\\'s'");
    CHECK(*sql_literal(json("a\\b\nc")) == "'a\\\\b\\x0ac'");
    CHECK(*sql_literal(json(42)) == "42");
    CHECK(*sql_literal(json(1.5)) == "1.5");
    CHECK(*sql_literal(json(true)) == "TRUE");
    CHECK_FALSE(sql_literal(json::array()));
    CHECK_FALSE(sql_literal(json(nullptr)));
}

TEST_CASE("a table's checks are one query with a column per measure") {
    json params = {{"table", "raw.expenses"},
                   {"partition_clause", "date = '2024-01-02'"},
                   {"column_mapping", {{"amount", {{"null_check", {{"equal_to", 0}}}}}}},
                   {"unique", {"id"}},
                   {"not_null", {"note"}},
                   {"accepted_values", {{"payment", {"cash", "card"}}}}};
    auto plan = plan_column_checks(params, "test-project");
    REQUIRE(plan);
    CHECK(plan->checks.size() == 4);
    CHECK(plan->query.sql() ==
          "WITH checked_rows AS (SELECT * FROM `test-project.raw.expenses` WHERE (date = '2024-01-02')),\n"
          "measures AS (SELECT COUNT(*) AS row_count,\n"
          "  COUNTIF(`amount` IS NULL) AS m1,\n"
          "  COUNT(`id`) - COUNT(DISTINCT `id`) AS m2,\n"
          "  COUNTIF(`note` IS NULL) AS m4,\n"
          "  COUNTIF(`payment` NOT IN ('cash', 'card')) AS m5 FROM checked_rows)\n"
          "SELECT *,\n"
          "  (SELECT STRING_AGG(v, '\\x1f') FROM (SELECT CAST(`id` AS STRING) AS v FROM checked_rows WHERE `id` IS "
          "NOT NULL GROUP BY `id` HAVING COUNT(*) > 1 ORDER BY `id` LIMIT 10)) AS m3,\n"
          "  (SELECT STRING_AGG(v, '\\x1f') FROM (SELECT CAST(`payment` AS STRING) AS v FROM checked_rows WHERE "
          "`payment` NOT IN ('cash', 'card') GROUP BY `payment` ORDER BY `payment` LIMIT 10)) AS m6\n"
          "FROM measures");

    CHECK_FALSE(plan_column_checks(json{{"table", "raw.t"}}, "p"));  // no checks
    auto unknown = plan_column_checks(json{{"table", "raw.t"}, {"column_mapping", {{"a", {{"nul_check", {{"equal_to", 0}}}}}}}}, "p");
    REQUIRE_FALSE(unknown);
    CHECK_THAT(unknown.error().message, Catch::Contains("did you mean 'null_check'?"));
    CHECK_FALSE(plan_column_checks(json{{"table", "raw.t"}, {"accepted_values", {{"a", json::array()}}}}, "p"));
}

TEST_CASE("table checks take a row condition or an aggregate one, and row-count bounds") {
    json params = {{"table", "raw.t"}, {"checks", {{"positive", {{"check_statement", "amount > 0"}}}}}, {"min_rows", 1}};
    auto plan = plan_table_checks(params, "p-1");
    REQUIRE(plan);
    CHECK_THAT(plan->query.sql(), Catch::Contains("(SELECT COUNTIF(passed = 0) FROM (SELECT CASE WHEN (amount > 0) THEN "
                                                  "1 ELSE 0 END AS passed FROM checked_rows)) AS m1"));
    CHECK_THAT(plan->query.sql(), Catch::Contains("FROM `p-1.raw.t`),"));  // no partition clause, no WHERE
    // A failing per-row check is followed by a query of the first rows failing it (NULL counts as failing).
    CHECK(first_failing_rows_sql(plan->checks, json{{"row_count", 3}, {"m1", 0}}).empty());
    CHECK(first_failing_rows_sql(plan->checks, json{{"row_count", 3}, {"m1", 2}}) ==
          "SELECT * FROM `p-1.raw.t` WHERE NOT COALESCE((amount > 0), FALSE) LIMIT 10");
    auto partitioned = plan_table_checks(
        json{{"table", "raw.t"}, {"partition_clause", "day = '2024-01-01'"}, {"checks", {{"c", {{"check_statement", "x"}}}}}},
        "p");
    REQUIRE(partitioned);
    CHECK(first_failing_rows_sql(partitioned->checks, json{{"m1", 1}}) ==
          "SELECT * FROM `p.raw.t` WHERE (day = '2024-01-01') AND NOT COALESCE((x), FALSE) LIMIT 10");
    // A line comment at the end of the task's own SQL cannot swallow mayaflow's closing parenthesis.
    auto commented = plan_table_checks(json{{"table", "raw.t"}, {"partition_clause", "day = '2024-01-01' -- today"},
                                            {"checks", {{"c", {{"check_statement", "x > 0 # positive"}}}}}},
                                       "p");
    REQUIRE(commented);
    CHECK_THAT(commented->query.sql(), Catch::Contains("WHERE (day = '2024-01-01' -- today\n)"));
    CHECK_THAT(commented->query.sql(), Catch::Contains("CASE WHEN (x > 0 # positive\n) THEN"));
    CHECK_FALSE(plan_table_checks(json{{"table", "raw.t"}, {"checks", {{"x", {{"statement", "a"}}}}}}, "p"));
    CHECK_FALSE(plan_table_checks(json{{"table", "raw.t"}, {"min_rows", -1}}, "p"));
}

TEST_CASE("a check's own partition_clause narrows that check within the task's, as Airflow's") {
    json columns = {{"table", "raw.t"},
                    {"partition_clause", "day = '2024-01-01'"},
                    {"column_mapping",
                     {{"amount",
                       {{"null_check", {{"equal_to", 0}}},
                        {"unique_check", {{"equal_to", 0}, {"partition_clause", "kind = 'card'"}}}}}}}};
    auto plan = plan_column_checks(columns, "p");
    REQUIRE(plan);
    const std::string sql = plan->query.sql();
    CHECK_THAT(sql, Catch::Contains("COUNTIF(`amount` IS NULL) AS m1 FROM checked_rows)"));  // the task's rows
    CHECK_THAT(sql, Catch::Contains("(SELECT COUNT(`amount`) - COUNT(DISTINCT `amount`) FROM checked_rows WHERE "
                                    "(kind = 'card')) AS m2"));
    CHECK_THAT(sql, Catch::Contains("WHERE `amount` IS NOT NULL AND (kind = 'card') GROUP BY `amount`"));
    // The check's bounds are read without its partition_clause.
    REQUIRE(plan->checks.size() == 2);
    CHECK(plan->checks[1].failure(json(0)) == std::nullopt);

    json table = {{"table", "raw.t"},
                  {"partition_clause", "day = '2024-01-01'"},
                  {"checks", {{"big", {{"check_statement", "amount < 1000"}, {"partition_clause", "kind = 'card'"}}}}}};
    auto checks = plan_table_checks(table, "p");
    REQUIRE(checks);
    CHECK_THAT(checks->query.sql(), Catch::Contains("THEN 1 ELSE 0 END AS passed FROM checked_rows WHERE (kind = 'card'))"));
    CHECK(first_failing_rows_sql(checks->checks, json{{"m1", 1}}) ==
          "SELECT * FROM `p.raw.t` WHERE (day = '2024-01-01') AND (kind = 'card') AND NOT COALESCE((amount < 1000), "
          "FALSE) LIMIT 10");

    auto not_text = plan_table_checks(
        json{{"table", "raw.t"}, {"checks", {{"c", {{"check_statement", "x"}, {"partition_clause", 3}}}}}}, "p");
    REQUIRE_FALSE(not_text);
    CHECK_THAT(not_text.error().message, Catch::Contains("checks.c.partition_clause must be SQL text"));
    auto mapping_not_text = plan_column_checks(
        json{{"table", "raw.t"}, {"column_mapping", {{"a", {{"min", {{"geq_to", 0}, {"partition_clause", true}}}}}}}}, "p");
    REQUIRE_FALSE(mapping_not_text);
    CHECK_THAT(mapping_not_text.error().message, Catch::Contains("column_mapping.a.min.partition_clause must be SQL text"));
}

TEST_CASE("the verdict names every failed check and shows the offending values") {
    json params = {{"table", "raw.t"}, {"unique", {"id"}}, {"not_null", {"note"}}};
    auto plan = plan_column_checks(params, "p");
    REQUIRE(plan);
    CHECK(judge_table_checks(plan->checks, json{{"row_count", 3}, {"m1", 0}, {"m2", nullptr}, {"m3", 0}}).ok());
    std::string many;
    for (int i = 1; i <= 10; ++i) many += (i > 1 ? "\x1f" : "") + std::to_string(i);
    auto verdict = judge_table_checks(plan->checks, json{{"row_count", 30}, {"m1", 12}, {"m2", many}, {"m3", 1}});
    REQUIRE_FALSE(verdict);
    CHECK(verdict.error().message ==
          "2 of 2 checks failed: unique(id): 12 rows with a repeated value (the first 10 values: \"1\", \"2\", \"3\", \"4\", "
          "\"5\", \"6\", \"7\", \"8\", \"9\", \"10\"); not_null(note): 1 row with NULL");

    auto bounds = plan_table_checks(json{{"table", "raw.t"}, {"min_rows", 5}, {"max_rows", 9}}, "p");
    REQUIRE(bounds);
    CHECK(judge_table_checks(bounds->checks, json{{"row_count", 5}}).ok());
    auto few = judge_table_checks(bounds->checks, json{{"row_count", 4}});
    REQUIRE_FALSE(few);
    CHECK(few.error().message == "1 of 2 checks failed: min_rows 5: the table has 4 rows, fewer than 5");
}

TEST_CASE("messages show the first ten values and how many more there were") {
    std::vector<std::string> values;
    for (int i = 0; i < 12; ++i) values.push_back(std::to_string(i));
    CHECK(show_first_ten(values, 12) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 (and 2 more)");
    CHECK(show_first_ten({"a"}, 1) == "a");
    CHECK(show_value(json(nullptr)) == "NULL");
    CHECK(show_value(json("x")) == "\"x\"");
    CHECK(show_value(json(true)) == "true");
}

}  // namespace
}  // namespace mayaflow::gcp

namespace mayaflow::gcp {

TEST_CASE("mistakes inside column_mapping, checks and the column lists are DAG errors with their line") {
    const std::string yaml = R"(dag_id: checks_at_load
tasks:
  - task_id: columns
    operator: bigquery_column_check
    table: raw.t
    column_mapping:
      amount:
        null_check: {equal_to: 0}
        min: {geq_to: 0, lt: 5}
    unique: [id, "bad name"]
  - task_id: table
    operator: bigquery_table_check
    table: raw.t
    checks:
      positive: {check_statement: "amount > 0", partition_clause: "day = '{{ ds }}'"}
      typo: {check_statment: "x"}
)";
    auto result = load_dag_text(yaml, "/tmp/cl.yaml", DagLoadOptions{&builtin_operators(), "/tmp"});
    REQUIRE(result.errors.size() == 3);
    CHECK(result.errors[0].field == "tasks[0].column_mapping.amount.min");
    CHECK(result.errors[0].where.line == 9);
    CHECK_THAT(result.errors[0].message, Catch::Contains("unknown key 'lt'"));
    CHECK(result.errors[1].field == "tasks[0].unique");
    CHECK_THAT(result.errors[1].message, Catch::Contains("\"bad name\" is not a column name"));
    CHECK(result.errors[2].field == "tasks[1].checks.typo");
    CHECK(result.errors[2].where.line == 16);
    CHECK_THAT(result.errors[2].message, Catch::Contains("must be {check_statement:"));
}

}  // namespace mayaflow::gcp
