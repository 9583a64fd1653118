#include "engine/time/iso8601.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <optional>

#include "engine/time/civil_time.h"

namespace mayaflow {

namespace {

constexpr const char* kAcceptedForms =
    "use YYYY-MM-DD, YYYY-MM-DDTHH:MM, YYYY-MM-DDTHH:MM:SS[.ffffff] (a space may replace the T), "
    "optionally followed by Z, +HH:MM or +HHMM";

// Reads the date-time grammar left to right, remembering the first problem it meets.
class DateTimeReader {
  public:
    explicit DateTimeReader(std::string_view text) : text_(text) {}

    bool at_end() const { return pos_ == text_.size(); }
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    bool take(char c) {
        if (peek() != c || at_end()) return false;
        ++pos_;
        return true;
    }
    // Exactly `count` digits.
    std::optional<int> digits(size_t count) {
        if (pos_ + count > text_.size()) return std::nullopt;
        int value = 0;
        for (size_t i = 0; i < count; ++i) {
            const char c = text_[pos_ + i];
            if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
            value = value * 10 + (c - '0');
        }
        pos_ += count;
        return value;
    }
    // One or more digits as a fraction of a second, kept to the microsecond.
    std::optional<std::int64_t> fraction() {
        std::int64_t micros = 0;
        size_t count = 0;
        while (std::isdigit(static_cast<unsigned char>(peek())) && !at_end()) {
            if (count < 6) micros = micros * 10 + (text_[pos_] - '0');
            ++count;
            ++pos_;
        }
        if (count == 0 || count > 9) return std::nullopt;
        for (size_t i = count; i < 6; ++i) micros *= 10;
        return micros;
    }

  private:
    std::string_view text_;
    size_t pos_ = 0;
};

// The instants whose UTC date-time has a year of 0001-9999, Python's datetime's range: one outside it
// would print as a year format_iso8601 cannot write back in four digits (`0000-12-31T15:00:00+00:00`
// from `0001-01-01T00:00:00+09:00`).
constexpr Instant kFirstReadable{std::chrono::sys_days{std::chrono::year{1} / std::chrono::January / 1}.time_since_epoch()};
constexpr Instant kLastReadable{
    std::chrono::sys_days{std::chrono::year{10000} / std::chrono::January / 1}.time_since_epoch() - Duration{1}};

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

}  // namespace

std::string format_utc_offset(std::chrono::seconds offset, bool with_colon) {
    const long long total = offset.count();
    const long long magnitude = total < 0 ? -total : total;
    const char sign = total < 0 ? '-' : '+';
    const char* colon = with_colon ? ":" : "";
    std::string text = fmt::format("{}{:02}{}{:02}", sign, magnitude / 3600, colon, magnitude % 3600 / 60);
    if (magnitude % 60 != 0) text += fmt::format("{}{:02}", colon, magnitude % 60);
    return text;
}

std::string format_iso8601(Instant instant, const TimeZone& zone) {
    const auto offset = zone.offset_at(instant);
    const CivilTime c = CivilTime::from(LocalTime{instant.time_since_epoch() + offset});
    std::string text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", c.year, c.month, c.day, c.hour,
                                   c.minute, c.second);
    if (c.microsecond != 0) text += fmt::format(".{:06}", c.microsecond);
    return text + format_utc_offset(offset, true);
}

std::string format_date(Instant instant, const TimeZone& zone) {
    const CivilTime c = CivilTime::from(zone.to_local(instant));
    return fmt::format("{:04}-{:02}-{:02}", c.year, c.month, c.day);
}

Result<Instant> parse_datetime(std::string_view raw, const TimeZone& zone_for_naive) {
    const std::string_view text = trim(raw);
    auto syntax_error = [&] { return make_error("invalid date-time \"{}\": {}", raw, kAcceptedForms); };
    DateTimeReader reader(text);

    CivilTime c;
    auto year = reader.digits(4);
    if (!year || !reader.take('-')) return syntax_error();
    auto month = reader.digits(2);
    if (!month || !reader.take('-')) return syntax_error();
    auto day = reader.digits(2);
    if (!day) return syntax_error();
    c.year = *year;
    c.month = static_cast<unsigned>(*month);
    c.day = static_cast<unsigned>(*day);
    if (c.month < 1 || c.month > 12) {
        return make_error("invalid date-time \"{}\": month {} is out of range 1-12", raw, c.month);
    }
    if (!is_valid_date(c.year, c.month, c.day)) {
        return make_error(
            "invalid date-time \"{}\": day {} is out of range for {:04}-{:02} (which has {} days)", raw,
            c.day, c.year, c.month, days_in_month(c.year, c.month));
    }

    std::optional<std::chrono::seconds> offset;
    if (!reader.at_end()) {
        if (!reader.take('T') && !reader.take('t') && !reader.take(' ')) return syntax_error();
        auto hour = reader.digits(2);
        if (!hour || !reader.take(':')) return syntax_error();
        auto minute = reader.digits(2);
        if (!minute) return syntax_error();
        int second = 0;
        if (reader.take(':')) {
            auto s = reader.digits(2);
            if (!s) return syntax_error();
            second = *s;
            if (reader.take('.') || reader.take(',')) {
                auto micros = reader.fraction();
                if (!micros) return syntax_error();
                c.microsecond = *micros;
            }
        }
        if (*hour > 23 || *minute > 59 || second > 59) {
            return make_error(
                "invalid date-time \"{}\": time {:02}:{:02}:{:02} is out of range (hours 00-23, "
                "minutes and seconds 00-59)",
                raw, *hour, *minute, second);
        }
        c.hour = static_cast<unsigned>(*hour);
        c.minute = static_cast<unsigned>(*minute);
        c.second = static_cast<unsigned>(second);

        if (reader.take('Z') || reader.take('z')) {
            offset = std::chrono::seconds{0};
        } else if (reader.peek() == '+' || reader.peek() == '-') {
            const int sign = reader.peek() == '-' ? -1 : 1;
            reader.take(reader.peek());
            auto hours = reader.digits(2);
            if (!hours) return syntax_error();
            int minutes = 0;
            if (!reader.at_end()) {
                reader.take(':');
                auto m = reader.digits(2);
                if (!m) return syntax_error();
                minutes = *m;
            }
            if (*hours > 23 || minutes > 59) {
                return make_error(
                    "invalid date-time \"{}\": UTC offset {:02}:{:02} is out of range (at most 23:59)", raw,
                    *hours, minutes);
            }
            offset = std::chrono::seconds{sign * (*hours * 3600 + minutes * 60)};
        }
    }
    if (!reader.at_end()) return syntax_error();

    const LocalTime local = c.to_local();
    const Instant instant =
        offset ? Instant{local.time_since_epoch()} - *offset : zone_for_naive.from_local(local, /*prefer_later=*/true);
    if (instant < kFirstReadable || instant > kLastReadable) {
        return make_error("invalid date-time \"{}\": it falls outside the years 0001-9999 in UTC", raw);
    }
    return instant;
}

}  // namespace mayaflow
