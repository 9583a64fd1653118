// Templates (the Jinja subset of `{{ … }}` fields): parse, list the names read, and render against a
// task run's full Airflow context (params, conf, loop variables, var, conn, ti.xcom_pull), with a
// smaller work budget than a real render so one input stays fast; errors are values, never crashes.

#include <optional>
#include <string>

#include "engine/template/airflow_context.h"
#include "engine/template/template.h"
#include "engine/time/iso8601.h"
#include "fuzz/fuzz_support.h"

using namespace mayaflow;
using namespace mayaflow::tmpl;

namespace {

Instant at(std::string_view text) { return parse_datetime(text, TimeZone::utc()).value(); }

// A daily DAG in Asia/Tokyo, as engine/template/airflow_context_test.cpp's.
RunInfo tokyo_run() {
    RunInfo run;
    run.dag_id = "etl";
    run.task_id = "load";
    run.run_id = "scheduled__2024-02-29T15:00:00+00:00";
    run.logical_date = at("2024-02-29T15:00:00Z");
    run.data_interval_start = at("2024-02-29T15:00:00Z");
    run.data_interval_end = at("2024-03-01T15:00:00Z");
    run.start_date = at("2024-03-01T15:05:12.345678Z");
    run.prev_data_interval_start_success = at("2024-02-28T15:00:00Z");
    run.dag_timezone = TimeZone::find("Asia/Tokyo").value();
    run.params = {{"table", "events"}, {"limit", 10}, {"tables", {"a", "b", "c"}}, {"nested", {{"k", {1, 2.5, nullptr}}}}};
    run.conf = {{"limit", 5}, {"extra", "x"}};
    run.loop_vars = {{"item", "a"}, {"table_name", "t1"}};
    run.variable = [](std::string_view name) -> std::optional<std::string> {
        if (name == "env") return "prod";
        if (name == "cfg") return R"({"bucket": "b1", "n": [1, 2]})";
        if (name == "broken") return "{not json";
        return std::nullopt;
    };
    run.connection = [](std::string_view id) -> std::optional<nlohmann::json> {
        if (id != "gcp") return std::nullopt;
        return nlohmann::json{{"conn_type", "google_cloud_platform"}, {"host", "h"}, {"login", "u"}, {"password", "p"},
                              {"schema", "s"}, {"port", 5432}, {"extra", {{"project", "p1"}}}};
    };
    run.task_result = [](std::string_view task_id) -> std::optional<nlohmann::json> {
        if (task_id == "extract") return nlohmann::json{{"rows", 3}, {"names", {"x", "y"}}};
        return std::nullopt;
    };
    run.try_number = 2;
    run.run_type = "scheduled";
    return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const Context context = make_airflow_context(tokyo_run());
    auto parsed = Template::parse(fuzz::as_text(data, size));
    if (!parsed) {
        FUZZ_CHECK(parsed.error().message.rfind("line ", 0) == 0);
        return 0;
    }
    (void)parsed->context_names();
    (void)parsed->has_markup();
    // A tenth of one render's limit (kMaxWork): hostile loops end in an error sooner.
    RenderBudget budget(1'000'000);
    (void)parsed->render(context, budget);
    return 0;
}
