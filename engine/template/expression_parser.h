#pragma once
// ExpressionParser reads Jinja expressions with Jinja's grammar and precedence, quirks included:
// `~` binds tighter than `+`, `**` is left-associative and binds looser than unary minus
// (`-2 ** 2` is 4), and a filter or test applies to the operand just before it (`-x | abs`).

#include <initializer_list>
#include <string_view>
#include <vector>

#include "engine/template/ast.h"
#include "engine/template/token_stream.h"

namespace mayaflow::tmpl {

class ExpressionParser {
  public:
    explicit ExpressionParser(TokenStream& stream) : stream_(stream) {}

    // What parse_tuple reads between commas: whole expressions, expressions without `a if b else c`,
    // or only names and literals.
    enum class TupleMode { full, no_condexpr, primaries };

    ExprPtr parse_expression(bool with_condexpr = true);
    // One expression, or a tuple when commas separate several; stops before `end_names`.
    ExprPtr parse_tuple(TupleMode mode, std::initializer_list<std::string_view> end_names = {},
                        bool explicit_parens = false);
    // After '|': a filter name and its arguments, applied to `input` (null in filter blocks).
    ExprPtr parse_filter_call(ExprPtr input);
    // Several expressions printed one after another ({% print a, b %}).
    ExprPtr concatenation(std::vector<ExprPtr> parts, std::size_t offset);

  private:
    ExprPtr node(ExprKind kind, std::size_t offset) const;
    ExprPtr finish(ExprPtr expr) const;
    ExprPtr binary_node(ExprKind kind, std::size_t offset, ExprPtr left, ExprPtr right) const;

    ExprPtr parse_condexpr();
    ExprPtr parse_or();
    ExprPtr parse_and();
    ExprPtr parse_not();
    ExprPtr parse_compare();
    ExprPtr parse_binary_chain(ExprPtr (ExpressionParser::*next)(), std::initializer_list<std::pair<Op, BinaryOp>> ops);
    ExprPtr parse_math1();
    ExprPtr parse_concat();
    ExprPtr parse_math2();
    ExprPtr parse_pow();
    ExprPtr parse_unary_filtered();
    ExprPtr parse_unary(bool with_filter);
    ExprPtr parse_primary();
    ExprPtr parse_list();
    ExprPtr parse_dict();
    ExprPtr parse_postfix(ExprPtr expr);
    ExprPtr parse_filter_expr(ExprPtr expr);
    ExprPtr parse_subscript(ExprPtr target);
    ExprPtr parse_subscribed();
    void parse_call_args(ArgsNode& args);
    ExprPtr parse_call(ExprPtr callee);
    std::string parse_dotted_name();
    ExprPtr parse_test(ExprPtr input);

    TokenStream& stream_;
};

}  // namespace mayaflow::tmpl
