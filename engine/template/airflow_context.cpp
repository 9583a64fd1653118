#include "engine/template/airflow_context.h"

#include <fmt/format.h>

#include <map>

#include "engine/template/args.h"
#include "engine/template/datetime_value.h"
#include "engine/template/error.h"
#include "engine/template/pystr.h"

namespace mayaflow::tmpl {

namespace {

// An object with a fixed set of attributes: dag, task, dag_run.
class Record : public Object {
  public:
    Record(std::string type, std::string text, std::map<std::string, Value, std::less<>> attributes)
        : type_(std::move(type)), text_(std::move(text)), attributes_(std::move(attributes)) {}
    std::string type_name() const override { return type_; }
    std::string repr() const override { return text_; }
    std::optional<Value> attribute(std::string_view name) const override {
        auto it = attributes_.find(name);
        if (it == attributes_.end()) return std::nullopt;
        return it->second;
    }

  private:
    std::string type_;
    std::string text_;
    std::map<std::string, Value, std::less<>> attributes_;
};

Value record(std::string type, std::string text, std::map<std::string, Value, std::less<>> attributes) {
    return Value::object(std::make_shared<Record>(std::move(type), std::move(text), std::move(attributes)));
}

using Lookup = std::function<std::optional<Value>(std::string_view)>;

// A callable bound to a lookup: var.value.get, conn.get, ti.xcom_pull.
class LookupMethod : public Object {
  public:
    using Fn = Value (*)(const Lookup& lookup, const CallArgs& args);
    LookupMethod(Lookup lookup, Fn fn) : lookup_(std::move(lookup)), fn_(fn) {}
    std::string type_name() const override { return "method"; }
    bool callable() const override { return true; }
    Value call(const CallArgs& args) const override { return fn_(lookup_, args); }

  private:
    Lookup lookup_;
    Fn fn_;
};

// var.value / var.json / conn: any attribute is a lookup by name that must succeed; .get(name,
// default) is the forgiving form.
class Accessor : public Object {
  public:
    Accessor(std::string type, Lookup lookup, std::string missing_message)
        : type_(std::move(type)), lookup_(std::move(lookup)), missing_message_(std::move(missing_message)) {}
    std::string type_name() const override { return type_; }
    std::optional<Value> attribute(std::string_view name) const override {
        if (name == "get") {
            return Value::object(std::make_shared<LookupMethod>(lookup_, [](const Lookup& lookup, const CallArgs& args) {
                Arguments a("get", args, {"key", "default_var"}, 1);
                std::optional<Value> found = lookup(a[0].str());
                return found ? *found : a.get(1, Value());
            }));
        }
        if (auto found = lookup_(name)) return found;
        throw_runtime("{}", fmt::format(fmt::runtime(missing_message_), name));
    }
    std::optional<Value> item(const Value& key) const override { return attribute(key.str()); }

  private:
    std::string type_;
    Lookup lookup_;
    std::string missing_message_;
};

Lookup variable_lookup(const RunInfo& run, bool as_json) {
    auto variable = run.variable;
    return [variable, as_json](std::string_view name) -> std::optional<Value> {
        if (!variable) return std::nullopt;
        std::optional<std::string> text = variable(name);
        if (!text) return std::nullopt;
        if (!as_json) return Value(*text);
        auto parsed = nlohmann::ordered_json::parse(*text, nullptr, false);
        if (parsed.is_discarded()) throw_runtime("variable '{}' does not hold valid JSON", name);
        return Value::from_json(parsed);
    };
}

Value connection_value(std::string_view conn_id, const nlohmann::json& fields) {
    auto text = [&](const char* key) -> Value {
        if (!fields.contains(key) || fields[key].is_null()) return Value();
        const auto& field = fields[key];
        return field.is_string() ? Value(field.get<std::string>()) : Value::from_json(field);
    };
    // `extra` as stored (text) with `extra_dejson` beside it, or `extra` as an object.
    Value extra_text;
    nlohmann::json extra_object = nlohmann::json::object();
    if (auto found = fields.find("extra"); found != fields.end() && found->is_object()) {
        extra_object = *found;
        extra_text = Value(extra_object.dump());
    } else {
        extra_text = text("extra");
        if (auto parsed = fields.find("extra_dejson"); parsed != fields.end() && parsed->is_object()) {
            extra_object = *parsed;
        }
    }
    std::map<std::string, Value, std::less<>> attributes{
        {"conn_id", Value(std::string(conn_id))},
        {"conn_type", text("conn_type")},
        {"description", text("description")},
        {"host", text("host")},
        {"login", text("login")},
        {"password", text("password")},
        {"schema", text("schema")},
        {"port", text("port")},
        {"extra", extra_text},
        {"extra_dejson", Value::from_json(extra_object)},
    };
    return record("Connection", std::string(conn_id), std::move(attributes));
}

Lookup connection_lookup(const RunInfo& run) {
    auto connection = run.connection;
    return [connection](std::string_view conn_id) -> std::optional<Value> {
        if (!connection) return std::nullopt;
        std::optional<nlohmann::json> fields = connection(conn_id);
        if (!fields) return std::nullopt;
        return connection_value(conn_id, *fields);
    };
}

// ti.xcom_pull(task_ids, dag_id, key='return_value', ..., default=None): mayaflow keeps each task's
// return value, so other keys find nothing.
Value xcom_pull(const Lookup& results, const CallArgs& args) {
    Arguments a("xcom_pull", args, {"task_ids", "dag_id", "key", "include_prior_dates", "map_indexes", "default", "run_id"});
    Value fallback = a.get(5, Value());
    std::string key = a.has(2) && !a[2].is_none() ? a[2].str() : "return_value";
    auto pull = [&](const Value& task_id) -> Value {
        if (key != "return_value") return fallback;
        std::optional<Value> found = results(task_id.str());
        return found ? *found : fallback;
    };
    if (!a.has(0) || a[0].is_none()) return fallback;
    if (a[0].is_list()) {
        std::vector<Value> values;
        for (const Value& task_id : a[0].items()) values.push_back(pull(task_id));
        return Value::list(std::move(values));
    }
    return pull(a[0]);
}

Value task_instance(const RunInfo& run) {
    auto task_result = run.task_result;
    Lookup results = [task_result](std::string_view task_id) -> std::optional<Value> {
        if (!task_result) return std::nullopt;
        std::optional<nlohmann::json> value = task_result(task_id);
        if (!value) return std::nullopt;
        return Value::from_json(*value);
    };
    std::map<std::string, Value, std::less<>> attributes{
        {"task_id", Value(run.task_id)},
        {"dag_id", Value(run.dag_id)},
        {"run_id", Value(run.run_id)},
        {"try_number", Value(run.try_number)},
        {"map_index", Value(-1)},
        {"xcom_pull", Value::object(std::make_shared<LookupMethod>(results, xcom_pull))},
    };
    return record("TaskInstance",
                  fmt::format("<TaskInstance: {}.{} {} [running]>", run.dag_id, run.task_id, run.run_id),
                  std::move(attributes));
}

// Airflow's default: the run's conf overrides (and extends) the DAG's params.
Value merged_params(const RunInfo& run) {
    nlohmann::ordered_json params = run.params.is_object() ? nlohmann::ordered_json(run.params) : nlohmann::ordered_json::object();
    if (run.conf.is_object()) {
        for (const auto& [key, value] : run.conf.items()) params[key] = value;
    }
    return Value::from_json(params);
}

}  // namespace

Context make_airflow_context(const RunInfo& run) {
    Context context;
    const TimeZone utc = TimeZone::utc();
    Value logical_date = run.logical_date ? make_pendulum(*run.logical_date, utc) : Value();
    Value conf = Value::from_json(run.conf.is_object() ? run.conf : nlohmann::json::object());

    context.set("logical_date", logical_date);
    context.set("data_interval_start", make_pendulum(run.data_interval_start, utc));
    context.set("data_interval_end", make_pendulum(run.data_interval_end, utc));
    context.set("start_date", make_pendulum(run.start_date, utc));
    auto optional_date = [&](const std::optional<Instant>& instant) {
        return instant ? make_pendulum(*instant, utc) : Value();
    };
    context.set("prev_data_interval_start_success", optional_date(run.prev_data_interval_start_success));
    context.set("prev_data_interval_end_success", optional_date(run.prev_data_interval_end_success));
    context.set("prev_start_date_success", optional_date(run.prev_start_date_success));
    context.set("prev_end_date_success", optional_date(run.prev_end_date_success));
    if (run.logical_date) {
        const DateTime& date = logical_date.as_datetime();
        std::string ds = datetime_strftime(date, "%Y-%m-%d");
        std::string ds_nodash = datetime_strftime(date, "%Y%m%d");
        std::string ts = datetime_isoformat(date);
        context.set("ds", Value(ds));
        context.set("ds_nodash", Value(ds_nodash));
        context.set("ts", Value(ts));
        context.set("ts_nodash", Value(datetime_strftime(date, "%Y%m%dT%H%M%S")));
        context.set("ts_nodash_with_tz", Value(py::replace(py::replace(ts, "-", ""), ":", "")));
        context.set("task_instance_key_str", Value(fmt::format("{}__{}__{}", run.dag_id, run.task_id, ds_nodash)));
    }
    context.set("run_id", Value(run.run_id));
    context.set("params", merged_params(run));
    context.set("test_mode", Value(false));
    context.set("macros", make_airflow_macros());
    context.set("inlets", Value::list({}));
    context.set("outlets", Value::list({}));

    context.set("dag", record("DAG", fmt::format("<DAG: {}>", run.dag_id),
                              {{"dag_id", Value(run.dag_id)}, {"timezone", make_timezone_object(run.dag_timezone)}}));
    context.set("task", record("Operator", fmt::format("<Task: {}>", run.task_id),
                               {{"task_id", Value(run.task_id)}, {"dag_id", Value(run.dag_id)}}));
    context.set("dag_run", record("DagRun", fmt::format("<DagRun {} @ {}: {}>", run.dag_id, logical_date.str(), run.run_id),
                                  {{"dag_id", Value(run.dag_id)},
                                   {"run_id", Value(run.run_id)},
                                   {"run_type", Value(run.run_type)},
                                   {"conf", conf},
                                   {"logical_date", logical_date},
                                   {"data_interval_start", make_pendulum(run.data_interval_start, utc)},
                                   {"data_interval_end", make_pendulum(run.data_interval_end, utc)},
                                   {"start_date", make_pendulum(run.start_date, utc)},
                                   {"external_trigger", Value(run.run_type == "manual")}}));
    Value ti = task_instance(run);
    context.set("ti", ti);
    context.set("task_instance", ti);

    auto var = record("VariableAccessor", "<var>",
                      {{"value", Value::object(std::make_shared<Accessor>("VariableAccessor", variable_lookup(run, false),
                                                                          "variable '{}' does not exist"))},
                       {"json", Value::object(std::make_shared<Accessor>("VariableAccessor", variable_lookup(run, true),
                                                                         "variable '{}' does not exist"))}});
    context.set("var", var);
    context.set("conn", Value::object(std::make_shared<Accessor>("ConnectionAccessor", connection_lookup(run),
                                                                  "connection '{}' is not defined")));

    if (run.loop_vars.is_object()) {
        for (const auto& [name, value] : run.loop_vars.items()) context.set(name, Value::from_json(value));
    }
    return context;
}

}  // namespace mayaflow::tmpl
