// parse_strptime, declared in strftime.h beside its inverse: Python's strptime as a backtracking match.

#include "engine/time/strftime.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>
#include <vector>

#include "engine/time/civil_time.h"

namespace mayaflow {

namespace {

constexpr const char* kSupportedParseDirectives = "%Y %m %d %H %M %S %f %z %Z %j %a %A %b %B %y %I %p %%";

// One piece of a strptime format.
struct ParseToken {
    enum class Kind { literal, whitespace, directive };
    Kind kind;
    char value;
};

// The fields a strptime match has found so far.
struct ParsedFields {
    std::optional<int> year4, year2, month, day, hour24, hour12, minute, second, julian;
    std::optional<bool> pm;
    std::int64_t microsecond = 0;
    std::optional<std::chrono::seconds> offset;
};

bool same_letter(char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

bool starts_with_nocase(std::string_view text, size_t pos, std::string_view word) {
    if (pos + word.size() > text.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
        if (!same_letter(text[pos + i], word[i])) return false;
    }
    return true;
}

// A candidate reading of one directive: how far it reaches and what it sets.
struct Reading {
    size_t end;
    ParsedFields fields;
};

// Matches a strptime format against text with backtracking, as Python's regular expression does.
class StrptimeMatcher {
  public:
    StrptimeMatcher(std::string_view text, const std::vector<ParseToken>& tokens)
        : text_(text), tokens_(tokens) {}

    std::optional<ParsedFields> match() { return match_from(0, 0, ParsedFields{}); }
    size_t furthest() const { return furthest_; }
    std::optional<size_t> leftover_at() const { return leftover_at_; }

  private:
    std::optional<ParsedFields> match_from(size_t token, size_t pos, const ParsedFields& fields) {
        furthest_ = std::max(furthest_, pos);
        if (++steps_ > 100000) return std::nullopt;
        if (token == tokens_.size()) {
            if (pos == text_.size()) return fields;
            if (!leftover_at_) leftover_at_ = pos;
            return std::nullopt;
        }
        for (const Reading& reading : readings(tokens_[token], pos, fields)) {
            if (auto done = match_from(token + 1, reading.end, reading.fields)) return done;
        }
        return std::nullopt;
    }

    // Digits at pos, exactly `count` of them.
    std::optional<int> digits(size_t pos, size_t count) const {
        if (pos + count > text_.size()) return std::nullopt;
        int value = 0;
        for (size_t i = 0; i < count; ++i) {
            const char c = text_[pos + i];
            if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
            value = value * 10 + (c - '0');
        }
        return value;
    }

    // Readings of a number whose width may vary: widest first, each within [low, high].
    void numbers(std::vector<Reading>& out, size_t pos, const ParsedFields& fields, size_t max_width,
                 size_t min_width, int low, int high, std::optional<int> ParsedFields::*field) const {
        for (size_t width = max_width; width >= min_width && width > 0; --width) {
            auto value = digits(pos, width);
            // Two- and three-digit forms may start with zeros; a one-digit form stands alone.
            if (!value || *value < low || *value > high) continue;
            Reading r{pos + width, fields};
            r.fields.*field = *value;
            out.push_back(r);
        }
    }

    void names(std::vector<Reading>& out, size_t pos, const ParsedFields& fields, bool months,
               bool full) const {
        const size_t count = months ? kMonthNames.size() : kWeekdayNames.size();
        for (size_t i = 0; i < count; ++i) {
            std::string_view name = months ? kMonthNames[i] : kWeekdayNames[i];
            if (!full) name = name.substr(0, 3);
            if (!starts_with_nocase(text_, pos, name)) continue;
            Reading r{pos + name.size(), fields};
            if (months) r.fields.month = static_cast<int>(i) + 1;
            out.push_back(r);
        }
    }

    void offsets(std::vector<Reading>& out, size_t pos, const ParsedFields& fields) const {
        if (pos < text_.size() && text_[pos] == 'Z') {
            Reading r{pos + 1, fields};
            r.fields.offset = std::chrono::seconds{0};
            out.push_back(r);
            return;
        }
        if (pos >= text_.size() || (text_[pos] != '+' && text_[pos] != '-')) return;
        const int sign = text_[pos] == '-' ? -1 : 1;
        size_t at = pos + 1;
        auto hours = digits(at, 2);
        if (!hours) return;
        at += 2;
        const bool colon = at < text_.size() && text_[at] == ':';
        if (colon) ++at;
        auto minutes = digits(at, 2);
        if (!minutes || *minutes > 59) return;
        at += 2;
        auto reading_at = [&](size_t end, int secs) {
            Reading r{end, fields};
            r.fields.offset = std::chrono::seconds{sign * (*hours * 3600 + *minutes * 60 + secs)};
            return r;
        };
        size_t sec_at = at;
        if (colon && sec_at < text_.size() && text_[sec_at] == ':') ++sec_at;
        if (auto secs = digits(sec_at, 2); secs && *secs <= 59 && (colon || sec_at == at)) {
            out.push_back(reading_at(sec_at + 2, *secs));
        }
        out.push_back(reading_at(at, 0));
    }

    std::vector<Reading> readings(const ParseToken& token, size_t pos, const ParsedFields& fields) const {
        std::vector<Reading> out;
        if (token.kind == ParseToken::Kind::literal) {
            if (pos < text_.size() && same_letter(text_[pos], token.value)) out.push_back({pos + 1, fields});
            return out;
        }
        if (token.kind == ParseToken::Kind::whitespace) {
            size_t end = pos;
            while (end < text_.size() && std::isspace(static_cast<unsigned char>(text_[end]))) ++end;
            for (; end > pos; --end) out.push_back({end, fields});
            return out;
        }
        switch (token.value) {
            case 'Y':
                numbers(out, pos, fields, 4, 4, 0, 9999, &ParsedFields::year4);
                break;
            case 'y':
                numbers(out, pos, fields, 2, 2, 0, 99, &ParsedFields::year2);
                break;
            case 'm':
                numbers(out, pos, fields, 2, 1, 1, 12, &ParsedFields::month);
                break;
            case 'd':
                numbers(out, pos, fields, 2, 1, 1, 31, &ParsedFields::day);
                if (pos < text_.size() && text_[pos] == ' ') {  // Python also takes " 5"
                    numbers(out, pos + 1, fields, 1, 1, 1, 9, &ParsedFields::day);
                }
                break;
            case 'H':
                numbers(out, pos, fields, 2, 1, 0, 23, &ParsedFields::hour24);
                break;
            case 'I':
                numbers(out, pos, fields, 2, 1, 1, 12, &ParsedFields::hour12);
                break;
            case 'M':
                numbers(out, pos, fields, 2, 1, 0, 59, &ParsedFields::minute);
                break;
            case 'S':
                numbers(out, pos, fields, 2, 1, 0, 61, &ParsedFields::second);
                break;
            case 'j':
                numbers(out, pos, fields, 3, 1, 1, 366, &ParsedFields::julian);
                break;
            case 'f':
                for (size_t width = 6; width >= 1; --width) {
                    auto value = digits(pos, width);
                    if (!value) continue;
                    Reading r{pos + width, fields};
                    std::int64_t micros = *value;
                    for (size_t i = width; i < 6; ++i) micros *= 10;
                    r.fields.microsecond = micros;
                    out.push_back(r);
                }
                break;
            case 'p':
                for (bool pm : {false, true}) {
                    if (starts_with_nocase(text_, pos, pm ? "PM" : "AM")) {
                        Reading r{pos + 2, fields};
                        r.fields.pm = pm;
                        out.push_back(r);
                    }
                }
                break;
            case 'a':
                names(out, pos, fields, false, false);
                break;
            case 'A':
                names(out, pos, fields, false, true);
                break;
            case 'b':
                names(out, pos, fields, true, false);
                break;
            case 'B':
                names(out, pos, fields, true, true);
                break;
            case 'z':
                offsets(out, pos, fields);
                break;
            case 'Z': {
                size_t end = pos;
                while (end < text_.size() && std::isalpha(static_cast<unsigned char>(text_[end]))) ++end;
                for (; end >= pos + 3; --end) out.push_back({end, fields});
                break;
            }
            case '%':
                if (pos < text_.size() && text_[pos] == '%') out.push_back({pos + 1, fields});
                break;
        }
        return out;
    }

    std::string_view text_;
    const std::vector<ParseToken>& tokens_;
    size_t furthest_ = 0;
    size_t steps_ = 0;
    std::optional<size_t> leftover_at_;
};

}  // namespace

Result<Instant> parse_strptime(std::string_view text, std::string_view python_format,
                               const TimeZone& zone_for_naive) {
    std::vector<ParseToken> tokens;
    for (size_t i = 0; i < python_format.size(); ++i) {
        const char c = python_format[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            while (i + 1 < python_format.size() &&
                   std::isspace(static_cast<unsigned char>(python_format[i + 1])))
                ++i;
            tokens.push_back({ParseToken::Kind::whitespace, ' '});
        } else if (c != '%') {
            tokens.push_back({ParseToken::Kind::literal, c});
        } else if (i + 1 == python_format.size()) {
            return make_error("format \"{}\" ends with a lone %: write %% for a percent sign", python_format);
        } else {
            const char d = python_format[++i];
            if (std::string_view("YmdHMSfzZjaAbByIp%").find(d) == std::string_view::npos) {
                return make_error("format \"{}\": unsupported directive %{}; supported directives are {}",
                                  python_format, d, kSupportedParseDirectives);
            }
            tokens.push_back({ParseToken::Kind::directive, d});
        }
    }

    StrptimeMatcher matcher(text, tokens);
    auto found = matcher.match();
    if (!found) {
        if (auto left = matcher.leftover_at()) {
            return make_error(
                "cannot read \"{}\" with format \"{}\": \"{}\" is left over after the format ends", text,
                python_format, text.substr(*left));
        }
        const size_t at = matcher.furthest();
        if (at >= text.size()) {
            return make_error("cannot read \"{}\" with format \"{}\": the text ends before the format does",
                              text, python_format);
        }
        return make_error(
            "cannot read \"{}\" with format \"{}\": the text stops matching at character {} (\"{}\")", text,
            python_format, at + 1, text.substr(at));
    }

    const ParsedFields& f = *found;
    CivilTime c;
    c.year = f.year4 ? *f.year4 : f.year2 ? (*f.year2 <= 68 ? 2000 + *f.year2 : 1900 + *f.year2) : 1900;
    c.month = static_cast<unsigned>(f.month.value_or(1));
    c.day = static_cast<unsigned>(f.day.value_or(1));
    int hour = f.hour24.value_or(0);
    if (f.hour12) {
        // Python: 12 AM is midnight, 12 PM is noon, and an hour without AM/PM counts as AM.
        hour = *f.hour12 % 12 + (f.pm.value_or(false) ? 12 : 0);
    }
    c.hour = static_cast<unsigned>(hour);
    c.minute = static_cast<unsigned>(f.minute.value_or(0));
    c.second = static_cast<unsigned>(f.second.value_or(0));
    c.microsecond = f.microsecond;
    if (c.second > 59) {
        return make_error("cannot read \"{}\" with format \"{}\": second {} is out of range 0-59", text,
                          python_format, c.second);
    }
    if (f.julian) {
        // As in Python, the day of the year wins over month and day, counting on into the next year.
        const auto date = std::chrono::year_month_day{
            std::chrono::local_days{std::chrono::year{c.year} / std::chrono::January / 1} +
            std::chrono::days{*f.julian - 1}};
        c.year = static_cast<int>(date.year());
        c.month = static_cast<unsigned>(date.month());
        c.day = static_cast<unsigned>(date.day());
    } else if (!is_valid_date(c.year, c.month, c.day)) {
        return make_error("cannot read \"{}\" with format \"{}\": day {} is out of range for {:04}-{:02}",
                          text, python_format, c.day, c.year, c.month);
    }
    const LocalTime local = c.to_local();
    if (f.offset) return Instant{local.time_since_epoch()} - *f.offset;
    return zone_for_naive.from_local(local, /*prefer_later=*/true);
}

}  // namespace mayaflow
