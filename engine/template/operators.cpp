#include "engine/template/operators.h"

#include <cmath>
#include <limits>

#include "engine/template/datetime_value.h"
#include "engine/template/error.h"
#include "engine/template/pyformat.h"
#include "engine/template/pystr.h"
#include "engine/template/unicode.h"

namespace mayaflow::tmpl {

namespace {

const char* op_symbol(BinaryOp op) {
    switch (op) {
        case BinaryOp::add: return "+";
        case BinaryOp::sub: return "-";
        case BinaryOp::mul: return "*";
        case BinaryOp::div: return "/";
        case BinaryOp::floordiv: return "//";
        case BinaryOp::mod: return "%";
        case BinaryOp::pow: return "** or pow()";
    }
    return "?";
}

[[noreturn]] void unsupported(BinaryOp op, const Value& left, const Value& right) {
    throw_runtime("unsupported operand type(s) for {}: '{}' and '{}'", op_symbol(op), left.type_name(),
                  right.type_name());
}

[[noreturn]] void overflow() { throw_runtime("integer overflow: the result does not fit in 64 bits"); }

std::int64_t int_pow(std::int64_t base, std::int64_t exponent) {
    std::int64_t result = 1;
    while (exponent > 0) {
        if (exponent & 1) {
            if (__builtin_mul_overflow(result, base, &result)) overflow();
        }
        exponent >>= 1;
        if (exponent > 0 && __builtin_mul_overflow(base, base, &base)) overflow();
    }
    return result;
}

Value int_arithmetic(BinaryOp op, std::int64_t a, std::int64_t b) {
    std::int64_t result = 0;
    switch (op) {
        case BinaryOp::add:
            if (__builtin_add_overflow(a, b, &result)) overflow();
            return Value(result);
        case BinaryOp::sub:
            if (__builtin_sub_overflow(a, b, &result)) overflow();
            return Value(result);
        case BinaryOp::mul:
            if (__builtin_mul_overflow(a, b, &result)) overflow();
            return Value(result);
        case BinaryOp::div:
            if (b == 0) throw_runtime("division by zero");
            return Value(static_cast<double>(a) / static_cast<double>(b));
        case BinaryOp::floordiv: {
            if (b == 0) throw_runtime("integer division or modulo by zero");
            if (a == std::numeric_limits<std::int64_t>::min() && b == -1) overflow();
            std::int64_t quotient = a / b;
            if ((a % b != 0) && ((a < 0) != (b < 0))) --quotient;
            return Value(quotient);
        }
        case BinaryOp::mod: {
            if (b == 0) throw_runtime("integer modulo by zero");
            if (b == -1) return Value(std::int64_t{0});
            std::int64_t remainder = a % b;
            if (remainder != 0 && ((remainder < 0) != (b < 0))) remainder += b;
            return Value(remainder);
        }
        case BinaryOp::pow:
            if (b < 0) {
                if (a == 0) throw_runtime("0.0 cannot be raised to a negative power");
                return Value(std::pow(static_cast<double>(a), static_cast<double>(b)));
            }
            return Value(int_pow(a, b));
    }
    return Value();
}

// Python's float_divmod, which float // and % share.
std::pair<double, double> float_divmod(double a, double b) {
    double mod = std::fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0.0) {
        if ((b < 0) != (mod < 0)) {
            mod += b;
            div -= 1.0;
        }
    } else {
        mod = std::copysign(0.0, b);
    }
    double floordiv = 0.0;
    if (div != 0.0) {
        floordiv = std::floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
    } else {
        floordiv = std::copysign(0.0, a / b);
    }
    return {floordiv, mod};
}

Value float_arithmetic(BinaryOp op, double a, double b) {
    switch (op) {
        case BinaryOp::add: return Value(a + b);
        case BinaryOp::sub: return Value(a - b);
        case BinaryOp::mul: return Value(a * b);
        case BinaryOp::div:
            if (b == 0.0) throw_runtime("float division by zero");
            return Value(a / b);
        case BinaryOp::floordiv:
            if (b == 0.0) throw_runtime("float floor division by zero");
            return Value(float_divmod(a, b).first);
        case BinaryOp::mod:
            if (b == 0.0) throw_runtime("float modulo");
            return Value(float_divmod(a, b).second);
        case BinaryOp::pow: {
            if (a == 0.0 && b < 0.0) throw_runtime("0.0 cannot be raised to a negative power");
            if (a < 0.0 && std::isfinite(b) && b != std::floor(b)) {
                throw_runtime("a negative number raised to a fractional power is a complex number, "
                              "which templates do not support");
            }
            double result = std::pow(a, b);
            if (std::isinf(result) && std::isfinite(a) && std::isfinite(b)) throw_runtime("numerical result out of range");
            return Value(result);
        }
    }
    return Value();
}

Value repeat_sequence(const Value& sequence, std::int64_t times) {
    if (sequence.is_string()) {
        check_repeated_size(sequence.as_string().size(), times);
        return Value(py::repeat(sequence.as_string(), times));
    }
    const auto& items = sequence.items();
    std::vector<Value> out;
    if (times > 0 && !items.empty()) {
        if (static_cast<std::uint64_t>(times) > kMaxListItems / items.size()) check_list_size(kMaxListItems + 1);
        out.reserve(items.size() * static_cast<std::size_t>(times));
        for (std::int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
    }
    return Value::list(std::move(out), sequence.list_data().kind);
}

bool is_repeatable(const Value& value) {
    return value.is_string() || value.is_sequence_kind(SequenceKind::list) ||
           value.is_sequence_kind(SequenceKind::tuple);
}

int compare_sequences(const std::vector<Value>& a, const std::vector<Value>& b) {
    std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (equals(a[i], b[i])) continue;
        return less_than(a[i], b[i]) ? -1 : 1;
    }
    if (a.size() == b.size()) return 0;
    return a.size() < b.size() ? -1 : 1;
}

[[noreturn]] void unorderable(const char* op, const Value& left, const Value& right) {
    throw_runtime("'{}' not supported between instances of '{}' and '{}'", op, left.type_name(), right.type_name());
}

// -1, 0 or 1 for values Python can order; throws for others.
int order(const char* op, const Value& left, const Value& right) {
    if (left.is_undefined()) left.fail_undefined();
    if (right.is_undefined()) right.fail_undefined();
    if (left.is_number() && right.is_number()) {
        if (left.kind() == Value::Kind::floating || right.kind() == Value::Kind::floating) {
            double a = left.as_double();
            double b = right.as_double();
            if (std::isnan(a) || std::isnan(b)) return 2;  // every comparison with nan is false
            return a < b ? -1 : (a > b ? 1 : 0);
        }
        std::int64_t a = left.as_int();
        std::int64_t b = right.as_int();
        return a < b ? -1 : (a > b ? 1 : 0);
    }
    if (left.is_string() && right.is_string()) {
        int c = left.as_string().compare(right.as_string());  // UTF-8 byte order is code point order
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (left.is_list() && right.is_list() && left.list_data().kind == right.list_data().kind &&
        (left.list_data().kind == SequenceKind::list || left.list_data().kind == SequenceKind::tuple)) {
        return compare_sequences(left.items(), right.items());
    }
    if (left.kind() == Value::Kind::datetime && right.kind() == Value::Kind::datetime) {
        return compare_datetimes(left.as_datetime(), right.as_datetime());
    }
    if (left.kind() == Value::Kind::timedelta && right.kind() == Value::Kind::timedelta) {
        auto a = left.as_timedelta();
        auto b = right.as_timedelta();
        return a < b ? -1 : (a > b ? 1 : 0);
    }
    unorderable(op, left, right);
}

}  // namespace

Value binary_op(BinaryOp op, const Value& left, const Value& right) {
    if (left.is_undefined()) left.fail_undefined();
    if (right.is_undefined()) right.fail_undefined();
    if (left.is_number() && right.is_number()) {
        if (left.is_integral() && right.is_integral()) return int_arithmetic(op, left.as_int(), right.as_int());
        return float_arithmetic(op, left.as_double(), right.as_double());
    }
    if (auto result = datetime_binary_op(op, left, right)) return *result;
    switch (op) {
        case BinaryOp::add:
            if (left.is_string() && right.is_string()) {
                check_string_size(left.as_string().size() + right.as_string().size());
                return Value(left.as_string() + right.as_string());
            }
            if (left.is_list() && right.is_list()) {
                SequenceKind kind = left.list_data().kind;
                if ((kind == SequenceKind::list || kind == SequenceKind::tuple) && right.list_data().kind == kind) {
                    check_list_size(left.items().size() + right.items().size());
                    std::vector<Value> items = left.items();
                    items.insert(items.end(), right.items().begin(), right.items().end());
                    return Value::list(std::move(items), kind);
                }
            }
            if (left.is_string() || left.is_list()) {
                throw_runtime("can only concatenate {} (not \"{}\") to {}", left.type_name(), right.type_name(),
                              left.type_name());
            }
            break;
        case BinaryOp::mul:
            if (is_repeatable(left) && right.is_integral()) return repeat_sequence(left, right.as_int());
            if (left.is_integral() && is_repeatable(right)) return repeat_sequence(right, left.as_int());
            if (is_repeatable(left) || is_repeatable(right)) {
                throw_runtime("can't multiply sequence by non-int of type '{}'",
                              is_repeatable(left) ? right.type_name() : left.type_name());
            }
            break;
        case BinaryOp::mod:
            if (left.is_string()) return Value(percent_format(left.as_string(), right));
            break;
        default: break;
    }
    unsupported(op, left, right);
}

Value negate(const Value& value) {
    if (value.is_undefined()) value.fail_undefined();
    if (value.kind() == Value::Kind::floating) return Value(-value.as_double());
    if (value.is_integral()) {
        std::int64_t i = value.as_int();
        if (i == std::numeric_limits<std::int64_t>::min()) overflow();
        return Value(-i);
    }
    if (value.kind() == Value::Kind::timedelta) return Value::timedelta(-value.as_timedelta());
    throw_runtime("bad operand type for unary -: '{}'", value.type_name());
}

Value unary_plus(const Value& value) {
    if (value.is_undefined()) value.fail_undefined();
    if (value.kind() == Value::Kind::boolean) return Value(value.as_int());
    if (value.is_number() || value.kind() == Value::Kind::timedelta) return value;
    throw_runtime("bad operand type for unary +: '{}'", value.type_name());
}

bool less_than(const Value& left, const Value& right) { return order("<", left, right) == -1; }

bool compare(CompareOp op, const Value& left, const Value& right) {
    switch (op) {
        case CompareOp::eq: return equals(left, right);
        case CompareOp::ne: return !equals(left, right);
        case CompareOp::lt: return order("<", left, right) == -1;
        case CompareOp::le: {
            int c = order("<=", left, right);
            return c == -1 || c == 0;
        }
        case CompareOp::gt: return order(">", left, right) == 1;
        case CompareOp::ge: {
            int c = order(">=", left, right);
            return c == 1 || c == 0;
        }
        case CompareOp::in: return contains(right, left);
        case CompareOp::not_in: return !contains(right, left);
    }
    return false;
}

bool contains(const Value& container, const Value& item) {
    if (container.is_undefined()) container.fail_undefined();
    switch (container.kind()) {
        case Value::Kind::string:
            if (item.is_undefined()) item.fail_undefined();
            if (!item.is_string()) {
                throw_runtime("'in <string>' requires string as left operand, not {}", item.type_name());
            }
            return container.as_string().find(item.as_string()) != std::string::npos;
        case Value::Kind::list:
            if (container.list_data().kind == SequenceKind::dict_keys) {
                (void)hash_key(item);  // unhashable items raise, as for dicts
            }
            for (const Value& element : container.items()) {
                if (equals(item, element)) return true;
            }
            return false;
        case Value::Kind::dict: return container.dict_data().find(item) != nullptr;
        case Value::Kind::object: {
            auto found = container.as_object().item(item);
            return found.has_value();
        }
        default: throw_runtime("argument of type '{}' is not iterable", container.type_name());
    }
}

std::vector<Value> iterate(const Value& iterable) {
    switch (iterable.kind()) {
        case Value::Kind::undefined:
            if (iterable.is_lenient_undefined()) return {};
            iterable.fail_undefined();
        case Value::Kind::list: return iterable.items();
        case Value::Kind::dict: {
            std::vector<Value> keys;
            keys.reserve(iterable.dict_data().size());
            for (const auto& [key, value] : iterable.dict_data().entries()) keys.push_back(key);
            return keys;
        }
        case Value::Kind::string: {
            std::vector<std::string> pieces = py::chars(iterable.as_string());  // refuses too many first
            std::vector<Value> out;
            out.reserve(pieces.size());
            for (auto& piece : pieces) out.emplace_back(std::move(piece));
            return out;
        }
        default: throw_runtime("'{}' object is not iterable", iterable.type_name());
    }
}

std::size_t length_of(const Value& value) {
    switch (value.kind()) {
        case Value::Kind::undefined:
            if (value.is_lenient_undefined()) return 0;
            value.fail_undefined();
        case Value::Kind::string: return unicode::length(value.as_string());
        case Value::Kind::list: return value.items().size();
        case Value::Kind::dict: return value.dict_data().size();
        default: throw_runtime("object of type '{}' has no len()", value.type_name());
    }
}

std::int64_t to_index(const Value& value, std::string_view what) {
    if (value.is_undefined()) value.fail_undefined();
    if (!value.is_integral()) {
        throw_runtime("{} must be an integer, not '{}'", what, value.type_name());
    }
    return value.as_int();
}

}  // namespace mayaflow::tmpl
