// Template::context_names: the names a parsed template reads from its context, found by walking its
// statements and expressions once (the loader uses it to warn about Airflow 2 names).

#include <algorithm>
#include <set>

#include "engine/template/lexer.h"
#include "engine/template/parser.h"
#include "engine/template/template.h"

namespace mayaflow::tmpl {

namespace {

class NameCollector {
  public:
    void body(const Body& statements) {
        for (const auto& stmt : statements) statement(*stmt);
    }

    std::vector<NameUse> free_names(const std::string& source) const {
        auto reads = reads_;
        std::stable_sort(reads.begin(), reads.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
        std::vector<NameUse> out;
        std::set<std::string> listed;
        for (const auto& [name, offset] : reads) {
            if (assigned_.count(name) || !listed.insert(name).second) continue;
            SourcePosition at = position_of(source, offset);
            out.push_back(NameUse{name, at.line, at.column});
        }
        return out;
    }

  private:
    void statement(const Stmt& stmt) {
        expression(stmt.expr.get());
        expression(stmt.loop_filter.get());
        for (const auto& branch : stmt.branches) {
            expression(branch.test.get());
            body(branch.body);
        }
        for (const auto& [target, value] : stmt.assignments) {
            assign(target);
            expression(value.get());
        }
        for (const auto& filter : stmt.filters) expression(filter.get());
        switch (stmt.kind) {
            case StmtKind::for_loop:
                assigned_.insert("loop");
                assign(stmt.target);
                break;
            case StmtKind::set:
            case StmtKind::set_block:
                assign(stmt.target);
                break;
            default:
                break;
        }
        body(stmt.body);
        body(stmt.else_body);
    }

    void assign(const Target& target) {
        switch (target.kind) {
            case Target::Kind::name:
                assigned_.insert(target.name);
                return;
            case Target::Kind::tuple:
                for (const auto& item : target.items) assign(item);
                return;
            case Target::Kind::namespace_attribute:  // {% set ns.x = … %} reads ns
                reads_.emplace_back(target.name, target.offset);
                return;
        }
    }

    void expression(const Expr* expr) {
        if (expr == nullptr) return;
        if (expr->kind == ExprKind::name) reads_.emplace_back(expr->name, expr->offset);
        for (const auto& child : expr->children) expression(child.get());
        for (const auto& arg : expr->args.positional) expression(arg.get());
        for (const auto& [name, arg] : expr->args.keyword) expression(arg.get());
    }

    std::vector<std::pair<std::string, std::size_t>> reads_;  // name, offset
    std::set<std::string> assigned_;
};

}  // namespace

std::vector<NameUse> Template::context_names() const {
    NameCollector collector;
    collector.body(parsed_->body);
    return collector.free_names(parsed_->source);
}

}  // namespace mayaflow::tmpl
