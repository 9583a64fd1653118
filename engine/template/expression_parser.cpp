#include "engine/template/expression_parser.h"

#include <algorithm>
#include <optional>

namespace mayaflow::tmpl {

namespace {

std::optional<CompareOp> compare_op(const TokenStream& stream) {
    if (stream.current().type == TokenType::op) {
        switch (stream.current().op) {
            case Op::eq: return CompareOp::eq;
            case Op::ne: return CompareOp::ne;
            case Op::lt: return CompareOp::lt;
            case Op::lteq: return CompareOp::le;
            case Op::gt: return CompareOp::gt;
            case Op::gteq: return CompareOp::ge;
            default: return std::nullopt;
        }
    }
    if (stream.at_name("in")) return CompareOp::in;
    if (stream.at_name("not") && stream.peek().type == TokenType::name && stream.peek().text == "in") return CompareOp::not_in;
    return std::nullopt;
}

}  // namespace

ExprPtr ExpressionParser::node(ExprKind kind, std::size_t offset) const {
    auto expr = std::make_unique<Expr>();
    expr->kind = kind;
    expr->offset = offset;
    return expr;
}

// Computes the node's depth from its children and rejects over-deep expressions, so evaluating (and
// destroying) any parsed expression stays within a bounded recursion depth.
ExprPtr ExpressionParser::finish(ExprPtr expr) const {
    int deepest = 0;
    auto consider = [&deepest](const ExprPtr& child) {
        if (child) deepest = std::max(deepest, child->depth);
    };
    for (const auto& child : expr->children) consider(child);
    for (const auto& arg : expr->args.positional) consider(arg);
    for (const auto& [name, arg] : expr->args.keyword) consider(arg);
    expr->depth = deepest + 1;
    if (expr->depth > kMaxNesting) {
        stream_.fail_at(expr->offset, "expression nested too deeply (the limit is {} levels)", kMaxNesting);
    }
    return expr;
}

ExprPtr ExpressionParser::concatenation(std::vector<ExprPtr> parts, std::size_t offset) {
    if (parts.size() == 1) return std::move(parts.front());
    auto concat = node(ExprKind::concat, offset);
    concat->children = std::move(parts);
    return finish(std::move(concat));
}

ExprPtr ExpressionParser::parse_tuple(TupleMode mode, std::initializer_list<std::string_view> end_names, bool explicit_parens) {
    std::size_t offset = stream_.current().offset;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
        if (!items.empty()) stream_.expect_op(Op::comma);
        if (stream_.current().type == TokenType::variable_end || stream_.current().type == TokenType::block_end ||
            stream_.at_op(Op::rparen) || stream_.at_any_name(end_names)) {
            break;
        }
        if (mode == TupleMode::primaries) {
            items.push_back(parse_primary());
        } else {
            items.push_back(parse_expression(mode == TupleMode::full));
        }
        if (stream_.at_op(Op::comma)) {
            is_tuple = true;
        } else {
            break;
        }
    }
    if (!is_tuple) {
        if (!items.empty()) return std::move(items.front());
        if (!explicit_parens) stream_.fail_expected("an expression");
    }
    auto tuple = node(ExprKind::tuple_literal, offset);
    tuple->children = std::move(items);
    return finish(std::move(tuple));
}

ExprPtr ExpressionParser::parse_expression(bool with_condexpr) {
    if (with_condexpr) return parse_condexpr();
    return parse_or();
}

ExprPtr ExpressionParser::parse_condexpr() {
    std::size_t offset = stream_.current().offset;
    std::size_t unknown_before = stream_.unknown_count();
    ExprPtr expr = parse_or();
    while (stream_.at_name("if")) {
        TokenStream::SoftScope soft(stream_, true);
        stream_.forget_unknown_since(unknown_before);  // the first branch turned out to be conditional
        stream_.advance();
        auto cond = node(ExprKind::conditional, offset);
        ExprPtr test = parse_or();
        ExprPtr otherwise;
        if (stream_.skip_name("else")) {
            // `a if b else c if d else …` recurses once per link: bounded like any nesting.
            TokenStream::NestingGuard guard(stream_, stream_.current().offset);
            otherwise = parse_condexpr();
        }
        cond->children.push_back(std::move(test));
        cond->children.push_back(std::move(expr));
        cond->children.push_back(std::move(otherwise));
        expr = finish(std::move(cond));
        offset = stream_.current().offset;
    }
    return expr;
}

ExprPtr ExpressionParser::binary_node(ExprKind kind, std::size_t offset, ExprPtr left, ExprPtr right) const {
    auto expr = node(kind, offset);
    expr->children.push_back(std::move(left));
    expr->children.push_back(std::move(right));
    return finish(std::move(expr));
}

ExprPtr ExpressionParser::parse_or() {
    ExprPtr left = parse_and();
    while (stream_.at_name("or")) {
        std::size_t offset = stream_.advance().offset;
        left = binary_node(ExprKind::logical_or, offset, std::move(left), parse_and());
    }
    return left;
}

ExprPtr ExpressionParser::parse_and() {
    ExprPtr left = parse_not();
    while (stream_.at_name("and")) {
        std::size_t offset = stream_.advance().offset;
        left = binary_node(ExprKind::logical_and, offset, std::move(left), parse_not());
    }
    return left;
}

ExprPtr ExpressionParser::parse_not() {
    if (stream_.at_name("not")) {
        TokenStream::NestingGuard guard(stream_, stream_.current().offset);
        auto expr = node(ExprKind::logical_not, stream_.advance().offset);
        expr->children.push_back(parse_not());
        return finish(std::move(expr));
    }
    return parse_compare();
}


ExprPtr ExpressionParser::parse_compare() {
    std::size_t offset = stream_.current().offset;
    ExprPtr first = parse_math1();
    ExprPtr compare;
    while (auto op = compare_op(stream_)) {
        stream_.advance();
        if (*op == CompareOp::not_in) stream_.advance();
        if (!compare) {
            compare = node(ExprKind::compare, offset);
            compare->children.push_back(std::move(first));
        }
        compare->compare_ops.push_back(*op);
        compare->children.push_back(parse_math1());
    }
    if (!compare) return first;
    return finish(std::move(compare));
}

ExprPtr ExpressionParser::parse_binary_chain(ExprPtr (ExpressionParser::*next)(), std::initializer_list<std::pair<Op, BinaryOp>> ops) {
    ExprPtr left = (this->*next)();
    while (stream_.current().type == TokenType::op) {
        auto match = std::find_if(ops.begin(), ops.end(), [&](const auto& pair) { return pair.first == stream_.current().op; });
        if (match == ops.end()) break;
        std::size_t offset = stream_.advance().offset;
        auto expr = node(ExprKind::binary, offset);
        expr->binary_op = match->second;
        expr->children.push_back(std::move(left));
        expr->children.push_back((this->*next)());
        left = finish(std::move(expr));
    }
    return left;
}

ExprPtr ExpressionParser::parse_math1() {
    return parse_binary_chain(&ExpressionParser::parse_concat, {{Op::add, BinaryOp::add}, {Op::sub, BinaryOp::sub}});
}

ExprPtr ExpressionParser::parse_concat() {
    std::size_t offset = stream_.current().offset;
    ExprPtr first = parse_math2();
    if (!stream_.at_op(Op::tilde)) return first;
    auto concat = node(ExprKind::concat, offset);
    concat->children.push_back(std::move(first));
    while (stream_.skip_op(Op::tilde)) concat->children.push_back(parse_math2());
    return finish(std::move(concat));
}

ExprPtr ExpressionParser::parse_math2() {
    return parse_binary_chain(&ExpressionParser::parse_pow, {{Op::mul, BinaryOp::mul},
                                                   {Op::div, BinaryOp::div},
                                                   {Op::floordiv, BinaryOp::floordiv},
                                                   {Op::mod, BinaryOp::mod}});
}

ExprPtr ExpressionParser::parse_pow() { return parse_binary_chain(&ExpressionParser::parse_unary_filtered, {{Op::pow, BinaryOp::pow}}); }

ExprPtr ExpressionParser::parse_unary_filtered() { return parse_unary(true); }

ExprPtr ExpressionParser::parse_unary(bool with_filter) {
    ExprPtr expr;
    if (stream_.at_op(Op::sub) || stream_.at_op(Op::add)) {
        TokenStream::NestingGuard guard(stream_, stream_.current().offset);
        const Token& sign = stream_.advance();
        expr = node(sign.op == Op::sub ? ExprKind::negate : ExprKind::plus, sign.offset);
        expr->children.push_back(parse_unary(false));
        expr = finish(std::move(expr));
    } else {
        expr = parse_primary();
    }
    expr = parse_postfix(std::move(expr));
    if (with_filter) expr = parse_filter_expr(std::move(expr));
    return expr;
}

ExprPtr ExpressionParser::parse_primary() {
    const Token& token = stream_.current();
    switch (token.type) {
        case TokenType::name: {
            stream_.advance();
            const std::string& name = token.text;
            auto expr = node(ExprKind::literal, token.offset);
            if (name == "true" || name == "True") expr->value = Value(true);
            else if (name == "false" || name == "False") expr->value = Value(false);
            else if (name == "none" || name == "None") expr->value = Value();
            else {
                expr->kind = ExprKind::name;
                expr->name = name;
            }
            return expr;
        }
        case TokenType::string: {
            std::string text;
            while (stream_.current().type == TokenType::string) text += stream_.advance().text;
            auto expr = node(ExprKind::literal, token.offset);
            expr->value = Value(std::move(text));
            return expr;
        }
        case TokenType::integer: {
            if (token.int_overflow) stream_.fail_at(token.offset, "integer literal too large (the limit is 64 bits)");
            auto expr = node(ExprKind::literal, token.offset);
            expr->value = Value(token.int_value);
            stream_.advance();
            return expr;
        }
        case TokenType::floating: {
            auto expr = node(ExprKind::literal, token.offset);
            expr->value = Value(token.float_value);
            stream_.advance();
            return expr;
        }
        case TokenType::op:
            if (token.op == Op::lparen) {
                TokenStream::NestingGuard guard(stream_, token.offset);
                stream_.advance();
                ExprPtr inner = parse_tuple(TupleMode::full, {}, true);
                stream_.expect_op(Op::rparen);
                return inner;
            }
            if (token.op == Op::lbracket) return parse_list();
            if (token.op == Op::lbrace) return parse_dict();
            break;
        default: break;
    }
    stream_.fail_at(token.offset, "expected an expression, got {}", describe(token));
}

ExprPtr ExpressionParser::parse_list() {
    TokenStream::NestingGuard guard(stream_, stream_.current().offset);
    auto list = node(ExprKind::list_literal, stream_.advance().offset);
    while (!stream_.at_op(Op::rbracket)) {
        if (!list->children.empty()) stream_.expect_op(Op::comma);
        if (stream_.at_op(Op::rbracket)) break;
        list->children.push_back(parse_expression(true));
    }
    stream_.expect_op(Op::rbracket);
    return finish(std::move(list));
}

ExprPtr ExpressionParser::parse_dict() {
    TokenStream::NestingGuard guard(stream_, stream_.current().offset);
    auto dict = node(ExprKind::dict_literal, stream_.advance().offset);
    while (!stream_.at_op(Op::rbrace)) {
        if (!dict->children.empty()) stream_.expect_op(Op::comma);
        if (stream_.at_op(Op::rbrace)) break;
        dict->children.push_back(parse_expression(true));
        stream_.expect_op(Op::colon);
        dict->children.push_back(parse_expression(true));
    }
    stream_.expect_op(Op::rbrace);
    return finish(std::move(dict));
}

ExprPtr ExpressionParser::parse_postfix(ExprPtr expr) {
    while (true) {
        if (stream_.at_op(Op::dot) || stream_.at_op(Op::lbracket)) {
            expr = parse_subscript(std::move(expr));
        } else if (stream_.at_op(Op::lparen)) {
            expr = parse_call(std::move(expr));
        } else {
            return expr;
        }
    }
}

ExprPtr ExpressionParser::parse_filter_expr(ExprPtr expr) {
    while (true) {
        if (stream_.at_op(Op::pipe)) {
            stream_.advance();
            expr = parse_filter_call(std::move(expr));
        } else if (stream_.at_name("is")) {
            expr = parse_test(std::move(expr));
        } else if (stream_.at_op(Op::lparen)) {
            expr = parse_call(std::move(expr));
        } else {
            return expr;
        }
    }
}

ExprPtr ExpressionParser::parse_subscript(ExprPtr target) {
    const Token& token = stream_.advance();
    if (token.op == Op::dot) {
        const Token& attribute = stream_.current();
        if (attribute.type == TokenType::name) {
            stream_.advance();
            auto expr = node(ExprKind::getattr, token.offset);
            expr->name = attribute.text;
            expr->children.push_back(std::move(target));
            return finish(std::move(expr));
        }
        if (attribute.type != TokenType::integer) stream_.fail_expected("a name or number after '.'");
        stream_.advance();
        auto index = node(ExprKind::literal, attribute.offset);
        index->value = Value(attribute.int_value);
        auto expr = node(ExprKind::getitem, token.offset);
        expr->children.push_back(std::move(target));
        expr->children.push_back(std::move(index));
        return finish(std::move(expr));
    }
    std::vector<ExprPtr> subscripts;
    while (!stream_.at_op(Op::rbracket)) {
        if (!subscripts.empty()) stream_.expect_op(Op::comma);
        subscripts.push_back(parse_subscribed());
    }
    stream_.advance();
    if (subscripts.empty()) stream_.fail_at(token.offset, "expected a subscript between '[' and ']'");
    ExprPtr index;
    if (subscripts.size() == 1) {
        index = std::move(subscripts.front());
    } else {
        index = node(ExprKind::tuple_literal, token.offset);
        index->children = std::move(subscripts);
        index = finish(std::move(index));
    }
    auto expr = node(ExprKind::getitem, token.offset);
    expr->children.push_back(std::move(target));
    expr->children.push_back(std::move(index));
    return finish(std::move(expr));
}

ExprPtr ExpressionParser::parse_subscribed() {
    std::size_t offset = stream_.current().offset;
    ExprPtr start;
    if (!stream_.at_op(Op::colon)) {
        start = parse_expression(true);
        if (!stream_.at_op(Op::colon)) return start;
    }
    stream_.advance();  // :
    auto slice = node(ExprKind::slice, offset);
    ExprPtr stop;
    ExprPtr step;
    if (!stream_.at_op(Op::colon) && !stream_.at_op(Op::rbracket) && !stream_.at_op(Op::comma)) stop = parse_expression(true);
    if (stream_.skip_op(Op::colon)) {
        if (!stream_.at_op(Op::rbracket) && !stream_.at_op(Op::comma)) step = parse_expression(true);
    }
    slice->children.push_back(std::move(start));
    slice->children.push_back(std::move(stop));
    slice->children.push_back(std::move(step));
    return finish(std::move(slice));
}

void ExpressionParser::parse_call_args(ArgsNode& args) {
    std::size_t open = stream_.current().offset;
    stream_.expect_op(Op::lparen);
    bool need_comma = false;
    while (!stream_.at_op(Op::rparen)) {
        if (need_comma) {
            stream_.expect_op(Op::comma);
            if (stream_.at_op(Op::rparen)) break;
        }
        if (stream_.at_op(Op::mul) || stream_.at_op(Op::pow)) {
            stream_.fail_at(stream_.current().offset, "'*' and '**' arguments are not supported in mayaflow templates");
        }
        if (stream_.current().type == TokenType::name && stream_.peek().type == TokenType::op && stream_.peek().op == Op::assign) {
            std::string key = stream_.advance().text;
            stream_.advance();  // =
            args.keyword.emplace_back(std::move(key), parse_expression(true));
        } else {
            if (!args.keyword.empty()) stream_.fail_at(open, "a positional argument follows a keyword argument");
            args.positional.push_back(parse_expression(true));
        }
        need_comma = true;
    }
    stream_.advance();  // )
}

ExprPtr ExpressionParser::parse_call(ExprPtr callee) {
    auto expr = node(ExprKind::call, stream_.current().offset);
    expr->children.push_back(std::move(callee));
    parse_call_args(expr->args);
    return finish(std::move(expr));
}

std::string ExpressionParser::parse_dotted_name() {
    std::string name = stream_.expect_name().text;
    while (stream_.skip_op(Op::dot)) name += "." + stream_.expect_name().text;
    return name;
}

// After '|': a filter name and its arguments, applied to `input` (null in filter blocks).
ExprPtr ExpressionParser::parse_filter_call(ExprPtr input) {
    std::size_t offset = stream_.current().offset;
    auto expr = node(ExprKind::filter, offset);
    expr->name = parse_dotted_name();
    expr->filter = find_filter(expr->name);
    if (expr->filter == nullptr) stream_.note_unknown(offset, expr->name, true);
    expr->children.push_back(std::move(input));
    if (stream_.at_op(Op::lparen)) parse_call_args(expr->args);
    return finish(std::move(expr));
}

ExprPtr ExpressionParser::parse_test(ExprPtr input) {
    stream_.advance();  // is
    bool negated = stream_.skip_name("not");
    std::size_t offset = stream_.current().offset;
    if (stream_.current().type != TokenType::name) stream_.fail_expected("a test name after 'is'");
    auto expr = node(ExprKind::test, offset);
    expr->name = parse_dotted_name();
    expr->test = find_test(expr->name);
    if (expr->test == nullptr) stream_.note_unknown(offset, expr->name, false);
    expr->children.push_back(std::move(input));
    const Token& token = stream_.current();
    bool argument_start = token.type == TokenType::name || token.type == TokenType::string ||
                          token.type == TokenType::integer || token.type == TokenType::floating ||
                          (token.type == TokenType::op &&
                           (token.op == Op::lparen || token.op == Op::lbracket || token.op == Op::lbrace));
    if (stream_.at_op(Op::lparen)) {
        parse_call_args(expr->args);
    } else if (argument_start && !stream_.at_name("else") && !stream_.at_name("or") && !stream_.at_name("and")) {
        if (stream_.at_name("is")) stream_.fail_at(token.offset, "tests cannot be chained with 'is'");
        expr->args.positional.push_back(parse_postfix(parse_primary()));
    }
    expr = finish(std::move(expr));
    if (!negated) return expr;
    auto negation = node(ExprKind::logical_not, offset);
    negation->children.push_back(std::move(expr));
    return finish(std::move(negation));
}

}  // namespace mayaflow::tmpl
