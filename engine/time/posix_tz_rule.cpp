#include "engine/time/posix_tz_rule.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace mayaflow {

namespace {

using std::chrono::seconds;

// Reads a POSIX TZ string left to right; each reader returns nullopt when the text does not fit.
class TzStringReader {
  public:
    explicit TzStringReader(std::string_view text) : text_(text) {}

    bool at_end() const { return pos_ == text_.size(); }
    bool take(char c) {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

    // A zone abbreviation: three or more letters, or anything but '>' inside <...>.
    std::optional<std::string> name() {
        if (take('<')) {
            size_t close = text_.find('>', pos_);
            if (close == std::string_view::npos || close == pos_) return std::nullopt;
            std::string result(text_.substr(pos_, close - pos_));
            pos_ = close + 1;
            return result;
        }
        size_t start = pos_;
        while (pos_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[pos_]))) ++pos_;
        if (pos_ - start < 3) return std::nullopt;
        return std::string(text_.substr(start, pos_ - start));
    }

    std::optional<int> number(int max_digits) {
        int value = 0;
        int digits = 0;
        while (digits < max_digits && std::isdigit(static_cast<unsigned char>(peek()))) {
            value = value * 10 + (text_[pos_++] - '0');
            ++digits;
        }
        if (digits == 0) return std::nullopt;
        return value;
    }

    // [+-]hh[:mm[:ss]], the form of both offsets and transition times.
    std::optional<seconds> signed_hms(int max_hours) {
        int sign = 1;
        if (take('-')) {
            sign = -1;
        } else {
            take('+');
        }
        auto hours = number(3);
        if (!hours || *hours > max_hours) return std::nullopt;
        int minutes = 0;
        int secs = 0;
        if (take(':')) {
            auto m = number(2);
            if (!m || *m > 59) return std::nullopt;
            minutes = *m;
            if (take(':')) {
                auto s = number(2);
                if (!s || *s > 59) return std::nullopt;
                secs = *s;
            }
        }
        return seconds(sign * (*hours * 3600 + minutes * 60 + secs));
    }

  private:
    std::string_view text_;
    size_t pos_ = 0;
};

}  // namespace

Result<PosixTzRule> PosixTzRule::parse(std::string_view text) {
    auto fail = [&] { return make_error("invalid POSIX TZ rule \"{}\"", text); };
    TzStringReader reader(text);
    PosixTzRule rule;

    auto std_name = reader.name();
    if (!std_name) return fail();
    // POSIX offsets count hours west of Greenwich; a UTC offset counts east.
    auto std_west = reader.signed_hms(24);
    if (!std_west) return fail();
    rule.std_name_ = *std_name;
    rule.std_offset_ = -*std_west;
    rule.dst_offset_ = rule.std_offset_;
    if (reader.at_end()) return rule;

    auto dst_name = reader.name();
    if (!dst_name) return fail();
    rule.dst_name_ = *dst_name;
    rule.dst_offset_ = rule.std_offset_ + std::chrono::hours(1);
    if (reader.peek() != ',') {
        auto dst_west = reader.signed_hms(24);
        if (!dst_west) return fail();
        rule.dst_offset_ = -*dst_west;
    }
    // A daylight name without change dates leaves the dates to the implementation; TZif footers
    // always give them, so this reader does not guess.
    if (!reader.take(',')) return fail();

    auto change_date = [&]() -> std::optional<ChangeDate> {
        ChangeDate date;
        if (reader.take('J')) {
            auto day = reader.number(3);
            if (!day || *day < 1 || *day > 365) return std::nullopt;
            date.form = ChangeDate::Form::julian_without_leap_day;
            date.day = *day;
        } else if (reader.take('M')) {
            auto month = reader.number(2);
            if (!month || *month < 1 || *month > 12 || !reader.take('.')) return std::nullopt;
            auto week = reader.number(1);
            if (!week || *week < 1 || *week > 5 || !reader.take('.')) return std::nullopt;
            auto weekday = reader.number(1);
            if (!weekday || *weekday > 6) return std::nullopt;
            date.form = ChangeDate::Form::month_week_day;
            date.month = *month;
            date.week = *week;
            date.weekday = *weekday;
        } else {
            auto day = reader.number(3);
            if (!day || *day > 365) return std::nullopt;
            date.form = ChangeDate::Form::zero_based_day;
            date.day = *day;
        }
        if (reader.take('/')) {
            auto time = reader.signed_hms(167);
            if (!time) return std::nullopt;
            date.time = *time;
        }
        return date;
    };

    auto start = change_date();
    if (!start || !reader.take(',')) return fail();
    auto end = change_date();
    if (!end || !reader.at_end()) return fail();
    rule.rules_ = ChangeRules{*start, *end};
    return rule;
}

std::chrono::sys_days PosixTzRule::day_in_year(int year, const ChangeDate& date) {
    using namespace std::chrono;
    const year_month_day jan1{std::chrono::year{year}, January, day{1}};
    const sys_days first = sys_days{jan1};
    switch (date.form) {
        case ChangeDate::Form::julian_without_leap_day: {
            // J60 is March 1 in every year: February 29 is never counted.
            int offset = date.day - 1;
            if (jan1.year().is_leap() && date.day >= 60) ++offset;
            return first + days{offset};
        }
        case ChangeDate::Form::zero_based_day:
            return first + days{date.day};
        case ChangeDate::Form::month_week_day:
            break;
    }
    const year_month ym{std::chrono::year{year}, month{static_cast<unsigned>(date.month)}};
    const sys_days month_start = sys_days{ym / day{1}};
    const sys_days month_last = sys_days{ym / last};
    const unsigned first_weekday = weekday{month_start}.c_encoding();
    const int first_match = static_cast<int>((date.weekday + 7 - first_weekday) % 7);
    sys_days result = month_start + days{first_match + 7 * (date.week - 1)};
    while (result > month_last) result -= days{7};  // week 5 means the last one
    return result;
}

PosixTzRule::Period PosixTzRule::period_at(Instant instant) const {
    using namespace std::chrono;
    if (!rules_) return Period{std_offset_, std_name_, Instant::min(), Instant::max()};

    struct Change {
        Instant at;
        bool to_daylight;
    };
    const auto local_day = floor<days>(instant + std_offset_);
    const int year = static_cast<int>(year_month_day{local_day}.year());
    std::array<Change, 6> changes;
    size_t n = 0;
    for (int y = year - 1; y <= year + 1; ++y) {
        // The start is written in standard time, the end in daylight time.
        const auto start =
            sys_seconds{day_in_year(y, rules_->dst_start)} + rules_->dst_start.time - std_offset_;
        const auto end = sys_seconds{day_in_year(y, rules_->dst_end)} + rules_->dst_end.time - dst_offset_;
        changes[n++] = Change{time_point_cast<Instant::duration>(start), true};
        changes[n++] = Change{time_point_cast<Instant::duration>(end), false};
    }
    // On a tie the end sorts first, so a rule that ends one year's daylight time exactly when the
    // next one starts (permanent daylight time) stays in daylight time.
    std::stable_sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
        if (a.at != b.at) return a.at < b.at;
        return !a.to_daylight && b.to_daylight;
    });

    Period period{std_offset_, std_name_, Instant::min(), Instant::max()};
    for (size_t i = 0; i < changes.size(); ++i) {
        if (changes[i].at > instant) {
            period.end = changes[i].at;
            break;
        }
        period.begin = changes[i].at;
        period.offset = changes[i].to_daylight ? dst_offset_ : std_offset_;
        period.abbreviation = changes[i].to_daylight ? dst_name_ : std_name_;
    }
    return period;
}

}  // namespace mayaflow
