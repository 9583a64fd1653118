#include "engine/template/lexer.h"

#include <fmt/format.h>

#include "engine/template/error.h"
#include "engine/template/pystr.h"
#include "engine/template/unicode.h"

namespace mayaflow::tmpl {

std::string normalize_newlines(std::string_view source) {
    std::string out;
    out.reserve(source.size());
    for (std::size_t i = 0; i < source.size(); ++i) {
        char c = source[i];
        if (c == '\r') {
            out.push_back('\n');
            if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
        } else {
            out.push_back(c);
        }
    }
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

SourcePosition position_of(std::string_view source, std::size_t offset) {
    SourcePosition position;
    std::size_t pos = 0;
    std::size_t end = std::min(offset, source.size());
    while (pos < end) {
        char32_t cp = unicode::decode_next(source, pos);
        if (cp == '\n') {
            ++position.line;
            position.column = 1;
        } else {
            ++position.column;
        }
    }
    return position;
}

std::string_view op_text(Op op) {
    static constexpr std::string_view kText[] = {
        "+", "-", "/", "//", "*", "%", "**", "~", "[", "]", "(", ")", "{", "}",
        "==", "!=", ">", ">=", "<", "<=", "=", ".", ":", "|", ",", ";",
    };
    return kText[static_cast<int>(op)];
}

std::string describe(const Token& token) {
    switch (token.type) {
        case TokenType::data: return "template text";
        case TokenType::variable_begin: return "'{{'";
        case TokenType::variable_end: return "'}}'";
        case TokenType::block_begin: return "'{%'";
        case TokenType::block_end: return "'%}'";
        case TokenType::name: return "'" + token.text + "'";
        case TokenType::string: return "string " + py::repr_string(token.text);
        case TokenType::integer:
        case TokenType::floating: return "number";
        case TokenType::op: return "'" + std::string(op_text(token.op)) + "'";
        case TokenType::eof: return "end of template";
    }
    return "token";
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes a string literal's body as Jinja does: Python's "unicode-escape" codec applied to the
// text with every non-ASCII character first written as a \x, \u or \U escape.
std::string decode_string_literal(std::string_view body, std::size_t offset) {
    std::string ascii;
    ascii.reserve(body.size());
    std::size_t pos = 0;
    while (pos < body.size()) {
        char32_t cp = unicode::decode_next(body, pos);
        if (cp < 0x80) {
            ascii.push_back(static_cast<char>(cp));
        } else if (cp < 0x100) {
            ascii += fmt::format("\\x{:02x}", static_cast<unsigned>(cp));
        } else if (cp < 0x10000) {
            ascii += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
        } else {
            ascii += fmt::format("\\U{:08x}", static_cast<unsigned>(cp));
        }
    }
    auto fail = [offset](const std::string& why) { throw TemplateError(ErrorKind::syntax, why, offset); };
    std::string out;
    out.reserve(ascii.size());
    for (std::size_t i = 0; i < ascii.size(); ++i) {
        char c = ascii[i];
        if (c != '\\') {
            out.push_back(c);
            continue;
        }
        if (i + 1 >= ascii.size()) fail("\\ at end of string");
        char e = ascii[++i];
        switch (e) {
            case '\n': break;
            case '\\': out.push_back('\\'); break;
            case '\'': out.push_back('\''); break;
            case '"': out.push_back('"'); break;
            case 'a': out.push_back('\a'); break;
            case 'b': out.push_back('\b'); break;
            case 'f': out.push_back('\f'); break;
            case 'n': out.push_back('\n'); break;
            case 'r': out.push_back('\r'); break;
            case 't': out.push_back('\t'); break;
            case 'v': out.push_back('\v'); break;
            case 'x':
            case 'u':
            case 'U': {
                std::size_t digits = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
                char32_t cp = 0;
                for (std::size_t k = 0; k < digits; ++k) {
                    int h = i + 1 + k < ascii.size() ? hex_value(ascii[i + 1 + k]) : -1;
                    if (h < 0) fail(fmt::format("truncated \\{}{} escape", e, std::string(digits, 'X')));
                    cp = cp * 16 + static_cast<char32_t>(h);
                }
                i += digits;
                if (cp > 0x10FFFF) fail("illegal Unicode character");
                if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // lone surrogates cannot be UTF-8
                unicode::append_utf8(out, cp);
                break;
            }
            case 'N': fail("\\N{...} escapes are not supported"); break;
            default:
                if (e >= '0' && e <= '7') {
                    char32_t cp = static_cast<char32_t>(e - '0');
                    for (int k = 0; k < 2 && i + 1 < ascii.size() && ascii[i + 1] >= '0' && ascii[i + 1] <= '7'; ++k) {
                        cp = cp * 8 + static_cast<char32_t>(ascii[++i] - '0');
                    }
                    unicode::append_utf8(out, cp);
                } else {
                    out.push_back('\\');
                    out.push_back(e);
                }
        }
    }
    return out;
}

class Lexer {
  public:
    explicit Lexer(std::string_view source) : src_(source) {}

    std::vector<Token> run() {
        while (pos_ < src_.size()) lex_root_step();
        Token eof;
        eof.type = TokenType::eof;
        eof.offset = src_.size();
        tokens_.push_back(std::move(eof));
        return std::move(tokens_);
    }

  private:
    [[noreturn]] void fail(std::string message, std::size_t offset) const {
        throw TemplateError(ErrorKind::syntax, std::move(message), offset);
    }

    bool starts_with(std::size_t at, std::string_view text) const {
        return at <= src_.size() && src_.substr(at).starts_with(text);
    }

    std::size_t skip_space(std::size_t at) const {
        while (at < src_.size()) {
            std::size_t next = at;
            if (!unicode::is_space(unicode::decode_next(src_, next))) break;
            at = next;
        }
        return at;
    }

    void emit_data(std::string_view text, std::size_t offset, bool strip_trailing) {
        std::string data = strip_trailing ? py::strip(text, std::nullopt, py::StripSide::right) : std::string(text);
        if (data.empty()) return;
        Token token;
        token.type = TokenType::data;
        token.offset = offset;
        token.text = std::move(data);
        tokens_.push_back(std::move(token));
    }

    void emit(TokenType type, std::size_t offset) {
        Token token;
        token.type = type;
        token.offset = offset;
        tokens_.push_back(std::move(token));
    }

    // The next '{{', '{%' or '{#' at or after `from`.
    std::size_t find_tag(std::size_t from) const {
        while (true) {
            std::size_t brace = src_.find('{', from);
            if (brace == std::string_view::npos || brace + 1 >= src_.size()) return std::string_view::npos;
            char next = src_[brace + 1];
            if (next == '{' || next == '%' || next == '#') return brace;
            from = brace + 1;
        }
    }

    void lex_root_step() {
        std::size_t tag = find_tag(pos_);
        if (tag == std::string_view::npos) {
            emit_data(src_.substr(pos_), pos_, false);
            pos_ = src_.size();
            return;
        }
        char kind = src_[tag + 1];
        std::size_t after = tag + 2;
        char sign = 0;
        if (after < src_.size() && (src_[after] == '-' || src_[after] == '+')) sign = src_[after++];
        emit_data(src_.substr(pos_, tag - pos_), pos_, sign == '-');
        if (kind == '#') {
            lex_comment(tag, after);
        } else if (kind == '%' && lex_raw(tag, after)) {
            // handled
        } else {
            bool variable = kind == '{';
            emit(variable ? TokenType::variable_begin : TokenType::block_begin, tag);
            pos_ = after;
            lex_tag_body(variable);
        }
    }

    void lex_comment(std::size_t tag, std::size_t after) {
        std::size_t end = src_.find("#}", after);
        if (end == std::string_view::npos) fail("missing end of comment tag '#}'", tag);
        if (end > after && src_[end - 1] == '-') {
            pos_ = skip_space(end + 2);
        } else {
            pos_ = end + 2;
        }
    }

    // `{% raw %}…{% endraw %}`: returns false when the tag at `tag` is not a raw block.
    bool lex_raw(std::size_t tag, std::size_t after) {
        std::size_t p = skip_space(after);
        if (!starts_with(p, "raw")) return false;
        p = skip_space(p + 3);
        if (starts_with(p, "-%}")) {
            p = skip_space(p + 3);
        } else if (starts_with(p, "%}")) {
            p += 2;
        } else {
            return false;
        }
        std::size_t search = p;
        while (true) {
            std::size_t open = src_.find("{%", search);
            if (open == std::string_view::npos) fail("missing end of raw directive '{% endraw %}'", tag);
            std::size_t q = open + 2;
            char sign = 0;
            if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
            q = skip_space(q);
            if (starts_with(q, "endraw")) {
                q = skip_space(q + 6);
                std::size_t end = std::string_view::npos;
                if (starts_with(q, "+%}")) end = q + 3;
                else if (starts_with(q, "-%}")) end = skip_space(q + 3);
                else if (starts_with(q, "%}")) end = q + 2;
                if (end != std::string_view::npos) {
                    emit_data(src_.substr(p, open - p), p, sign == '-');
                    pos_ = end;
                    return true;
                }
            }
            search = open + 1;
        }
    }

    bool try_tag_end(bool variable) {
        if (variable) {
            if (starts_with(pos_, "-}}")) {
                emit(TokenType::variable_end, pos_);
                pos_ = skip_space(pos_ + 3);
                return true;
            }
            if (starts_with(pos_, "}}")) {
                emit(TokenType::variable_end, pos_);
                pos_ += 2;
                return true;
            }
            return false;
        }
        if (starts_with(pos_, "+%}")) {
            emit(TokenType::block_end, pos_);
            pos_ += 3;
            return true;
        }
        if (starts_with(pos_, "-%}")) {
            emit(TokenType::block_end, pos_);
            pos_ = skip_space(pos_ + 3);
            return true;
        }
        if (starts_with(pos_, "%}")) {
            emit(TokenType::block_end, pos_);
            pos_ += 2;
            return true;
        }
        return false;
    }

    void lex_tag_body(bool variable) {
        std::vector<char> balance;
        while (pos_ < src_.size()) {
            if (balance.empty() && try_tag_end(variable)) return;
            std::size_t next = pos_;
            if (unicode::is_space(unicode::decode_next(src_, next))) {
                pos_ = skip_space(pos_);
                continue;
            }
            if (lex_number() || lex_name() || lex_string()) continue;
            lex_operator(balance);
        }
    }

    // Digits with single underscores between them: Jinja's (\d+_)*\d+.
    std::size_t scan_digits(std::size_t at) const {
        if (at >= src_.size() || !is_digit(src_[at])) return std::string_view::npos;
        while (at < src_.size()) {
            if (is_digit(src_[at])) {
                ++at;
            } else if (src_[at] == '_' && at + 1 < src_.size() && is_digit(src_[at + 1])) {
                at += 2;
            } else {
                break;
            }
        }
        return at;
    }

    std::size_t scan_exponent(std::size_t at) const {
        if (at >= src_.size() || (src_[at] != 'e' && src_[at] != 'E')) return std::string_view::npos;
        ++at;
        if (at < src_.size() && (src_[at] == '+' || src_[at] == '-')) ++at;
        return scan_digits(at);
    }

    bool lex_number() {
        if (!is_digit(src_[pos_])) return false;
        std::size_t start = pos_;
        std::size_t float_end = std::string_view::npos;
        if (start == 0 || src_[start - 1] != '.') {
            std::size_t int_end = scan_digits(start);
            bool has_point = int_end < src_.size() && src_[int_end] == '.';
            std::size_t fraction_end = has_point ? scan_digits(int_end + 1) : std::string_view::npos;
            if (fraction_end != std::string_view::npos) {
                std::size_t exp_end = scan_exponent(fraction_end);
                float_end = exp_end != std::string_view::npos ? exp_end : fraction_end;
            } else {
                float_end = scan_exponent(int_end);
            }
        }
        if (float_end != std::string_view::npos) {
            std::string text;
            for (char c : src_.substr(start, float_end - start)) {
                if (c != '_') text.push_back(c);
            }
            Token token;
            token.type = TokenType::floating;
            token.offset = start;
            token.float_value = py::parse_float(text).value_or(0.0);
            tokens_.push_back(std::move(token));
            pos_ = float_end;
            return true;
        }
        lex_integer();
        return true;
    }

    void lex_integer() {
        std::size_t start = pos_;
        auto scan_radix = [&](int base) -> std::size_t {
            std::size_t at = start + 2;
            std::size_t end = std::string_view::npos;
            while (at < src_.size()) {
                std::size_t digit_at = src_[at] == '_' ? at + 1 : at;
                if (digit_at >= src_.size()) break;
                int h = hex_value(src_[digit_at]);
                if (h < 0 || h >= base) break;
                at = digit_at + 1;
                end = at;
            }
            return end;
        };
        std::size_t end = std::string_view::npos;
        int base = 10;
        char second = start + 1 < src_.size() ? static_cast<char>(src_[start + 1] | 0x20) : 0;
        if (src_[start] == '0' && (second == 'b' || second == 'o' || second == 'x')) {
            base = second == 'b' ? 2 : (second == 'o' ? 8 : 16);
            end = scan_radix(base);
            if (end == std::string_view::npos) base = 10;
        }
        if (end == std::string_view::npos) {
            char lead = src_[start];
            end = start + 1;
            while (end < src_.size()) {
                std::size_t digit_at = src_[end] == '_' ? end + 1 : end;
                if (digit_at >= src_.size()) break;
                char d = src_[digit_at];
                bool ok = lead == '0' ? d == '0' : is_digit(d);
                if (!ok) break;
                end = digit_at + 1;
            }
        }
        std::string text = std::string(src_.substr(start, end - start));
        Token token;
        token.type = TokenType::integer;
        token.offset = start;
        auto value = py::parse_int(text, 0);
        token.int_overflow = !value.has_value();
        token.int_value = value.value_or(0);
        tokens_.push_back(std::move(token));
        pos_ = end;
    }

    bool lex_name() {
        if (!is_name_start(src_[pos_])) return false;
        std::size_t end = pos_;
        while (end < src_.size() && is_name_char(src_[end])) {
            std::size_t next = end;
            if (unicode::is_space(unicode::decode_next(src_, next))) break;
            end = next;
        }
        Token token;
        token.type = TokenType::name;
        token.offset = pos_;
        token.text = std::string(src_.substr(pos_, end - pos_));
        tokens_.push_back(std::move(token));
        pos_ = end;
        return true;
    }

    bool lex_string() {
        char quote = src_[pos_];
        if (quote != '\'' && quote != '"') return false;
        std::size_t at = pos_ + 1;
        while (at < src_.size() && src_[at] != quote) {
            at += src_[at] == '\\' ? 2 : 1;
        }
        if (at >= src_.size()) return false;  // unterminated: reported as an unexpected quote
        Token token;
        token.type = TokenType::string;
        token.offset = pos_;
        token.text = decode_string_literal(src_.substr(pos_ + 1, at - pos_ - 1), pos_);
        tokens_.push_back(std::move(token));
        pos_ = at + 1;
        return true;
    }

    void lex_operator(std::vector<char>& balance) {
        static constexpr std::pair<std::string_view, Op> kTwo[] = {
            {"//", Op::floordiv}, {"**", Op::pow}, {"==", Op::eq}, {"!=", Op::ne}, {">=", Op::gteq}, {"<=", Op::lteq},
        };
        static constexpr std::pair<char, Op> kOne[] = {
            {'+', Op::add},      {'-', Op::sub},      {'/', Op::div},    {'*', Op::mul},    {'%', Op::mod},
            {'~', Op::tilde},    {'[', Op::lbracket}, {']', Op::rbracket}, {'(', Op::lparen}, {')', Op::rparen},
            {'{', Op::lbrace},   {'}', Op::rbrace},   {'>', Op::gt},     {'<', Op::lt},     {'=', Op::assign},
            {'.', Op::dot},      {':', Op::colon},    {'|', Op::pipe},   {',', Op::comma},  {';', Op::semicolon},
        };
        Token token;
        token.type = TokenType::op;
        token.offset = pos_;
        for (const auto& [text, op] : kTwo) {
            if (starts_with(pos_, text)) {
                token.op = op;
                tokens_.push_back(std::move(token));
                pos_ += 2;
                return;
            }
        }
        char c = src_[pos_];
        for (const auto& [ch, op] : kOne) {
            if (c != ch) continue;
            if (c == '(' || c == '[' || c == '{') {
                balance.push_back(c == '(' ? ')' : (c == '[' ? ']' : '}'));
            } else if (c == ')' || c == ']' || c == '}') {
                if (balance.empty()) fail(fmt::format("unexpected '{}'", c), pos_);
                char expected = balance.back();
                balance.pop_back();
                if (expected != c) fail(fmt::format("unexpected '{}', expected '{}'", c, expected), pos_);
            }
            token.op = op;
            tokens_.push_back(std::move(token));
            pos_ += 1;
            return;
        }
        std::size_t next = pos_;
        char32_t cp = unicode::decode_next(src_, next);
        std::string shown;
        unicode::append_utf8(shown, cp);
        fail(fmt::format("unexpected character {}", py::repr_string(shown)), pos_);
    }

    std::string_view src_;
    std::size_t pos_ = 0;
    std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace mayaflow::tmpl
