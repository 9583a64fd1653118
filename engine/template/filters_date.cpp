// Airflow's date filters (airflow/templates.py): `{{ logical_date | ds }}` and friends format a date
// in its own time zone, so `logical_date.in_timezone('Asia/Tokyo') | ds` gives the local date.

#include "engine/template/args.h"
#include "engine/template/builtins.h"
#include "engine/template/datetime_value.h"
#include "engine/template/error.h"
#include "engine/template/pystr.h"
#include "engine/template/renderer.h"

namespace mayaflow::tmpl {

namespace {

const DateTime* date_input(const Value& input, const CallArgs& args, const char* name) {
    expect_no_arguments(name, args);
    if (input.is_undefined()) input.fail_undefined();
    if (input.is_none()) return nullptr;
    if (input.kind() != Value::Kind::datetime) {
        throw_runtime("'{}' object has no attribute '{}'", input.type_name(),
                      std::string_view(name).starts_with("ts") && std::string_view(name) != "ts_nodash" ? "isoformat" : "strftime");
    }
    return &input.as_datetime();
}

Value ds(Renderer&, const Value& input, const CallArgs& args) {
    const DateTime* dt = date_input(input, args, "ds");
    return dt ? Value(datetime_strftime(*dt, "%Y-%m-%d")) : Value();
}

Value ds_nodash(Renderer&, const Value& input, const CallArgs& args) {
    const DateTime* dt = date_input(input, args, "ds_nodash");
    return dt ? Value(datetime_strftime(*dt, "%Y%m%d")) : Value();
}

Value ts(Renderer&, const Value& input, const CallArgs& args) {
    const DateTime* dt = date_input(input, args, "ts");
    return dt ? Value(datetime_isoformat(*dt)) : Value();
}

Value ts_nodash(Renderer&, const Value& input, const CallArgs& args) {
    const DateTime* dt = date_input(input, args, "ts_nodash");
    return dt ? Value(datetime_strftime(*dt, "%Y%m%dT%H%M%S")) : Value();
}

// Airflow removes every '-' and ':' from isoformat(), including the sign of a negative offset.
Value ts_nodash_with_tz(Renderer&, const Value& input, const CallArgs& args) {
    const DateTime* dt = date_input(input, args, "ts_nodash_with_tz");
    if (dt == nullptr) return Value();
    std::string iso = datetime_isoformat(*dt);
    return Value(py::replace(py::replace(iso, "-", ""), ":", ""));
}

}  // namespace

void add_date_filters(BuiltinTable& table) {
    add_filter(table, "ds", ds);
    add_filter(table, "ds_nodash", ds_nodash);
    add_filter(table, "ts", ts);
    add_filter(table, "ts_nodash", ts_nodash);
    add_filter(table, "ts_nodash_with_tz", ts_nodash_with_tz);
}

}  // namespace mayaflow::tmpl
