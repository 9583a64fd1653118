#pragma once
// The parsed form of a template: expressions (Expr) and statements (Stmt), as Jinja's parser builds
// them. Every node keeps the byte offset it came from so errors can say where.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/template/builtins.h"
#include "engine/template/value.h"

namespace mayaflow::tmpl {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind : std::uint8_t {
    literal,        // value
    name,           // name
    list_literal,   // children
    tuple_literal,  // children
    dict_literal,   // children: key, value, key, value ...
    getattr,        // children[0].name
    getitem,        // children[0][children[1]]
    slice,          // children: start, stop, step (any may be null)
    call,           // children[0](args)
    filter,         // children[0] | name(args); children[0] is null in filter blocks
    test,           // children[0] is name(args)
    logical_not,    // not children[0]
    negate,         // -children[0]
    plus,           // +children[0]
    binary,         // children[0] op children[1]
    concat,         // children joined with ~
    compare,        // children[0] compare_ops[i] children[i + 1] ...
    logical_and,    // children[0] and children[1]
    logical_or,     // children[0] or children[1]
    conditional,    // children[1] if children[0] else children[2] (children[2] may be null)
};

enum class BinaryOp : std::uint8_t { add, sub, mul, div, floordiv, mod, pow };
enum class CompareOp : std::uint8_t { eq, ne, lt, le, gt, ge, in, not_in };

struct ArgsNode {
    std::vector<ExprPtr> positional;
    std::vector<std::pair<std::string, ExprPtr>> keyword;
};

struct Expr {
    ExprKind kind = ExprKind::literal;
    std::size_t offset = 0;
    int depth = 1;                     // levels of nodes below and including this one
    Value value;                       // literal
    std::string name;                  // name, getattr attribute, filter or test name
    BinaryOp binary_op = BinaryOp::add;
    std::vector<CompareOp> compare_ops;
    std::vector<ExprPtr> children;
    ArgsNode args;                     // call, filter, test
    FilterFn filter = nullptr;         // resolved at parse time; null: unknown (fails when evaluated)
    TestFn test = nullptr;
};

// Where `{% for x in … %}`, `{% set … %}` and `{% with … %}` store values.
struct Target {
    enum class Kind : std::uint8_t { name, tuple, namespace_attribute };
    Kind kind = Kind::name;
    std::size_t offset = 0;
    std::string name;       // name, or the namespace variable
    std::string attribute;  // namespace_attribute
    std::vector<Target> items;
};

enum class StmtKind : std::uint8_t {
    text,          // text
    print,         // {{ expr }}
    if_block,      // branches + else_body
    for_loop,      // target in expr [if loop_filter] body [else else_body]
    set,           // target = expr
    set_block,     // {% set target | filters %} body {% endset %}
    with_block,    // {% with assignments %} body
    filter_block,  // {% filter filters %} body
    do_expr,       // {% do expr %}
};

struct IfBranch {
    ExprPtr test;
    Body body;
};

struct Stmt {
    StmtKind kind = StmtKind::text;
    std::size_t offset = 0;
    std::string text;
    ExprPtr expr;
    std::vector<IfBranch> branches;
    Body body;
    Body else_body;
    Target target;
    ExprPtr loop_filter;
    std::vector<std::pair<Target, ExprPtr>> assignments;
    // Filter chains of filter blocks and set blocks: filter Exprs whose input is the rendered body,
    // applied first to last.
    std::vector<ExprPtr> filters;
};

}  // namespace mayaflow::tmpl
