#pragma once
// TokenStream walks the lexer's tokens for the statement and expression parsers and holds what they
// share: how deeply the template nests so far, whether unknown filters are tolerated here (inside
// `{% if %}` and `a if b else c`, as in Jinja), and the unknown filters and tests seen elsewhere.

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/template/error.h"
#include "engine/template/lexer.h"

namespace mayaflow::tmpl {

// How deeply expressions and blocks may nest; deeper templates are rejected with a syntax error.
inline constexpr int kMaxNesting = 100;

class TokenStream {
  public:
    explicit TokenStream(const std::vector<Token>& tokens) : tokens_(tokens) {}

    const Token& current() const { return tokens_[pos_]; }
    const Token& peek(std::size_t ahead = 1) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
    const Token& advance() {
        const Token& token = tokens_[pos_];
        if (pos_ + 1 < tokens_.size()) ++pos_;
        return token;
    }

    bool at(TokenType type) const { return current().type == type; }
    bool at_op(Op op) const { return current().type == TokenType::op && current().op == op; }
    bool at_name(std::string_view name) const { return current().type == TokenType::name && current().text == name; }
    bool at_any_name(std::initializer_list<std::string_view> names) const {
        return current().type == TokenType::name && std::find(names.begin(), names.end(), current().text) != names.end();
    }
    bool peek_is_op(Op op) const { return peek().type == TokenType::op && peek().op == op; }

    bool skip_op(Op op) {
        if (!at_op(op)) return false;
        advance();
        return true;
    }
    bool skip_name(std::string_view name) {
        if (!at_name(name)) return false;
        advance();
        return true;
    }

    template <class... Args>
    [[noreturn]] void fail_at(std::size_t offset, fmt::format_string<Args...> format, Args&&... args) const {
        throw TemplateError(ErrorKind::syntax, fmt::format(format, std::forward<Args>(args)...), offset);
    }
    [[noreturn]] void fail_expected(std::string_view what) const {
        fail_at(current().offset, "expected {}, got {}", what, describe(current()));
    }

    void expect_op(Op op) {
        if (!skip_op(op)) fail_expected(fmt::format("'{}'", op_text(op)));
    }
    const Token& expect_name() {
        if (current().type != TokenType::name) fail_expected("a name");
        return advance();
    }
    void expect_name(std::string_view name) {
        if (!skip_name(name)) fail_expected(fmt::format("'{}'", name));
    }

    // Counts one level of nesting (parentheses, `not not …`, blocks) for as long as it lives.
    class NestingGuard {
      public:
        NestingGuard(TokenStream& stream, std::size_t offset) : stream_(stream) {
            if (++stream_.nesting_ > kMaxNesting) {
                stream_.fail_at(offset, "template nested too deeply (the limit is {} levels)", kMaxNesting);
            }
        }
        ~NestingGuard() { --stream_.nesting_; }
        NestingGuard(const NestingGuard&) = delete;
        NestingGuard& operator=(const NestingGuard&) = delete;

      private:
        TokenStream& stream_;
    };

    // Sets whether unknown filters and tests are tolerated for as long as it lives.
    class SoftScope {
      public:
        SoftScope(TokenStream& stream, bool soft) : stream_(stream), saved_(stream.soft_) { stream_.soft_ = soft; }
        ~SoftScope() { stream_.soft_ = saved_; }
        SoftScope(const SoftScope&) = delete;
        SoftScope& operator=(const SoftScope&) = delete;

      private:
        TokenStream& stream_;
        bool saved_;
    };

    // An unknown filter or test outside a soft context is an error once parsing has finished;
    // `forget_unknown_since` drops the ones that turned out to be inside a conditional expression.
    void note_unknown(std::size_t offset, std::string name, bool is_filter) {
        if (!soft_) unknown_.push_back({offset, std::move(name), is_filter});
    }
    std::size_t unknown_count() const { return unknown_.size(); }
    void forget_unknown_since(std::size_t count) { unknown_.resize(std::min(count, unknown_.size())); }
    void fail_on_unknown() const {
        if (unknown_.empty()) return;
        const Unknown& first = unknown_.front();
        fail_at(first.offset, "{} '{}' does not exist", first.is_filter ? "filter" : "test", first.name);
    }

  private:
    struct Unknown {
        std::size_t offset;
        std::string name;
        bool is_filter;
    };

    const std::vector<Token>& tokens_;
    std::size_t pos_ = 0;
    int nesting_ = 0;
    bool soft_ = false;
    std::vector<Unknown> unknown_;
};

}  // namespace mayaflow::tmpl
