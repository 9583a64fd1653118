#include <catch2/catch.hpp>

#include "engine/dagfile/dag_loader.h"
#include "operators/gcp/bigquery_discovery.h"
#include "operators/gcp/bigquery_insert_job_operator.h"
#include "operators/operator_registry.h"

using namespace mayaflow;
using namespace mayaflow::gcp;
using nlohmann::json;

namespace {

std::optional<ParamProblem> check(const json& configuration) { return check_job_configuration(configuration); }

std::string where(const std::optional<ParamProblem>& problem) {
    REQUIRE(problem);
    return param_path_text("configuration", problem->path);
}

}  // namespace

TEST_CASE("a job configuration BigQuery reads passes the discovery check") {
    CHECK_FALSE(check(json::parse(R"({"query": {"query": "SELECT 1", "useLegacySql": false,
        "destinationTable": {"projectId": "p", "datasetId": "d", "tableId": "t$20240101"},
        "writeDisposition": "WRITE_TRUNCATE", "maximumBytesBilled": "1000000", "priority": "BATCH",
        "queryParameters": [{"name": "day", "parameterType": {"type": "DATE"}, "parameterValue": {"value": "2024-01-01"}}],
        "timePartitioning": {"type": "DAY", "field": "day"}, "clustering": {"fields": ["shop"]}},
        "labels": {"team": "kakeibo"}, "jobTimeoutMs": 60000})")));
    CHECK_FALSE(check(json::parse(R"({"load": {"sourceUris": ["gs://b/*.csv"], "skipLeadingRows": 1,
        "destinationTable": {"projectId": "p", "datasetId": "d", "tableId": "t"}, "columnNameCharacterMap": "V2",
        "schema": {"fields": [{"name": "a", "type": "RECORD", "fields": [{"name": "b", "type": "INT64"}]}]}}})")));
    CHECK_FALSE(check(json::parse(R"({"copy": {"sourceTable": {"projectId": "p", "datasetId": "d", "tableId": "a"},
        "destinationTable": {"projectId": "p", "datasetId": "d", "tableId": "b"}}, "dryRun": true})")));
    // int64 as a JSON number too, as proto3 JSON reads it; null is a field's default.
    CHECK_FALSE(check(json::parse(R"({"query": {"query": "SELECT 1", "maximumBytesBilled": 5, "priority": null}})")));
}

TEST_CASE("the discovery check names the field, where it is, and the likely fix") {
    auto typo = check(json::parse(R"({"query": {"query": "SELECT 1", "useLegacySQL": false}})"));
    CHECK(where(typo) == "configuration.query.useLegacySQL");
    CHECK_THAT(typo->message, Catch::Contains("did you mean 'useLegacySql'") && Catch::Contains("JobConfigurationQuery"));

    auto nested = check(json::parse(R"({"load": {"sourceUris": ["gs://b/x"],
        "schema": {"fields": [{"name": "a", "type": "RECORD", "fields": [{"name": "b", "mode": "REQUIRED", "typ": "INT64"}]}]}}})"));
    CHECK(where(nested) == "configuration.load.schema.fields[0].fields[0].typ");

    auto wrong_bool = check(json::parse(R"({"query": {"query": "SELECT 1", "useLegacySql": "false"}})"));
    CHECK_THAT(wrong_bool->message, Catch::Contains("must be true or false"));
    auto wrong_int = check(json::parse(R"({"load": {"sourceUris": [], "maxBadRecords": "lots"}})"));
    CHECK_THAT(wrong_int->message, Catch::Contains("whole number") && Catch::Contains("\"lots\""));
    auto too_big = check(json::parse(R"({"load": {"sourceUris": [], "maxBadRecords": 3000000000}})"));
    CHECK(where(too_big) == "configuration.load.maxBadRecords");
    auto int64_text = check(json::parse(R"({"query": {"query": "x", "maximumBytesBilled": "12x"}})"));
    CHECK(where(int64_text) == "configuration.query.maximumBytesBilled");
    auto fraction = check(json::parse(R"({"query": {"query": "x", "maximumBytesBilled": 1.5}})"));
    CHECK(fraction);
    auto enumerated = check(json::parse(R"({"load": {"sourceUris": [], "columnNameCharacterMap": "V3"}})"));
    CHECK_THAT(enumerated->message, Catch::Contains("STRICT, V1, V2"));
    auto label = check(json::parse(R"({"query": {"query": "x"}, "labels": {"team": 5}})"));
    CHECK(where(label) == "configuration.labels.team");
    auto null_item = check(json::parse(R"({"load": {"sourceUris": ["gs://a", null]}})"));
    CHECK(where(null_item) == "configuration.load.sourceUris[1]");
    auto not_a_map = check(json::parse(R"({"query": "SELECT 1"})"));
    CHECK_THAT(not_a_map->message, Catch::Contains("must be a mapping"));
}

TEST_CASE("a job configuration holds exactly one kind of job") {
    CHECK_THAT(check(json::parse(R"({"labels": {}})"))->message, Catch::Contains("exactly one of query, load"));
    CHECK(check(json::parse(R"({"query": {"query": "x"}, "copy": {}})")));
    CHECK_FALSE(check(json::parse(R"({"query": {"query": "x"}, "copy": null})")));
}

TEST_CASE("template text passes the discovery check until it is rendered") {
    CHECK_FALSE(check(json::parse(R"({"load": {"sourceUris": ["gs://b/{{ ds }}.csv"], "maxBadRecords": "{{ params.bad }}",
        "columnNameCharacterMap": "{{ var.value.map }}"}})")));
    // A .json file's text is read as JSON; with templates outside strings it is checked once rendered.
    CHECK_FALSE(check(json(R"({"query": {"query": "SELECT 1", "maximumBytesBilled": {{ params.cap }}}})")));
    CHECK(where(check(json(R"({"query": {"query": "SELECT 1", "useLegacySQL": false}})"))) ==
          "configuration.query.useLegacySQL");
    CHECK_THAT(check(json("{not json"))->message, Catch::Contains("is not JSON"));
    CHECK_THAT(check(json("[1]"))->message, Catch::Contains("JSON object"));
    CHECK_THAT(check(json(5))->message, Catch::Contains("mapping"));
    std::string deep(5000, '[');
    CHECK(check(json(deep)));
}

TEST_CASE("a misspelled field of a bigquery_insert_job configuration is a DAG error with its line") {
    const std::string yaml = R"(dag_id: ij
schedule: null
tasks:
  - task_id: q
    operator: bigquery_insert_job
    configuration:
      query:
        query: "SELECT 1"
        useLegacySQL: false
  - task_id: r
    operator: bigquery_insert_job
    reattach_states: [RUNNING, DONNE]
    configuration: {query: {query: x}}
)";
    auto result = load_dag_text(yaml, "/tmp/ij.yaml", DagLoadOptions{&builtin_operators(), "/tmp"});
    REQUIRE(result.errors.size() == 2);
    CHECK(result.errors[0].where.line == 9);
    CHECK(result.errors[0].field == "tasks[0].configuration.query.useLegacySQL");
    CHECK(result.errors[1].where.line == 12);
    CHECK_THAT(result.errors[1].message, Catch::Contains("did you mean 'DONE'"));
}

TEST_CASE("label keys BigQuery refuses and result row bounds are DAG errors with their line") {
    const std::string yaml = R"(dag_id: lb
schedule: null
tasks:
  - task_id: q
    operator: bigquery_query
    sql: "SELECT 1"
    labels: {team: data, Team Name: x, 日本: ok}
  - task_id: r
    operator: bigquery_query
    sql: "SELECT 1"
    max_result_rows: 100000000
)";
    auto result = load_dag_text(yaml, "/tmp/lb.yaml", DagLoadOptions{&builtin_operators(), "/tmp"});
    REQUIRE(result.errors.size() == 2);
    CHECK(result.errors[0].field == "tasks[0].labels.Team Name");
    CHECK(result.errors[0].where.line == 7);
    CHECK_THAT(result.errors[0].message, Catch::Contains("lowercase"));
    CHECK(result.errors[1].field == "tasks[1].max_result_rows");
    CHECK_THAT(result.errors[1].message, Catch::Contains("from 0 to 10000"));
}
