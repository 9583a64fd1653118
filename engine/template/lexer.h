#pragma once
// The lexer splits template source into tokens the way Jinja's lexer does: text between tags,
// `{{ … }}` and `{% … %}` with the expression tokens inside them, comments dropped, `{% raw %}` kept
// as text, and whitespace control (`{%-`, `-%}`) applied to the neighbouring text.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mayaflow::tmpl {

enum class TokenType : std::uint8_t {
    data,            // template text
    variable_begin,  // {{
    variable_end,    // }}
    block_begin,     // {%
    block_end,       // %}
    name,
    string,
    integer,
    floating,
    op,
    eof,
};

enum class Op : std::uint8_t {
    add, sub, div, floordiv, mul, mod, pow, tilde,
    lbracket, rbracket, lparen, rparen, lbrace, rbrace,
    eq, ne, gt, gteq, lt, lteq,
    assign, dot, colon, pipe, comma, semicolon,
};

struct Token {
    TokenType type = TokenType::eof;
    Op op = Op::add;
    std::size_t offset = 0;  // byte offset in the normalized source
    std::string text;        // data text, name, or the decoded value of a string literal
    std::int64_t int_value = 0;
    double float_value = 0;
    bool int_overflow = false;  // an integer literal that does not fit in 64 bits
};

// Jinja's newline handling with keep_trailing_newline=False: "\r\n" and "\r" become "\n" and one
// trailing newline is dropped. All offsets refer to this normalized text.
std::string normalize_newlines(std::string_view source);

// Tokenizes normalized source; throws a syntax TemplateError on malformed input.
std::vector<Token> tokenize(std::string_view source);

// "'}}'", "'+'", "end of template": how a token is named in error messages.
std::string describe(const Token& token);
std::string_view op_text(Op op);

// 1-based line and column (in code points) of a byte offset.
struct SourcePosition {
    std::size_t line = 1;
    std::size_t column = 1;
};
SourcePosition position_of(std::string_view source, std::size_t offset);

}  // namespace mayaflow::tmpl
