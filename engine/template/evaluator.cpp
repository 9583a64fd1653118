// Expression evaluation: the part of Renderer that computes values.

#include <fmt/format.h>

#include "engine/template/builtins.h"
#include "engine/template/error.h"
#include "engine/template/lexer.h"
#include "engine/template/lookup.h"
#include "engine/template/operators.h"
#include "engine/template/pystr.h"
#include "engine/template/renderer.h"
#include "engine/template/template.h"

namespace mayaflow::tmpl {

void Renderer::charge(std::size_t work) {
    work_ += work;
    if (work_ > max_work_) {
        throw_runtime("the template does too much work (more than {} loop iterations and items processed)", max_work_);
    }
}

std::string Renderer::line_of(std::size_t offset) const {
    return std::to_string(position_of(parsed_.source, offset).line);
}

Value Renderer::eval(const Expr& expr) {
    try {
        Value value = eval_node(expr);
        bool builds = expr.kind == ExprKind::binary || expr.kind == ExprKind::concat || expr.kind == ExprKind::filter ||
                      expr.kind == ExprKind::call;
        if (builds) {
            // Text and lists built here cost work in proportion to their size (see kMaxWork).
            if (value.is_string()) charge(value.as_string().size() / 64);
            else if (value.is_list()) charge(value.items().size() / 8);
        }
        return value;
    } catch (TemplateError& error) {
        error.set_offset_if_unknown(expr.offset);
        throw;
    }
}

Value Renderer::lookup(const std::string& name) {
    for (Scope* scope = scope_; scope != nullptr; scope = scope->parent) {
        auto it = scope->vars.find(name);
        if (it != scope->vars.end()) return it->second;
    }
    if (const Value* value = context_.find(name)) return *value;
    if (auto global = find_global(name)) return std::move(*global);
    return Value::undefined(py::repr_string(name) + " is undefined");
}

CallArgs Renderer::eval_args(const ArgsNode& args) {
    CallArgs out;
    out.positional.reserve(args.positional.size());
    for (const auto& arg : args.positional) out.positional.push_back(eval(*arg));
    for (const auto& [name, arg] : args.keyword) out.keyword.emplace_back(name, eval(*arg));
    return out;
}

Value Renderer::call(const Value& callee, const CallArgs& args) {
    if (callee.is_undefined()) callee.fail_undefined();
    if (callee.kind() == Value::Kind::object && callee.as_object().callable()) return callee.as_object().call(args);
    throw_runtime("'{}' object is not callable", callee.type_name());
}

Value Renderer::apply_filter(std::string_view name, const Value& input, const CallArgs& args) {
    FilterFn filter = find_filter(name);
    if (filter == nullptr) throw_runtime("filter '{}' does not exist", name);
    return filter(*this, input, args);
}

bool Renderer::apply_test(std::string_view name, const Value& input, const CallArgs& args) {
    TestFn test = find_test(name);
    if (test == nullptr) throw_runtime("test '{}' does not exist", name);
    return test(*this, input, args);
}

Value Renderer::eval_filter(const Expr& expr, Value input) {
    CallArgs args = eval_args(expr.args);
    if (expr.filter == nullptr) throw_runtime("filter '{}' does not exist", expr.name);
    return expr.filter(*this, input, args);
}

Value Renderer::eval_getitem(const Expr& expr) {
    Value target = eval(*expr.children[0]);
    const Expr& index = *expr.children[1];
    if (index.kind == ExprKind::slice) {
        auto bound = [this](const ExprPtr& part) { return part ? eval(*part) : Value(); };
        Value start = bound(index.children[0]);
        Value stop = bound(index.children[1]);
        Value step = bound(index.children[2]);
        return get_slice(target, start, stop, step);
    }
    return get_item(target, eval(index));
}

Value Renderer::eval_compare(const Expr& expr) {
    Value left = eval(*expr.children[0]);
    for (std::size_t i = 0; i < expr.compare_ops.size(); ++i) {
        Value right = eval(*expr.children[i + 1]);
        if (!compare(expr.compare_ops[i], left, right)) return Value(false);
        left = std::move(right);
    }
    return Value(true);
}

Value Renderer::eval_concat(const Expr& expr) {
    std::string out;
    for (const auto& child : expr.children) {
        eval(*child).append_str(out);
        check_string_size(out.size());
    }
    return Value(std::move(out));
}

Value Renderer::eval_dict(const Expr& expr) {
    auto dict = std::make_shared<DictData>();
    for (std::size_t i = 0; i + 1 < expr.children.size(); i += 2) {
        Value key = eval(*expr.children[i]);
        Value value = eval(*expr.children[i + 1]);
        dict->set(std::move(key), std::move(value));
    }
    return Value::dict(std::move(dict));
}

Value Renderer::eval_node(const Expr& expr) {
    switch (expr.kind) {
        case ExprKind::literal: return expr.value;
        case ExprKind::name: return lookup(expr.name);
        case ExprKind::list_literal:
        case ExprKind::tuple_literal: {
            std::vector<Value> items;
            items.reserve(expr.children.size());
            for (const auto& child : expr.children) items.push_back(eval(*child));
            return Value::list(std::move(items),
                               expr.kind == ExprKind::tuple_literal ? SequenceKind::tuple : SequenceKind::list);
        }
        case ExprKind::dict_literal: return eval_dict(expr);
        case ExprKind::getattr: return get_attribute(eval(*expr.children[0]), expr.name);
        case ExprKind::getitem: return eval_getitem(expr);
        case ExprKind::slice: throw_runtime("a slice can only be used inside [ ]");
        case ExprKind::call: {
            Value callee = eval(*expr.children[0]);
            return call(callee, eval_args(expr.args));
        }
        case ExprKind::filter: {
            Value input = eval(*expr.children[0]);
            return eval_filter(expr, std::move(input));
        }
        case ExprKind::test: {
            Value input = eval(*expr.children[0]);
            CallArgs args = eval_args(expr.args);
            if (expr.test == nullptr) throw_runtime("test '{}' does not exist", expr.name);
            return Value(expr.test(*this, input, args));
        }
        case ExprKind::logical_not: return Value(!eval(*expr.children[0]).truthy());
        case ExprKind::negate: return negate(eval(*expr.children[0]));
        case ExprKind::plus: return unary_plus(eval(*expr.children[0]));
        case ExprKind::binary: {
            Value left = eval(*expr.children[0]);
            Value right = eval(*expr.children[1]);
            return binary_op(expr.binary_op, left, right);
        }
        case ExprKind::concat: return eval_concat(expr);
        case ExprKind::compare: return eval_compare(expr);
        case ExprKind::logical_and: {
            Value left = eval(*expr.children[0]);
            if (!left.truthy()) return left;
            return eval(*expr.children[1]);
        }
        case ExprKind::logical_or: {
            Value left = eval(*expr.children[0]);
            if (left.truthy()) return left;
            return eval(*expr.children[1]);
        }
        case ExprKind::conditional: {
            if (eval(*expr.children[0]).truthy()) return eval(*expr.children[1]);
            if (expr.children[2]) return eval(*expr.children[2]);
            return Value::lenient_undefined(fmt::format(
                "the inline if-expression on line {} evaluated to false and no else section was defined.",
                line_of(expr.offset)));
        }
    }
    return Value();
}

}  // namespace mayaflow::tmpl
