// Airflow's template context. Expected outputs were checked by hand against Airflow's definitions
// (airflow/templates.py, airflow/macros) and pendulum 2.1's behaviour.

#include <catch2/catch.hpp>

#include <thread>

#include "engine/template/airflow_context.h"
#include "engine/time/iso8601.h"

namespace mayaflow::tmpl {
namespace {

Instant at(std::string_view text) { return parse_datetime(text, TimeZone::utc()).value(); }

// A daily DAG in Asia/Tokyo: its run for March 1st (local) starts at 2024-02-29T15:00Z.
RunInfo tokyo_run() {
    RunInfo run;
    run.dag_id = "etl";
    run.task_id = "load";
    run.run_id = "scheduled__2024-02-29T15:00:00+00:00";
    run.logical_date = at("2024-02-29T15:00:00Z");
    run.data_interval_start = at("2024-02-29T15:00:00Z");
    run.data_interval_end = at("2024-03-01T15:00:00Z");
    run.start_date = at("2024-03-01T15:05:12.345678Z");
    run.dag_timezone = TimeZone::find("Asia/Tokyo").value();
    run.params = {{"table", "events"}, {"limit", 10}};
    run.conf = {{"limit", 5}, {"extra", "x"}};
    run.loop_vars = {{"item", "a"}, {"table_name", "t1"}};
    run.variable = [](std::string_view name) -> std::optional<std::string> {
        if (name == "env") return "prod";
        if (name == "cfg") return R"({"bucket": "b1", "n": [1, 2]})";
        if (name == "broken") return "{not json";
        return std::nullopt;
    };
    run.connection = [](std::string_view id) -> std::optional<nlohmann::json> {
        if (id == "stored") {
            return nlohmann::json{{"conn_type", "http"}, {"description", "d"}, {"host", nullptr}, {"port", nullptr},
                                  {"extra", R"({"b": 2, "a": 1})"}, {"extra_dejson", {{"b", 2}, {"a", 1}}}};
        }
        if (id != "gcp") return std::nullopt;
        return nlohmann::json{{"conn_type", "google_cloud_platform"}, {"host", "h"}, {"login", "u"}, {"password", "p"},
                              {"schema", "s"}, {"port", 5432}, {"extra", {{"project", "p1"}}}};
    };
    run.task_result = [](std::string_view task_id) -> std::optional<nlohmann::json> {
        if (task_id == "extract") return nlohmann::json{{"rows", 3}};
        return std::nullopt;
    };
    run.try_number = 2;
    run.run_type = "scheduled";
    return run;
}

std::string render(const std::string& source, const Context& context) {
    auto tmpl = Template::parse(source);
    if (!tmpl) return "PARSE ERROR: " + tmpl.error().message;
    auto out = tmpl->render(context);
    if (!out) return "ERROR: " + out.error().message;
    return *out;
}

struct Case {
    const char* source;
    const char* expected;
};

TEST_CASE("Airflow's context names render as in Airflow", "[template][airflow]") {
    Context context = make_airflow_context(tokyo_run());
    const Case cases[] = {
        // The date names are UTC, even for a DAG in Tokyo.
        {"{{ ds }}", "2024-02-29"},
        {"{{ ds_nodash }}", "20240229"},
        {"{{ ts }}", "2024-02-29T15:00:00+00:00"},
        {"{{ ts_nodash }}", "20240229T150000"},
        {"{{ ts_nodash_with_tz }}", "20240229T150000+0000"},
        {"{{ logical_date }}", "2024-02-29T15:00:00+00:00"},
        {"{{ data_interval_start }} {{ data_interval_end }}", "2024-02-29T15:00:00+00:00 2024-03-01T15:00:00+00:00"},
        {"{{ start_date }}", "2024-03-01T15:05:12.345678+00:00"},
        {"{{ task_instance_key_str }}", "etl__load__20240229"},
        {"{{ run_id }}", "scheduled__2024-02-29T15:00:00+00:00"},
        {"{{ test_mode }}", "False"},
        // The local date, the way the docs recommend.
        {"{{ logical_date.in_timezone('Asia/Tokyo') | ds }}", "2024-03-01"},
        {"{{ logical_date.in_tz('Asia/Tokyo') | ts }}", "2024-03-01T00:00:00+09:00"},
        {"{{ logical_date.in_timezone(dag.timezone) | ds_nodash }}", "20240301"},
        {"{{ logical_date.in_timezone('Asia/Tokyo') | ts_nodash_with_tz }}", "20240301T000000+0900"},
        {"{{ logical_date.in_timezone('Asia/Tokyo') | ts_nodash }}", "20240301T000000"},
        // Airflow's ts_nodash_with_tz strips every '-', the offset's sign included.
        {"{{ logical_date.in_timezone('America/New_York') | ts_nodash_with_tz }}", "20240229T1000000500"},
        {"{{ start_date | ts }} {{ start_date | ts_nodash }}", "2024-03-01T15:05:12.345678+00:00 20240301T150512"},
        {"{{ start_date | ts_nodash_with_tz }}", "20240301T150512.345678+0000"},
        {"{{ none | ds }}", "None"},
        // pendulum DateTime attributes and methods.
        {"{{ logical_date.year }}-{{ logical_date.month }}-{{ logical_date.day }} {{ logical_date.hour }}:{{ logical_date.minute }}:{{ logical_date.second }}",
         "2024-2-29 15:0:0"},
        {"{{ start_date.microsecond }}", "345678"},
        {"{{ logical_date.in_timezone('Asia/Tokyo').hour }}", "0"},
        {"{{ logical_date.strftime('%Y/%m/%d %H:%M') }}", "2024/02/29 15:00"},
        {"{{ logical_date.isoformat() }}", "2024-02-29T15:00:00+00:00"},
        {"{{ logical_date.timestamp() }}", "1709218800.0"},
        {"{{ logical_date.date() }} {{ logical_date.date() | ds }}", "2024-02-29 2024-02-29"},
        {"{{ [logical_date.date()] }}", "[Date(2024, 2, 29)]"},
        {"{{ [logical_date] }}", "[DateTime(2024, 2, 29, 15, 0, 0, tzinfo=Timezone('UTC'))]"},
        {"{{ logical_date.add(days=1) }}", "2024-03-01T15:00:00+00:00"},
        {"{{ logical_date.subtract(months=1) }}", "2024-01-29T15:00:00+00:00"},
        {"{{ logical_date.add(years=1) }}", "2025-02-28T15:00:00+00:00"},
        {"{{ logical_date.add(hours=9, minutes=30) }}", "2024-03-01T00:30:00+00:00"},
        {"{{ logical_date.start_of('month') }}", "2024-02-01T00:00:00+00:00"},
        {"{{ logical_date.end_of('day') }}", "2024-02-29T23:59:59.999999+00:00"},
        {"{{ logical_date.start_of('week') }}", "2024-02-26T00:00:00+00:00"},
        {"{{ logical_date.in_timezone('Asia/Tokyo').start_of('day') }}", "2024-03-01T00:00:00+09:00"},
        {"{{ logical_date.replace(hour=3) }}", "2024-02-29T03:00:00+00:00"},
        {"{{ logical_date.in_timezone('Asia/Tokyo').replace(day=5) }}", "2024-03-05T00:00:00+09:00"},
        {"{{ logical_date.to_date_string() }} {{ logical_date.to_datetime_string() }}", "2024-02-29 2024-02-29 15:00:00"},
        {"{{ logical_date.day_of_year }} {{ logical_date.weekday() }} {{ logical_date.isoweekday() }}", "60 3 4"},
        {"{{ logical_date.tzinfo }} {{ logical_date.timezone_name }}", "UTC UTC"},
        {"{{ logical_date + macros.timedelta(hours=1) }}", "2024-02-29T16:00:00+00:00"},
        {"{{ logical_date - macros.timedelta(days=1) }}", "2024-02-28T15:00:00+00:00"},
        {"{{ (data_interval_end - data_interval_start).total_seconds() }}", "86400.0"},
        {"{{ (data_interval_end - data_interval_start).in_hours() }}", "24"},
        {"{{ logical_date == data_interval_start }} {{ logical_date < data_interval_end }}", "True True"},
        {"{{ '{:%Y-%m}'.format(logical_date) }}", "2024-02"},
        // Macros.
        {"{{ macros.ds_add(ds, 7) }}", "2024-03-07"},
        {"{{ macros.ds_add(ds, -1) }}", "2024-02-28"},
        {"{{ macros.ds_add('2024-03-01', 0) }}", "2024-03-01"},
        {"{{ macros.ds_format(ds, '%Y-%m-%d', '%d/%m/%Y') }}", "29/02/2024"},
        {"{{ macros.ds_format('20240301', '%Y%m%d', '%b %d, %Y') }}", "Mar 01, 2024"},
        {"{{ macros.datetime(2024, 1, 2, 3, 4, 5) }}", "2024-01-02 03:04:05"},
        {"{{ macros.datetime(2024, 1, 2) + macros.timedelta(days=1, hours=2) }}", "2024-01-03 02:00:00"},
        {"{{ [macros.datetime(2024, 1, 2)] }}", "[datetime.datetime(2024, 1, 2, 0, 0)]"},
        {"{{ macros.datetime(2024, 1, 2).isoformat() }}", "2024-01-02T00:00:00"},
        {"{{ macros.timedelta(days=1, hours=2, minutes=3) }}", "1 day, 2:03:00"},
        {"{{ macros.timedelta(hours=-1) }}", "-1 day, 23:00:00"},
        {"{{ macros.timedelta(weeks=1).days }} {{ macros.timedelta(minutes=90).seconds }}", "7 5400"},
        {"{{ macros.datetime.strptime('2024-03-01', '%Y-%m-%d').strftime('%A') }}", "Friday"},
        {"{{ macros.uuid.uuid4() | string | length }}", "36"},
        // Run, DAG, task and task instance.
        {"{{ dag_run.run_id }} {{ dag_run.run_type }} {{ dag_run.dag_id }}",
         "scheduled__2024-02-29T15:00:00+00:00 scheduled etl"},
        {"{{ dag_run.conf.limit }} {{ dag_run.conf.get('missing', 'd') }} {{ dag_run.logical_date | ds }}", "5 d 2024-02-29"},
        {"{{ params.table }} {{ params.limit }} {{ params.extra }}", "events 5 x"},
        {"{{ params.get('nope', 'fallback') }}", "fallback"},
        {"{{ dag.dag_id }} {{ dag.timezone }} {{ dag.timezone.name }} {{ task.task_id }}", "etl Asia/Tokyo Asia/Tokyo load"},
        {"{{ ti.task_id }} {{ ti.try_number }} {{ task_instance.dag_id }} {{ ti.run_id == run_id }} {{ ti.map_index }}",
         "load 2 etl True -1"},
        {"{{ ti.xcom_pull(task_ids='extract') }}", "{'rows': 3}"},
        {"{{ ti.xcom_pull('extract')['rows'] }}", "3"},
        {"{{ ti.xcom_pull(task_ids='nope') }}", "None"},
        {"{{ ti.xcom_pull(task_ids=['extract', 'nope']) }}", "[{'rows': 3}, None]"},
        {"{{ ti.xcom_pull(task_ids='extract', key='other') }}", "None"},
        {"{{ ti.xcom_pull(task_ids='nope', default=0) }}", "0"},
        // Variables and connections.
        {"{{ var.value.env }} {{ var.value['env'] }}", "prod prod"},
        {"{{ var.value.get('missing', 'dflt') }} {{ var.value.get('missing') }}", "dflt None"},
        {"{{ var.json.cfg.bucket }} {{ var.json.cfg.n | sum }}", "b1 3"},
        {"{{ var.json.get('missing', {'a': 1}).a }}", "1"},
        {"{{ conn.gcp.host }}:{{ conn.gcp.port }} {{ conn.gcp.login }} {{ conn.gcp.password }} {{ conn.gcp.schema }}",
         "h:5432 u p s"},
        {"{{ conn.gcp.extra_dejson.project }} {{ conn.gcp.extra }} {{ conn.gcp.conn_type }}",
         "p1 {\"project\":\"p1\"} google_cloud_platform"},
        {"{{ conn.get('nope') }}", "None"},
        {"{{ conn.stored.extra }} {{ conn.stored.extra_dejson.b }} {{ conn.stored.description }}",
         "{\"b\": 2, \"a\": 1} 2 d"},
        {"{{ conn.stored.port }} {{ conn.stored.host }}", "None None"},
        // for_each variables are visible by name.
        {"{{ item }}-{{ table_name }}", "a-t1"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.source);
        CHECK(render(c.source, context) == c.expected);
    }
}

TEST_CASE("Airflow context errors name what is missing", "[template][airflow]") {
    Context context = make_airflow_context(tokyo_run());
    const Case cases[] = {
        {"{{ var.value.missing }}", "ERROR: variable 'missing' does not exist"},
        {"{{ var.json.broken }}", "ERROR: variable 'broken' does not hold valid JSON"},
        {"{{ conn.nope.host }}", "ERROR: connection 'nope' is not defined"},
        {"{{ logical_date.in_timezone('Mars/Base') }}", "ERROR: "},
        {"{{ macros.ds_add('03/01/2024', 1) }}", "ERROR: "},
        {"{{ macros.datetime(2024, 2, 30) }}", "ERROR: day is out of range for month"},
        {"{{ ds | ds }}", "ERROR: 'str' object has no attribute 'strftime'"},
        {"{{ dag_run.nope }}", "ERROR: 'DagRun object' has no attribute 'nope'"},
        {"{{ params.nope }}", "ERROR: 'dict object' has no attribute 'nope'"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.source);
        CHECK_THAT(render(c.source, context), Catch::StartsWith(c.expected));
    }
}

TEST_CASE("Without a logical date the ds names are undefined", "[template][airflow]") {
    RunInfo run = tokyo_run();
    run.logical_date.reset();
    Context context = make_airflow_context(run);
    CHECK(render("{{ ds }}", context) == "ERROR: 'ds' is undefined");
    CHECK(render("{{ ts_nodash }}", context) == "ERROR: 'ts_nodash' is undefined");
    CHECK(render("{{ ds | default('no date') }} {{ logical_date }}", context) == "no date None");
    CHECK(render("{{ data_interval_start | ds }}", context) == "2024-02-29");
}

TEST_CASE("The previous successful run's names are None until the caller knows that run", "[template][airflow]") {
    Context unknown = make_airflow_context(tokyo_run());
    CHECK(render("{{ prev_data_interval_start_success }} {{ prev_data_interval_end_success }} "
                 "{{ prev_start_date_success }} {{ prev_end_date_success }}",
                 unknown) == "None None None None");
    CHECK(render("{{ prev_data_interval_start_success | default('first run', true) }}", unknown) == "first run");

    RunInfo run = tokyo_run();
    run.prev_data_interval_start_success = at("2024-02-28T15:00:00Z");
    run.prev_data_interval_end_success = at("2024-02-29T15:00:00Z");
    run.prev_start_date_success = at("2024-02-29T15:01:00Z");
    run.prev_end_date_success = at("2024-02-29T15:09:30Z");
    Context known = make_airflow_context(run);
    CHECK(render("{{ prev_data_interval_start_success }}", known) == "2024-02-28T15:00:00+00:00");
    CHECK(render("{{ prev_data_interval_start_success | ds }}", known) == "2024-02-28");
    CHECK(render("{{ prev_data_interval_end_success | ts_nodash }}", known) == "20240229T150000");
    CHECK(render("{{ prev_start_date_success.minute }}", known) == "1");
    CHECK(render("{{ prev_end_date_success.isoformat() }}", known) == "2024-02-29T15:09:30+00:00");
}

TEST_CASE("pendulum's calendar arithmetic keeps the wall clock across DST", "[template][airflow]") {
    RunInfo run = tokyo_run();
    run.logical_date = at("2024-03-09T17:00:00Z");  // noon in New York, the day before DST starts
    Context context = make_airflow_context(run);
    const Case cases[] = {
        {"{% set ny = logical_date.in_timezone('America/New_York') %}{{ ny }}", "2024-03-09T12:00:00-05:00"},
        {"{% set ny = logical_date.in_timezone('America/New_York') %}{{ ny.add(days=1) }}", "2024-03-10T12:00:00-04:00"},
        {"{% set ny = logical_date.in_timezone('America/New_York') %}{{ ny.add(hours=24) }}", "2024-03-10T13:00:00-04:00"},
        {"{% set ny = logical_date.in_timezone('America/New_York') %}{{ ny + macros.timedelta(days=1) }}",
         "2024-03-10T13:00:00-04:00"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.source);
        CHECK(render(c.source, context) == c.expected);
    }
}

TEST_CASE("Context values are shared read-only between renders", "[template][airflow]") {
    Context context = make_airflow_context(tokyo_run());
    CHECK_THAT(render("{% do params.update({'x': 1}) %}", context), Catch::StartsWith("ERROR: cannot change a dict"));
    CHECK(render("{% set mine = params.copy() %}{% do mine.update({'x': 1}) %}{{ mine.x }} {{ params.x is defined }}",
                 context) == "1 False");
}

TEST_CASE("One template renders from many threads at once", "[template][airflow]") {
    auto tmpl = Template::parse("{% for i in range(50) %}{{ ds }}-{{ i }}-{{ params.table | upper }};{% endfor %}");
    REQUIRE(tmpl);
    Context context = make_airflow_context(tokyo_run());
    std::string expected = *tmpl->render(context);
    std::vector<std::thread> threads;
    std::atomic<int> mismatches{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 200; ++i) {
                auto out = tmpl->render(context);
                if (!out || *out != expected) ++mismatches;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(mismatches == 0);
}

}  // namespace
}  // namespace mayaflow::tmpl
