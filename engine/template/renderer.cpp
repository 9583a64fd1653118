// Statement execution: the part of Renderer that produces output and manages scopes.

#include "engine/template/renderer.h"

#include <fmt/format.h>

#include "engine/template/args.h"
#include "engine/template/error.h"
#include "engine/template/operators.h"
#include "engine/template/pystr.h"

namespace mayaflow::tmpl {

namespace {

// Jinja's LoopContext: `loop.index`, `loop.last`, `loop.cycle(...)` inside {% for %}.
class LoopContext : public Object, public std::enable_shared_from_this<LoopContext> {
  public:
    explicit LoopContext(std::vector<Value> items) : items_(std::move(items)) {}

    void set_index(std::size_t index) const { index_ = index; }

    std::string type_name() const override { return "LoopContext"; }
    std::string repr() const override { return fmt::format("<LoopContext {}/{}>", index_ + 1, items_.size()); }

    std::optional<Value> attribute(std::string_view name) const override {
        auto n = static_cast<std::int64_t>(items_.size());
        auto i = static_cast<std::int64_t>(index_);
        if (name == "index") return Value(i + 1);
        if (name == "index0") return Value(i);
        if (name == "revindex") return Value(n - i);
        if (name == "revindex0") return Value(n - i - 1);
        if (name == "first") return Value(i == 0);
        if (name == "last") return Value(i == n - 1);
        if (name == "length") return Value(n);
        if (name == "depth") return Value(1);
        if (name == "depth0") return Value(0);
        if (name == "previtem") {
            if (i == 0) return Value::undefined("there is no previous item");
            return items_[index_ - 1];
        }
        if (name == "nextitem") {
            if (i + 1 >= n) return Value::undefined("there is no next item");
            return items_[index_ + 1];
        }
        if (name == "cycle") return method(Method::cycle);
        if (name == "changed") return method(Method::changed);
        return std::nullopt;
    }

  private:
    enum class Method { cycle, changed };

    class Bound : public Object {
      public:
        Bound(std::shared_ptr<const LoopContext> loop, Method method) : loop_(std::move(loop)), method_(method) {}
        std::string type_name() const override { return "method"; }
        bool callable() const override { return true; }
        Value call(const CallArgs& args) const override {
            if (!args.keyword.empty()) throw_runtime("loop.{}() takes no keyword arguments", method_ == Method::cycle ? "cycle" : "changed");
            if (method_ == Method::cycle) {
                if (args.positional.empty()) throw_runtime("no items for cycling given");
                return args.positional[loop_->index_ % args.positional.size()];
            }
            Value current = Value::tuple(args.positional);
            if (loop_->has_last_changed_ && equals(loop_->last_changed_, current)) return Value(false);
            loop_->last_changed_ = current;
            loop_->has_last_changed_ = true;
            return Value(true);
        }

      private:
        std::shared_ptr<const LoopContext> loop_;
        Method method_;
    };

    Value method(Method which) const { return Value::object(std::make_shared<Bound>(shared_from_this(), which)); }

    std::vector<Value> items_;
    mutable std::size_t index_ = 0;
    mutable Value last_changed_;
    mutable bool has_last_changed_ = false;
};

}  // namespace

// Opens a scope whose variables vanish when it closes, as Jinja's loop and block frames do.
class Renderer::ScopeGuard {
  public:
    explicit ScopeGuard(Renderer& renderer) : renderer_(renderer), saved_(renderer.scope_) {
        scope_.parent = saved_;
        renderer_.scope_ = &scope_;
    }
    ~ScopeGuard() { renderer_.scope_ = saved_; }
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;

  private:
    Renderer& renderer_;
    Scope* saved_;
    Scope scope_;
};

std::string Renderer::render() {
    WorkMeter::Install meter(*this);
    std::string out;
    exec_body(parsed_.body, out);
    return out;
}

void Renderer::exec_body(const Body& body, std::string& out) {
    for (const auto& stmt : body) {
        try {
            exec(*stmt, out);
        } catch (TemplateError& error) {
            error.set_offset_if_unknown(stmt->offset);
            throw;
        }
    }
}

void Renderer::print(const Value& value, std::string& out) {
    value.append_str(out);
    if (out.size() > kMaxOutputBytes) throw_runtime("the output is too large (the limit is {} MiB)", kMaxOutputBytes >> 20);
}

void Renderer::exec(const Stmt& stmt, std::string& out) {
    switch (stmt.kind) {
        case StmtKind::text:
            out += stmt.text;
            if (out.size() > kMaxOutputBytes) {
                throw_runtime("the output is too large (the limit is {} MiB)", kMaxOutputBytes >> 20);
            }
            return;
        case StmtKind::print: print(eval(*stmt.expr), out); return;
        case StmtKind::if_block: exec_if(stmt, out); return;
        case StmtKind::for_loop: exec_for(stmt, out); return;
        case StmtKind::set: assign(stmt.target, eval(*stmt.expr)); return;
        case StmtKind::set_block: exec_set_block(stmt); return;
        case StmtKind::with_block: exec_with(stmt, out); return;
        case StmtKind::filter_block: exec_filter_block(stmt, out); return;
        case StmtKind::do_expr: (void)eval(*stmt.expr); return;
    }
}

void Renderer::exec_if(const Stmt& stmt, std::string& out) {
    for (const auto& branch : stmt.branches) {
        if (eval(*branch.test).truthy()) {
            exec_body(branch.body, out);
            return;
        }
    }
    exec_body(stmt.else_body, out);
}

void Renderer::exec_for(const Stmt& stmt, std::string& out) {
    std::vector<Value> items = iterate(eval(*stmt.expr));
    charge(items.size());
    if (stmt.loop_filter) {
        std::vector<Value> kept;
        for (Value& item : items) {
            charge(1);
            ScopeGuard scope(*this);
            assign(stmt.target, item);
            if (eval(*stmt.loop_filter).truthy()) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    if (items.empty()) {
        ScopeGuard scope(*this);
        exec_body(stmt.else_body, out);
        return;
    }
    auto loop = std::make_shared<LoopContext>(items);
    Value loop_value = Value::object(loop);
    for (std::size_t i = 0; i < items.size(); ++i) {
        charge(1);
        ScopeGuard scope(*this);
        loop->set_index(i);
        assign(stmt.target, items[i]);
        set_variable("loop", loop_value);
        exec_body(stmt.body, out);
    }
}

void Renderer::exec_with(const Stmt& stmt, std::string& out) {
    std::vector<Value> values;
    values.reserve(stmt.assignments.size());
    for (const auto& [target, expr] : stmt.assignments) values.push_back(eval(*expr));
    ScopeGuard scope(*this);
    for (std::size_t i = 0; i < values.size(); ++i) assign(stmt.assignments[i].first, values[i]);
    exec_body(stmt.body, out);
}

void Renderer::exec_filter_block(const Stmt& stmt, std::string& out) {
    std::string body;
    {
        ScopeGuard scope(*this);
        exec_body(stmt.body, body);
    }
    Value value(std::move(body));
    for (const auto& filter : stmt.filters) value = eval_filter(*filter, std::move(value));
    print(value, out);
}

void Renderer::exec_set_block(const Stmt& stmt) {
    std::string body;
    {
        ScopeGuard scope(*this);
        exec_body(stmt.body, body);
    }
    Value value(std::move(body));
    for (const auto& filter : stmt.filters) value = eval_filter(*filter, std::move(value));
    assign(stmt.target, value);
}

void Renderer::set_variable(const std::string& name, Value value) {
    scope_->vars.insert_or_assign(name, std::move(value));
}

void Renderer::assign(const Target& target, const Value& value) {
    switch (target.kind) {
        case Target::Kind::name: set_variable(target.name, value); return;
        case Target::Kind::tuple: {
            if (value.is_undefined()) value.fail_undefined();
            if (!value.is_list() && !value.is_dict() && !value.is_string()) {
                throw_runtime("cannot unpack non-iterable {} object", value.type_name());
            }
            std::vector<Value> items = iterate(value);
            if (items.size() < target.items.size()) {
                throw_runtime("not enough values to unpack (expected {}, got {})", target.items.size(), items.size());
            }
            if (items.size() > target.items.size()) {
                throw_runtime("too many values to unpack (expected {})", target.items.size());
            }
            for (std::size_t i = 0; i < items.size(); ++i) assign(target.items[i], items[i]);
            return;
        }
        case Target::Kind::namespace_attribute: {
            Value ns = lookup(target.name);
            bool accepted = ns.kind() == Value::Kind::object && ns.as_object().set_attribute(target.attribute, value);
            if (!accepted) throw_runtime("cannot assign attribute on non-namespace object");
            return;
        }
    }
}

}  // namespace mayaflow::tmpl
