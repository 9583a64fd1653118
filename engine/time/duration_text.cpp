#include "engine/time/duration_text.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>

#include "engine/util/text.h"

namespace mayaflow {

namespace {

constexpr const char* kAcceptedForms =
    "use a whole number with a unit such as 90s, 5m, 1h30m, 2h, 1d, 1w or 500ms (units w, d, h, m, s, ms, "
    "us, largest first), a bare number of seconds such as 300, or ISO 8601 such as PT15M or P1DT2H";

struct Unit {
    std::string_view name;
    std::int64_t micros;
};

constexpr std::int64_t kSecond = 1'000'000;
constexpr std::array<Unit, 7> kUnits = {{{"w", 7 * 86400 * kSecond},
                                         {"d", 86400 * kSecond},
                                         {"h", 3600 * kSecond},
                                         {"m", 60 * kSecond},
                                         {"s", kSecond},
                                         {"ms", 1000},
                                         {"us", 1}}};

// Adds count * unit to total unless the sum leaves the range a Duration can hold.
bool accumulate(std::int64_t& total, std::int64_t count, std::int64_t unit) {
    std::int64_t product = 0;
    if (__builtin_mul_overflow(count, unit, &product)) return false;
    return !__builtin_add_overflow(total, product, &total);
}

bool is_digit(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

// Reads a run of digits as a non-negative integer; nullopt when there are none or they overflow.
std::optional<std::int64_t> read_integer(std::string_view text, size_t& pos, bool& overflow) {
    const size_t start = pos;
    std::int64_t value = 0;
    while (pos < text.size() && is_digit(text[pos])) {
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_add_overflow(value, text[pos] - '0', &value)) {
            overflow = true;
        }
        ++pos;
    }
    if (pos == start) return std::nullopt;
    return value;
}

// A value as error messages show it: quoted, and shortened when long (a pasted megabyte stays short).
std::string quoted(std::string_view text) { return quote_for_message(text); }

// The longest duration accepted. Every date mayaflow handles lies within years 1..9999, so adding
// or subtracting 100 years (or a few multiples, as retry back-off does) never leaves the range an
// Instant counts in microseconds; no real timeout, delay or interval is longer.
constexpr std::int64_t kLongestDuration = std::int64_t{36'500} * 86400 * kSecond;

Error too_large(std::string_view raw) {
    return make_error("invalid duration {}: it is too large (the limit is 36500d, about 100 years)",
                      quoted(raw));
}

Result<Duration> within_limit(std::string_view raw, std::int64_t total) {
    if (total > kLongestDuration) return too_large(raw);
    return Duration{total};
}

Result<Duration> parse_iso8601_duration(std::string_view raw, std::string_view text) {
    auto syntax_error = [&] {
        return make_error(
            "invalid duration {}: ISO 8601 durations look like P1W, P1D, PT15M, P1DT2H30M or "
            "PT0.5S",
            quoted(raw));
    };
    size_t pos = 1;  // after the P
    std::int64_t total = 0;
    bool in_time = false;
    bool any = false;
    std::string_view order = "WD";  // designators still allowed, in order
    while (pos < text.size()) {
        const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(text[pos])));
        if (upper == 'T' && !in_time) {
            in_time = true;
            order = "HMS";
            ++pos;
            if (pos == text.size()) return syntax_error();
            continue;
        }
        bool overflow = false;
        auto count = read_integer(text, pos, overflow);
        if (!count) return syntax_error();
        std::int64_t micros_fraction = 0;
        bool has_fraction = false;
        if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
            has_fraction = true;
            ++pos;
            const size_t start = pos;
            std::int64_t scale = 100000;
            while (pos < text.size() && is_digit(text[pos])) {
                micros_fraction += (text[pos] - '0') * scale;
                scale /= 10;
                ++pos;
            }
            if (pos == start) return syntax_error();
        }
        if (pos == text.size()) return syntax_error();
        const char designator = static_cast<char>(std::toupper(static_cast<unsigned char>(text[pos++])));
        if (!in_time && (designator == 'Y' || designator == 'M')) {
            return make_error(
                "invalid duration {}: years and months have no fixed length; use a cron "
                "schedule such as @monthly or @yearly, or count days (P30D)",
                quoted(raw));
        }
        const size_t at = order.find(designator);
        if (at == std::string_view::npos) return syntax_error();
        order.remove_prefix(at + 1);
        if (has_fraction && designator != 'S') return syntax_error();
        if (overflow) return too_large(raw);
        std::int64_t unit = 0;
        switch (designator) {
            case 'W':
                unit = 7 * 86400 * kSecond;
                break;
            case 'D':
                unit = 86400 * kSecond;
                break;
            case 'H':
                unit = 3600 * kSecond;
                break;
            case 'M':
                unit = 60 * kSecond;
                break;
            default:
                unit = kSecond;
                break;
        }
        if (!accumulate(total, *count, unit) || !accumulate(total, micros_fraction, 1)) return too_large(raw);
        any = true;
    }
    if (!any) return syntax_error();
    return within_limit(raw, total);
}

}  // namespace

Result<Duration> parse_duration(std::string_view raw) {
    const std::string_view text = trim(raw);
    if (text.empty()) return make_error("duration is empty: {}", kAcceptedForms);
    if (text.front() == '-') {
        return make_error("invalid duration {}: durations cannot be negative; {}", quoted(raw), kAcceptedForms);
    }
    if (text.front() == 'P' || text.front() == 'p') return parse_iso8601_duration(raw, text);

    std::int64_t total = 0;
    size_t pos = 0;
    size_t next_unit = 0;  // units must come largest first, each once
    while (pos < text.size()) {
        bool overflow = false;
        auto count = read_integer(text, pos, overflow);
        if (!count) {
            return make_error("invalid duration {}: expected a number at {}; {}", quoted(raw),
                              quoted(text.substr(pos)), kAcceptedForms);
        }
        if (pos < text.size() && text[pos] == '.') {
            return make_error(
                "invalid duration {}: use whole numbers of a unit (1h30m rather than 1.5h); {}", quoted(raw),
                kAcceptedForms);
        }
        if (overflow) return too_large(raw);
        const size_t unit_start = pos;
        while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
        const std::string_view unit_name = text.substr(unit_start, pos - unit_start);
        if (unit_name.empty()) {
            if (next_unit == 0 && pos == text.size()) {  // the whole text is one number: seconds
                if (!accumulate(total, *count, kSecond)) return too_large(raw);
                return within_limit(raw, total);
            }
            return make_error("invalid duration {}: \"{}\" needs a unit; {}", quoted(raw), *count,
                              kAcceptedForms);
        }
        size_t index = 0;
        while (index < kUnits.size() && kUnits[index].name != unit_name) ++index;
        if (index == kUnits.size()) {
            const bool looks_like_month = unit_name == "M" || unit_name == "mo" || unit_name == "mon";
            return make_error("invalid duration {}: unknown unit {}{}; {}", quoted(raw), quoted(unit_name),
                              looks_like_month
                                  ? " (months have no fixed length; use a cron schedule such as @monthly)"
                                  : "",
                              kAcceptedForms);
        }
        if (index < next_unit) {
            return make_error(
                "invalid duration {}: units must go from largest to smallest, each once "
                "(w, d, h, m, s, ms, us); {}",
                quoted(raw), kAcceptedForms);
        }
        next_unit = index + 1;
        if (!accumulate(total, *count, kUnits[index].micros)) return too_large(raw);
        while (pos < text.size() && text[pos] == ' ') ++pos;
    }
    return within_limit(raw, total);
}

std::string format_duration(Duration duration) {
    std::int64_t micros = duration.count();
    if (micros == 0) return "0s";
    std::string text;
    // The most negative count has no positive twin; its magnitude is taken as unsigned.
    std::uint64_t left =
        micros < 0 ? 0 - static_cast<std::uint64_t>(micros) : static_cast<std::uint64_t>(micros);
    if (micros < 0) text += '-';
    for (const Unit& unit : kUnits) {
        if (unit.name == "w") continue;  // days read more easily: 14d, not 2w
        const auto size = static_cast<std::uint64_t>(unit.micros);
        if (left >= size) {
            text += fmt::format("{}{}", left / size, unit.name);
            left %= size;
        }
    }
    return text;
}

}  // namespace mayaflow
