#include "engine/time/cron_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "engine/time/civil_time.h"

namespace mayaflow {

namespace {

constexpr std::array<std::string_view, 12> kCronMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                              "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kCronDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// What one of the five fields is called and which values it takes.
struct FieldSpec {
    const char* name;
    int min;
    int max;
    const std::array<std::string_view, 12>* month_names;
    const std::array<std::string_view, 7>* day_names;
};

constexpr FieldSpec kMinute{"minute", 0, 59, nullptr, nullptr};
constexpr FieldSpec kHour{"hour", 0, 23, nullptr, nullptr};
constexpr FieldSpec kDayOfMonth{"day-of-month", 1, 31, nullptr, nullptr};
constexpr FieldSpec kMonth{"month", 1, 12, &kCronMonthNames, nullptr};
constexpr FieldSpec kDayOfWeek{"day-of-week", 0, 7, nullptr, &kCronDayNames};

std::string upper(std::string_view text) {
    std::string s(text);
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// Parses one field; every error is phrased about the field and then prefixed with the expression.
class FieldParser {
  public:
    FieldParser(const FieldSpec& spec, std::string_view field) : spec_(spec), field_(field) {}

    // The values the field allows, as bits; day fields also fill the `L` and `#` parts of `fields`.
    Result<std::uint64_t> parse(CronFields& fields) {
        if (field_.empty()) return fail("is empty");
        std::uint64_t bits = 0;
        size_t start = 0;
        while (true) {
            const size_t comma = field_.find(',', start);
            const std::string_view item = field_.substr(
                start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
            if (item.empty()) return fail("has an empty list item (two commas, or a comma at an end)");
            auto item_bits = parse_item(item, fields);
            if (!item_bits.ok()) return item_bits;
            bits |= *item_bits;
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
        if (&spec_ == &kDayOfWeek && (bits & (1u << 7))) {
            bits = (bits & ~std::uint64_t{1u << 7}) | 1u;  // 7 is Sunday, as 0 is
        }
        return bits;
    }

    // Whether an item was a bare `*` or `?` (not `*/n`): croniter then calls the field unrestricted
    // whatever else it lists.
    bool has_bare_star() const { return bare_star_; }

  private:
    Error fail(std::string_view why) const {
        return make_error("{} field \"{}\" {}", spec_.name, field_, why);
    }
    // Names the part at fault when it is not the whole field: `hour field "1,25": "25" is out of range`.
    Error fail_at(std::string_view part, std::string_view why) const {
        if (part == field_ || part.empty()) return fail(why);
        return make_error("{} field \"{}\": \"{}\" {}", spec_.name, field_, part, why);
    }

    // A number or (for months and weekdays) a three-letter name, checked against the field's range.
    Result<int> value(std::string_view item, std::string_view text) const {
        if (text.empty()) return fail_at(item, "is missing a value");
        const bool numeric = std::all_of(text.begin(), text.end(),
                                         [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        if (numeric) {
            const int v = text.size() > 4 ? spec_.max + 1 : std::stoi(std::string(text));
            if (v < spec_.min || v > spec_.max) {
                return fail_at(text, fmt::format("is out of range {}-{}", spec_.min, spec_.max));
            }
            return v;
        }
        const std::string name = upper(text);
        if (spec_.month_names) {
            for (size_t i = 0; i < spec_.month_names->size(); ++i) {
                if ((*spec_.month_names)[i] == name) return static_cast<int>(i) + 1;
            }
            return fail_at(text, "is neither a number 1-12 nor a month name JAN-DEC");
        }
        if (spec_.day_names) {
            for (size_t i = 0; i < spec_.day_names->size(); ++i) {
                if ((*spec_.day_names)[i] == name) return static_cast<int>(i);
            }
            return fail_at(text, "is neither a number 0-7 (0 and 7 are Sunday) nor a day name SUN-SAT");
        }
        return fail_at(text, fmt::format("is not a number {}-{}", spec_.min, spec_.max));
    }

    Result<std::uint64_t> parse_item(std::string_view item, CronFields& fields) {
        const std::string up = upper(item);
        if (&spec_ == &kDayOfMonth) {
            if (up == "L") {
                fields.days_before_last |= 1u;
                return std::uint64_t{0};
            }
            if (up.rfind("L-", 0) == 0) {
                const std::string_view n = item.substr(2);
                const bool numeric =
                    !n.empty() && n.size() <= 2 && std::all_of(n.begin(), n.end(), [](char c) {
                        return std::isdigit(static_cast<unsigned char>(c));
                    });
                if (!numeric || std::stoi(std::string(n)) > 30) {
                    return fail_at(item,
                                   "should be L-n with n from 0 to 30 (n days before the month's last day)");
                }
                fields.days_before_last |= 1u << std::stoi(std::string(n));
                return std::uint64_t{0};
            }
            if (up.find('W') != std::string::npos) {
                return fail_at(item, "uses W (nearest weekday), which mayaflow does not support");
            }
        }
        if (&spec_ == &kDayOfWeek) {
            if (up == "L") {
                return fail_at(item,
                               "is ambiguous; write nL for the month's last weekday n, e.g. 5L or FRIL "
                               "for its last Friday");
            }
            // The month's last weekday: mayaflow's `5L`/`FRIL` or croniter's `L5`/`LFRI`.
            if (up.size() > 1 && (up.back() == 'L' || up.front() == 'L')) {
                const std::string_view weekday_text =
                    up.back() == 'L' ? item.substr(0, item.size() - 1) : item.substr(1);
                auto weekday = single_weekday(item, weekday_text, "L");
                if (!weekday.ok()) return weekday.error();
                fields.last_weekdays |= static_cast<std::uint8_t>(1u << *weekday);
                return std::uint64_t{0};
            }
            if (const size_t hash = item.find('#'); hash != std::string_view::npos) {
                auto weekday = single_weekday(item, item.substr(0, hash), "#");
                if (!weekday.ok()) return weekday.error();
                const std::string_view k_text = item.substr(hash + 1);
                const bool numeric = !k_text.empty() && k_text.size() <= 3 &&
                                     std::all_of(k_text.begin(), k_text.end(), [](char c) {
                                         return std::isdigit(static_cast<unsigned char>(c));
                                     });
                const int k = numeric ? std::stoi(std::string(k_text)) : 0;
                if (k < 1 || k > 5) {
                    return fail_at(item,
                                   "should be w#k with k from 1 to 5 (the k-th weekday w of the month)");
                }
                fields.nth_weekdays[*weekday] |= static_cast<std::uint8_t>(1u << (k - 1));
                return std::uint64_t{0};
            }
        }
        if (item.find('#') != std::string_view::npos) {
            return fail_at(item, "uses #, which only the day-of-week field takes");
        }
        if (up == "L") {
            return fail_at(item, "uses L, which only the day-of-month and day-of-week fields take");
        }

        // [base][/step] with base *, ?, a value or a range a-b.
        std::string_view base = item;
        std::optional<int> step;
        if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
            base = item.substr(0, slash);
            const std::string_view step_text = item.substr(slash + 1);
            const bool numeric = !step_text.empty() &&
                                 std::all_of(step_text.begin(), step_text.end(), [](char c) {
                                     return std::isdigit(static_cast<unsigned char>(c));
                                 });
            if (!numeric) return fail_at(item, "needs a whole number after /");
            // Any step from 1 up, as croniter takes it: one beyond the field's range (`*/90`) keeps
            // the first value only (cron_step_warning says so). Counted up to 1000: larger ones mean
            // the same, and a pasted megabyte of digits cannot overflow.
            int parsed_step = 0;
            for (char c : step_text) parsed_step = std::min(parsed_step * 10 + (c - '0'), 1000);
            step = parsed_step;
            if (*step < 1) return fail_at(item, "has step 0; a step must be 1 or more (*/1 is every value)");
        }
        int low = spec_.min;
        int high = spec_.max;
        if (base == "*" || base == "?") {
            if (!step) bare_star_ = true;
            if (base == "?" && &spec_ != &kDayOfMonth && &spec_ != &kDayOfWeek) {
                return fail_at(item, "uses ?, which only the day-of-month and day-of-week fields take");
            }
        } else if (const size_t dash = base.find('-'); dash != std::string_view::npos && dash > 0) {
            auto a = value(item, base.substr(0, dash));
            if (!a.ok()) return a.error();
            // `10-L`: days 10 to 31 as croniter reads it, which is the 10th to the month's last day.
            const std::string_view end = base.substr(dash + 1);
            const bool to_last_day = &spec_ == &kDayOfMonth && (end == "L" || end == "l");
            auto b = to_last_day ? Result<int>(spec_.max) : value(item, end);
            if (!b.ok()) return b.error();
            low = *a;
            high = *b;
            if (&spec_ == &kDayOfWeek && high == 0 && low > 0) high = 7;  // FRI-SUN runs to Sunday as 7
            if (low > high) {
                return fail_at(item,
                               fmt::format("is a range that starts after it ends; write it as two parts, "
                                           "e.g. \"{}-{},{}-{}\"",
                                           low, spec_.max, spec_.min, high));
            }
        } else {
            auto v = value(item, base);
            if (!v.ok()) return v.error();
            low = *v;
            high = step ? spec_.max : *v;  // a/n runs from a to the field's end
        }
        std::uint64_t bits = 0;
        for (int v = low; v <= high; v += step.value_or(1)) bits |= std::uint64_t{1} << v;
        return bits;
    }

    // The weekday before `L` or `#`: one number 0-7 or one name, not a range or list.
    Result<int> single_weekday(std::string_view item, std::string_view text, std::string_view mark) const {
        if (text.find_first_of("-/*?") != std::string_view::npos) {
            return fail_at(item, fmt::format("puts {} after more than one weekday; {} takes a single weekday "
                                             "such as 5 or FRI",
                                             mark, mark));
        }
        auto v = value(item, text);
        if (!v.ok()) return v.error();
        return *v % 7;
    }

    const FieldSpec& spec_;
    std::string_view field_;
    bool bare_star_ = false;
};

// croniter calls a field unrestricted when it holds a bare `*` or lists exactly as many distinct values as
// its range has, `L` being one more value of the day of month (so `2-31,L` is unrestricted and `*/1,L`
// is not) and each `#`/`L` weekday one of the weekdays.
void read_day_fields_as_croniter(CronFields& fields, bool day_of_month_star, bool day_of_week_star) {
    const int month_days = std::popcount(fields.days_of_month) + ((fields.days_before_last & 1u) ? 1 : 0);
    fields.day_of_month_unrestricted = day_of_month_star || month_days == 31;

    std::uint8_t special = fields.last_weekdays;
    for (unsigned w = 0; w < 7; ++w) {
        if (fields.nth_weekdays[w] != 0) special |= static_cast<std::uint8_t>(1u << w);
    }
    fields.day_of_week_unrestricted =
        day_of_week_star || std::popcount(static_cast<unsigned>(fields.weekdays | special)) == 7;
    fields.plain_weekdays_ignored =
        special != 0 && (fields.day_of_week_unrestricted || (fields.weekdays & ~special) == 0);
}

unsigned days_in_month_of(unsigned month, bool leap) {
    static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

bool CronFields::has_nth_or_last_weekdays() const {
    return last_weekdays != 0 ||
           std::any_of(nth_weekdays.begin(), nth_weekdays.end(), [](std::uint8_t k) { return k != 0; });
}

std::uint32_t CronFields::matching_days(unsigned last_day, unsigned first_weekday) const {
    const auto in_month =
        static_cast<std::uint32_t>(((std::uint64_t{1} << (last_day + 1)) - 1) & ~std::uint64_t{1});
    std::uint32_t by_month_day = in_month;
    if (!day_of_month_unrestricted) {
        by_month_day = days_of_month & in_month;
        for (unsigned n = 0; n < last_day; ++n) {
            if (days_before_last & (1u << n)) by_month_day |= 1u << (last_day - n);
        }
    }
    const bool nth_or_last = has_nth_or_last_weekdays();
    std::uint32_t by_weekday = in_month;
    if (!day_of_week_unrestricted || nth_or_last) {
        by_weekday = 0;
        const std::uint8_t plain = plain_weekdays_ignored ? 0 : weekdays;
        for (unsigned day = 1; day <= last_day; ++day) {
            const unsigned weekday = (first_weekday + day - 1) % 7;
            const bool nth = nth_weekdays[weekday] & (1u << ((day - 1) / 7));
            const bool last = (last_weekdays & (1u << weekday)) && day + 7 > last_day;
            if ((plain & (1u << weekday)) || nth || last) by_weekday |= 1u << day;
        }
    }
    if (day_of_month_unrestricted || day_of_week_unrestricted) return by_month_day & by_weekday;
    return nth_or_last ? by_weekday : by_month_day | by_weekday;
}

Result<CronFields> parse_cron_fields(std::string_view text) {
    std::vector<std::string_view> parts;
    size_t pos = 0;
    while (pos < text.size()) {
        while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
        const size_t start = pos;
        while (pos < text.size() && !std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
        if (pos > start) parts.push_back(text.substr(start, pos - start));
    }
    if (parts.size() != 5) {
        return make_error(
            "cron \"{}\": expected 5 fields (minute hour day-of-month month day-of-week), found {}{}", text,
            parts.size(),
            parts.size() == 6 || parts.size() == 7 ? "; seconds and years are not supported" : "");
    }

    CronFields fields;
    const std::array<const FieldSpec*, 5> specs = {&kMinute, &kHour, &kDayOfMonth, &kMonth, &kDayOfWeek};
    std::array<std::uint64_t, 5> bits{};
    std::array<bool, 5> bare_star{};
    for (size_t i = 0; i < 5; ++i) {
        FieldParser parser(*specs[i], parts[i]);
        auto parsed = parser.parse(fields);
        if (!parsed.ok()) return make_error("cron \"{}\": {}", text, parsed.error().message);
        bits[i] = *parsed;
        bare_star[i] = parser.has_bare_star();
    }
    fields.minutes = bits[0];
    fields.hours = static_cast<std::uint32_t>(bits[1]);
    fields.days_of_month = static_cast<std::uint32_t>(bits[2]);
    fields.months = static_cast<std::uint16_t>(bits[3]);
    fields.weekdays = static_cast<std::uint8_t>(bits[4]);
    read_day_fields_as_croniter(fields, bare_star[2], bare_star[4]);

    // Every (month, leap year, weekday of the 1st) occurs in the 400-year cycle, so trying each tells
    // whether the expression ever fires.
    std::string months;
    for (unsigned month = 1; month <= 12; ++month) {
        if (!(fields.months & (1u << month))) continue;
        for (bool leap : {false, true}) {
            for (unsigned first = 0; first < 7; ++first) {
                if (fields.matching_days(days_in_month_of(month, leap), first) != 0) return fields;
            }
        }
        months += months.empty() ? "" : ", ";
        months += kMonthNames[month - 1];
    }
    return make_error(
        "cron \"{}\" never fires: no day of {} matches day-of-month \"{}\" {} day-of-week \"{}\"", text,
        months, parts[2], fields.day_of_month_unrestricted || fields.day_of_week_unrestricted ? "and" : "or",
        parts[4]);
}

}  // namespace mayaflow
