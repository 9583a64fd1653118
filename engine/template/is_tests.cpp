// Jinja's tests, used as `x is defined`, `x is divisibleby 3`, `xs | select('odd')`.

#include "engine/template/args.h"
#include "engine/template/builtins.h"
#include "engine/template/error.h"
#include "engine/template/operators.h"
#include "engine/template/pystr.h"
#include "engine/template/renderer.h"

namespace mayaflow::tmpl {

namespace {

bool defined(Renderer&, const Value& v, const CallArgs&) { return !v.is_undefined(); }
bool undefined(Renderer&, const Value& v, const CallArgs&) { return v.is_undefined(); }
bool none(Renderer&, const Value& v, const CallArgs&) { return v.is_none(); }
bool boolean(Renderer&, const Value& v, const CallArgs&) { return v.kind() == Value::Kind::boolean; }
bool is_true(Renderer&, const Value& v, const CallArgs&) { return v.kind() == Value::Kind::boolean && v.as_bool(); }
bool is_false(Renderer&, const Value& v, const CallArgs&) { return v.kind() == Value::Kind::boolean && !v.as_bool(); }
bool integer(Renderer&, const Value& v, const CallArgs&) { return v.kind() == Value::Kind::integer; }
bool floating(Renderer&, const Value& v, const CallArgs&) { return v.kind() == Value::Kind::floating; }
bool number(Renderer&, const Value& v, const CallArgs&) { return v.is_number(); }
bool string(Renderer&, const Value& v, const CallArgs&) { return v.is_string(); }
bool mapping(Renderer&, const Value& v, const CallArgs&) { return v.is_dict(); }

bool sequence(Renderer&, const Value& v, const CallArgs&) {
    if (v.is_string() || v.is_dict()) return true;
    if (!v.is_list()) return false;
    SequenceKind kind = v.list_data().kind;
    return kind == SequenceKind::list || kind == SequenceKind::tuple;
}

bool iterable(Renderer&, const Value& v, const CallArgs&) {
    if (v.is_undefined()) v.fail_undefined();
    return v.is_string() || v.is_list() || v.is_dict();
}

bool callable(Renderer&, const Value& v, const CallArgs&) {
    if (v.is_undefined()) return true;  // Jinja's Undefined defines __call__ (which fails)
    return v.kind() == Value::Kind::object && v.as_object().callable();
}

bool escaped(Renderer&, const Value&, const CallArgs&) { return false; }

const Value& other(const CallArgs& args, const char* test) {
    Arguments a(test, args, {"other"}, 1);
    return a[0];
}

// `is sameas`: Python's identity. Values are copied freely here, so identity means: the same
// singleton (None, True, False, small ints) or the same shared object.
bool sameas(Renderer&, const Value& v, const CallArgs& args) {
    const Value& o = other(args, "sameas");
    if (v.kind() != o.kind()) return false;
    switch (v.kind()) {
        case Value::Kind::none: return true;
        case Value::Kind::boolean: return v.as_bool() == o.as_bool();
        case Value::Kind::integer: return v.as_int() == o.as_int() && v.as_int() >= -5 && v.as_int() <= 256;
        case Value::Kind::list: return &v.list_data() == &o.list_data();
        case Value::Kind::dict: return &v.dict_data() == &o.dict_data();
        case Value::Kind::object: return v.object_ptr() == o.object_ptr();
        case Value::Kind::string: return &v.as_string() == &o.as_string();
        default: return false;
    }
}

bool modulo_equals(const Value& v, const Value& divisor, std::int64_t expected) {
    return equals(binary_op(BinaryOp::mod, v, divisor), Value(expected));
}

bool odd(Renderer&, const Value& v, const CallArgs& args) {
    expect_no_arguments("odd", args);
    return modulo_equals(v, Value(2), 1);
}

bool even(Renderer&, const Value& v, const CallArgs& args) {
    expect_no_arguments("even", args);
    return modulo_equals(v, Value(2), 0);
}

bool divisibleby(Renderer&, const Value& v, const CallArgs& args) {
    Arguments a("divisibleby", args, {"num"}, 1);
    return modulo_equals(v, a[0], 0);
}

bool lower(Renderer&, const Value& v, const CallArgs& args) {
    expect_no_arguments("lower", args);
    return py::is_lower(v.str());
}

bool upper(Renderer&, const Value& v, const CallArgs& args) {
    expect_no_arguments("upper", args);
    return py::is_upper(v.str());
}

bool in(Renderer&, const Value& v, const CallArgs& args) { return contains(other(args, "in"), v); }
bool eq(Renderer&, const Value& v, const CallArgs& args) { return equals(v, other(args, "eq")); }
bool ne(Renderer&, const Value& v, const CallArgs& args) { return !equals(v, other(args, "ne")); }
bool lt(Renderer&, const Value& v, const CallArgs& args) { return compare(CompareOp::lt, v, other(args, "lt")); }
bool le(Renderer&, const Value& v, const CallArgs& args) { return compare(CompareOp::le, v, other(args, "le")); }
bool gt(Renderer&, const Value& v, const CallArgs& args) { return compare(CompareOp::gt, v, other(args, "gt")); }
bool ge(Renderer&, const Value& v, const CallArgs& args) { return compare(CompareOp::ge, v, other(args, "ge")); }

bool is_filter(Renderer&, const Value& v, const CallArgs& args) {
    expect_no_arguments("filter", args);
    return v.is_string() && find_filter(v.as_string()) != nullptr;
}

bool is_test(Renderer&, const Value& v, const CallArgs& args) {
    expect_no_arguments("test", args);
    return v.is_string() && find_test(v.as_string()) != nullptr;
}

}  // namespace

void add_is_tests(BuiltinTable& table) {
    add_test(table, "defined", defined);
    add_test(table, "undefined", undefined);
    add_test(table, "none", none);
    add_test(table, "boolean", boolean);
    add_test(table, "true", is_true);
    add_test(table, "false", is_false);
    add_test(table, "integer", integer);
    add_test(table, "float", floating);
    add_test(table, "number", number);
    add_test(table, "string", string);
    add_test(table, "mapping", mapping);
    add_test(table, "sequence", sequence);
    add_test(table, "iterable", iterable);
    add_test(table, "callable", callable);
    add_test(table, "escaped", escaped);
    add_test(table, "sameas", sameas);
    add_test(table, "odd", odd);
    add_test(table, "even", even);
    add_test(table, "divisibleby", divisibleby);
    add_test(table, "lower", lower);
    add_test(table, "upper", upper);
    add_test(table, "in", in);
    add_test(table, "filter", is_filter);
    add_test(table, "test", is_test);
    for (const char* name : {"==", "eq", "equalto"}) add_test(table, name, eq);
    for (const char* name : {"!=", "ne"}) add_test(table, name, ne);
    for (const char* name : {"<", "lt", "lessthan"}) add_test(table, name, lt);
    for (const char* name : {"<=", "le"}) add_test(table, name, le);
    for (const char* name : {">", "gt", "greaterthan"}) add_test(table, name, gt);
    for (const char* name : {">=", "ge"}) add_test(table, name, ge);
}

}  // namespace mayaflow::tmpl
