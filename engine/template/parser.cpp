#include "engine/template/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>

#include "engine/template/error.h"
#include "engine/template/expression_parser.h"
#include "engine/template/lexer.h"

namespace mayaflow::tmpl {

namespace {

// The statement parser: text, `{{ … }}` and the block tags, with their expressions read by
// ExpressionParser from the same token stream.
class Parser {
  public:
    explicit Parser(const std::vector<Token>& tokens) : stream_(tokens), expressions_(stream_) {}

    Body parse_all() {
        Body body = parse_body({});
        // Like Jinja, report an unknown filter or test only once the whole template has parsed.
        stream_.fail_on_unknown();
        return body;
    }

  private:
    void expect_block_end() {
        if (!stream_.at(TokenType::block_end)) stream_.fail_expected("'%}' at the end of the tag");
        stream_.advance();
    }

    // Parses statements until a block tag named in `end_tags` (left as the current token) or the end.
    Body parse_body(std::initializer_list<std::string_view> end_tags) {
        Body body;
        while (true) {
            const Token& token = stream_.current();
            if (token.type == TokenType::eof) {
                if (end_tags.size() != 0) fail_unclosed(end_tags);
                return body;
            }
            if (token.type == TokenType::data) {
                auto stmt = std::make_unique<Stmt>();
                stmt->kind = StmtKind::text;
                stmt->offset = token.offset;
                stmt->text = token.text;
                body.push_back(std::move(stmt));
                stream_.advance();
            } else if (token.type == TokenType::variable_begin) {
                stream_.advance();
                auto stmt = std::make_unique<Stmt>();
                stmt->kind = StmtKind::print;
                stmt->offset = token.offset;
                stmt->expr = expressions_.parse_tuple(ExpressionParser::TupleMode::full);
                if (stream_.current().type != TokenType::variable_end) stream_.fail_expected("'}}' after the expression");
                stream_.advance();
                body.push_back(std::move(stmt));
            } else if (token.type == TokenType::block_begin) {
                stream_.advance();
                if (stream_.current().type == TokenType::name &&
                    std::find(end_tags.begin(), end_tags.end(), stream_.current().text) != end_tags.end()) {
                    return body;
                }
                body.push_back(parse_statement(token.offset));
                expect_block_end();
            } else {
                stream_.fail_expected("template text or a tag");
            }
        }
    }

    [[noreturn]] void fail_unclosed(std::initializer_list<std::string_view> end_tags) const {
        std::string wanted;
        for (auto tag : end_tags) {
            if (!wanted.empty()) wanted += " or ";
            wanted += fmt::format("'{{% {} %}}'", tag);
        }
        std::string open = open_tags_.empty() ? "" : fmt::format(" to close the '{}' block", open_tags_.back().first);
        std::size_t offset = open_tags_.empty() ? stream_.current().offset : open_tags_.back().second;
        stream_.fail_at(offset, "unexpected end of template: expected {}{}", wanted, open);
    }

    // Parses the rest of a body and the tag that ends it; returns which end tag it was.
    std::string parse_block_body(Body& body, std::initializer_list<std::string_view> end_tags) {
        stream_.skip_op(Op::colon);
        expect_block_end();
        body = parse_body(end_tags);
        return stream_.advance().text;
    }

    StmtPtr parse_statement(std::size_t offset) {
        if (stream_.current().type != TokenType::name) stream_.fail_expected("a tag name");
        TokenStream::NestingGuard guard(stream_, offset);
        const std::string tag = stream_.current().text;
        static constexpr std::string_view kUnsupported[] = {"macro", "call",   "block", "extends",   "include",
                                                            "import", "from", "autoescape", "trans"};
        if (std::find(std::begin(kUnsupported), std::end(kUnsupported), tag) != std::end(kUnsupported)) {
            stream_.fail_at(stream_.current().offset, "the '{{% {} %}}' tag is not supported in mayaflow templates", tag);
        }
        open_tags_.emplace_back(tag, offset);
        StmtPtr stmt;
        if (tag == "if") stmt = parse_if(offset);
        else if (tag == "for") stmt = parse_for(offset);
        else if (tag == "set") stmt = parse_set(offset);
        else if (tag == "with") stmt = parse_with(offset);
        else if (tag == "filter") stmt = parse_filter_block(offset);
        else if (tag == "do") stmt = parse_do(offset);
        else if (tag == "print") stmt = parse_print(offset);
        else fail_unknown_tag();
        open_tags_.pop_back();
        return stmt;
    }

    [[noreturn]] void fail_unknown_tag() {
        const std::string& tag = stream_.current().text;
        std::size_t offset = stream_.current().offset;
        open_tags_.pop_back();
        if (!open_tags_.empty()) {
            stream_.fail_at(offset, "unexpected tag '{}': the innermost open block is '{}'", tag, open_tags_.back().first);
        }
        stream_.fail_at(offset, "unknown tag '{}'", tag);
    }

    StmtPtr make_stmt(StmtKind kind, std::size_t offset) {
        auto stmt = std::make_unique<Stmt>();
        stmt->kind = kind;
        stmt->offset = offset;
        return stmt;
    }

    StmtPtr parse_if(std::size_t offset) {
        auto stmt = make_stmt(StmtKind::if_block, offset);
        TokenStream::SoftScope soft(stream_, true);
        stream_.advance();  // if
        while (true) {
            IfBranch branch;
            branch.test = expressions_.parse_tuple(ExpressionParser::TupleMode::no_condexpr);
            std::string end = parse_block_body(branch.body, {"elif", "else", "endif"});
            stmt->branches.push_back(std::move(branch));
            if (end == "elif") continue;
            if (end == "else") parse_block_body(stmt->else_body, {"endif"});
            break;
        }
        return stmt;
    }

    StmtPtr parse_for(std::size_t offset) {
        auto stmt = make_stmt(StmtKind::for_loop, offset);
        stream_.advance();  // for
        stmt->target = parse_assign_target({"in"}, false);
        check_not_loop(stmt->target);
        stream_.expect_name("in");
        stmt->expr = expressions_.parse_tuple(ExpressionParser::TupleMode::no_condexpr, {"recursive"});
        TokenStream::SoftScope hard(stream_, false);
        if (stream_.skip_name("if")) stmt->loop_filter = expressions_.parse_expression(true);
        if (stream_.at_name("recursive")) stream_.fail_at(stream_.current().offset, "recursive loops are not supported in mayaflow templates");
        std::string end = parse_block_body(stmt->body, {"endfor", "else"});
        if (end == "else") parse_block_body(stmt->else_body, {"endfor"});
        return stmt;
    }

    void check_not_loop(const Target& target) {
        if (target.kind == Target::Kind::name && target.name == "loop") {
            stream_.fail_at(target.offset, "can't assign to the special loop variable in a for-loop target");
        }
        for (const Target& item : target.items) check_not_loop(item);
    }

    StmtPtr parse_set(std::size_t offset) {
        stream_.advance();  // set
        Target target = parse_assign_target({}, true);
        if (stream_.skip_op(Op::assign)) {
            auto stmt = make_stmt(StmtKind::set, offset);
            stmt->target = std::move(target);
            stmt->expr = expressions_.parse_tuple(ExpressionParser::TupleMode::full);
            return stmt;
        }
        auto stmt = make_stmt(StmtKind::set_block, offset);
        stmt->target = std::move(target);
        while (stream_.skip_op(Op::pipe)) stmt->filters.push_back(expressions_.parse_filter_call(nullptr));
        TokenStream::SoftScope hard(stream_, false);
        parse_block_body(stmt->body, {"endset"});
        return stmt;
    }

    StmtPtr parse_with(std::size_t offset) {
        auto stmt = make_stmt(StmtKind::with_block, offset);
        stream_.advance();  // with
        while (stream_.current().type != TokenType::block_end) {
            if (!stmt->assignments.empty()) stream_.expect_op(Op::comma);
            Target target = parse_assign_target({}, false);
            stream_.expect_op(Op::assign);
            stmt->assignments.emplace_back(std::move(target), expressions_.parse_expression(true));
        }
        TokenStream::SoftScope hard(stream_, false);
        parse_block_body(stmt->body, {"endwith"});
        return stmt;
    }

    StmtPtr parse_filter_block(std::size_t offset) {
        auto stmt = make_stmt(StmtKind::filter_block, offset);
        stream_.advance();  // filter
        stmt->filters.push_back(expressions_.parse_filter_call(nullptr));
        while (stream_.skip_op(Op::pipe)) stmt->filters.push_back(expressions_.parse_filter_call(nullptr));
        TokenStream::SoftScope hard(stream_, false);
        parse_block_body(stmt->body, {"endfilter"});
        return stmt;
    }

    StmtPtr parse_do(std::size_t offset) {
        auto stmt = make_stmt(StmtKind::do_expr, offset);
        stream_.advance();  // do
        stmt->expr = expressions_.parse_tuple(ExpressionParser::TupleMode::full);
        return stmt;
    }

    StmtPtr parse_print(std::size_t offset) {
        auto stmt = make_stmt(StmtKind::print, offset);
        stream_.advance();  // print
        std::vector<ExprPtr> parts;
        while (!stream_.at(TokenType::block_end)) {
            if (!parts.empty()) stream_.expect_op(Op::comma);
            parts.push_back(expressions_.parse_expression(true));
        }
        if (parts.empty()) stream_.fail_expected("an expression to print");
        stmt->expr = expressions_.concatenation(std::move(parts), offset);
        return stmt;
    }

    // Targets: `x`, `a, b`, `(a, b)`, and with `allow_namespace`, `ns.attr`.
    Target parse_assign_target(std::initializer_list<std::string_view> end_names, bool allow_namespace) {
        Target target;
        target.offset = stream_.current().offset;
        if (allow_namespace && stream_.current().type == TokenType::name && stream_.peek().type == TokenType::op &&
            stream_.peek().op == Op::dot) {
            target.kind = Target::Kind::namespace_attribute;
            target.name = stream_.advance().text;
            stream_.advance();  // .
            target.attribute = stream_.expect_name().text;
            return target;
        }
        std::vector<Target> items;
        bool is_tuple = false;
        while (true) {
            if (!items.empty()) stream_.expect_op(Op::comma);
            if (stream_.current().type == TokenType::block_end || stream_.current().type == TokenType::variable_end ||
                stream_.at_op(Op::rparen) || stream_.at_any_name(end_names) || stream_.at_op(Op::assign)) {
                break;
            }
            items.push_back(parse_target_primary());
            if (stream_.at_op(Op::comma)) {
                is_tuple = true;
            } else {
                break;
            }
        }
        if (items.empty()) stream_.fail_expected("an assignment target");
        if (!is_tuple) return std::move(items.front());
        target.kind = Target::Kind::tuple;
        target.items = std::move(items);
        return target;
    }

    Target parse_target_primary() {
        Target target;
        target.offset = stream_.current().offset;
        if (stream_.current().type == TokenType::name) {
            const std::string& name = stream_.current().text;
            if (name == "true" || name == "false" || name == "none" || name == "True" || name == "False" ||
                name == "None") {
                stream_.fail_at(stream_.current().offset, "can't assign to a constant");
            }
            target.name = stream_.advance().text;
            return target;
        }
        if (stream_.at_op(Op::lparen)) {
            TokenStream::NestingGuard guard(stream_, stream_.current().offset);
            stream_.advance();
            target.kind = Target::Kind::tuple;
            while (!stream_.at_op(Op::rparen)) {
                if (!target.items.empty()) stream_.expect_op(Op::comma);
                if (stream_.at_op(Op::rparen)) break;
                target.items.push_back(parse_target_primary());
            }
            stream_.advance();
            return target;
        }
        stream_.fail_at(stream_.current().offset, "can't assign to {}", describe(stream_.current()));
    }

    TokenStream stream_;
    ExpressionParser expressions_;
    std::vector<std::pair<std::string, std::size_t>> open_tags_;  // tag name, offset
};

}  // namespace

ParsedTemplate parse_template(std::string_view source) {
    ParsedTemplate parsed;
    parsed.source = normalize_newlines(source);
    std::vector<Token> tokens = tokenize(parsed.source);
    parsed.has_markup = std::any_of(tokens.begin(), tokens.end(), [](const Token& token) {
        return token.type != TokenType::data && token.type != TokenType::eof;
    });
    if (!parsed.has_markup) {
        // Comments and raw blocks leave only text behind but still count as markup.
        std::size_t text_size = 0;
        for (const Token& token : tokens) text_size += token.text.size();
        parsed.has_markup = text_size != parsed.source.size();
    }
    parsed.body = Parser(tokens).parse_all();
    return parsed;
}

}  // namespace mayaflow::tmpl
