#include "engine/time/cron_reading.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cstdint>
#include <vector>

#include "engine/time/civil_time.h"
#include "engine/util/text.h"

namespace mayaflow {

namespace {

constexpr std::array<std::string_view, 7> kWeekdays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 6> kOrdinals = {"", "first", "second", "third", "fourth", "fifth"};
// Weekdays in the order people list them.
constexpr std::array<unsigned, 7> kMondayFirst = {1, 2, 3, 4, 5, 6, 0};
constexpr std::uint32_t kEveryMonthDay = 0xFFFFFFFEu;  // bits 1-31
constexpr std::uint8_t kEveryWeekday = 0x7F;

// "a", "a and b", "a, b and c" (or "or").
std::string join_words(const std::vector<std::string>& items, std::string_view conjunction) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += i + 1 == items.size() ? fmt::format(" {} ", conjunction) : ", ";
        out += items[i];
    }
    return out;
}

// "2nd", "3rd", "11th", "21st".
std::string ordinal(unsigned n) {
    const unsigned tens = n % 100 / 10;
    const char* suffix = tens == 1     ? "th"
                         : n % 10 == 1 ? "st"
                         : n % 10 == 2 ? "nd"
                         : n % 10 == 3 ? "rd"
                                       : "th";
    return std::to_string(n) + suffix;
}

// A field's phrase and whether it names more than one day ("odd days" or "day 13").
struct Phrase {
    std::string text;
    bool plural = false;
};

Phrase month_days_phrase(const CronFields& f) {
    std::vector<unsigned> days;
    for (unsigned d = 1; d <= 31; ++d) {
        if (f.days_of_month & (1u << d)) days.push_back(d);
    }
    std::vector<std::string> items;
    const bool progression = days.size() >= 3 && [&] {
        for (size_t i = 2; i < days.size(); ++i) {
            if (days[i] - days[i - 1] != days[1] - days[0]) return false;
        }
        return days[1] - days[0] >= 2;
    }();
    if (days.size() == 31) {
        items.push_back("every day");
    } else if (progression && days[1] - days[0] == 2 && days[0] <= 2 && days.back() >= 30) {
        items.push_back(days[0] == 1 ? "odd days" : "even days");
    } else if (progression && days.size() > 5) {
        items.push_back(fmt::format("days {}, {}, {}, ..., {}", days[0], days[1], days[2], days.back()));
    } else {
        for (size_t i = 0; i < days.size();) {
            size_t end = i;
            while (end + 1 < days.size() && days[end + 1] == days[end] + 1) ++end;
            if (end - i >= 2) {
                items.push_back(fmt::format("{} to {}", days[i], days[end]));
            } else {
                end = i;
                items.push_back(std::to_string(days[i]));
            }
            i = end + 1;
        }
        if (!items.empty()) items.front() = (days.size() == 1 ? "day " : "days ") + items.front();
    }
    for (unsigned n = 0; n <= 30 && days.size() < 31; ++n) {
        if (!(f.days_before_last & (1u << n))) continue;
        items.push_back(n == 0 ? std::string("the last day")
                               : fmt::format("the {}-to-last day", ordinal(n + 1)));
    }
    const size_t named = days.size() + static_cast<size_t>(std::popcount(f.days_before_last));
    return {join_words(items, "and") + " of the month", named > 1};
}

// Plain weekdays as runs in Monday-first order: {first, last} pairs.
std::vector<std::pair<unsigned, unsigned>> weekday_runs(std::uint8_t weekdays) {
    std::vector<std::pair<unsigned, unsigned>> runs;
    for (size_t i = 0; i < kMondayFirst.size();) {
        if (!(weekdays & (1u << kMondayFirst[i]))) {
            ++i;
            continue;
        }
        size_t end = i;
        while (end + 1 < kMondayFirst.size() && (weekdays & (1u << kMondayFirst[end + 1]))) ++end;
        runs.emplace_back(kMondayFirst[i], kMondayFirst[end]);
        if (end - i == 1) {  // two days are listed, not a range
            runs.back().second = runs.back().first;
            runs.emplace_back(kMondayFirst[end], kMondayFirst[end]);
        }
        i = end + 1;
    }
    return runs;
}

// "the second Friday", "the last Monday", in Monday-first order.
std::vector<std::string> nth_and_last_items(const CronFields& f) {
    std::vector<std::string> items;
    for (unsigned w : kMondayFirst) {
        for (unsigned k = 1; k <= 5; ++k) {
            if (f.nth_weekdays[w] & (1u << (k - 1)))
                items.push_back(fmt::format("the {} {}", kOrdinals[k], kWeekdays[w]));
        }
        if (f.last_weekdays & (1u << w)) items.push_back(fmt::format("the last {}", kWeekdays[w]));
    }
    return items;
}

// The day-of-week field's days: plural ("Mondays to Fridays and the second Saturday of the month") and
// singular ("a Monday or a Friday"), with or without its plain weekdays.
struct WeekdaysPhrase {
    std::string plural;     // "Mondays and Fridays"
    std::string plural_or;  // "Mondays or Fridays"
    std::string singular;   // "a Monday or a Friday"
};

WeekdaysPhrase weekdays_phrase(const CronFields& f, bool with_plain_weekdays) {
    const std::uint8_t plain = with_plain_weekdays ? f.weekdays : 0;
    if (plain == kEveryWeekday)
        return {"every day of the week", "any day of the week", "any day of the week"};
    std::vector<std::string> plural, singular;
    for (const auto& [first, last] : weekday_runs(plain)) {
        if (first == last) {
            plural.push_back(fmt::format("{}s", kWeekdays[first]));
            singular.push_back(fmt::format("a {}", kWeekdays[first]));
        } else {
            plural.push_back(fmt::format("{}s to {}s", kWeekdays[first], kWeekdays[last]));
            singular.push_back(fmt::format("a day from {} to {}", kWeekdays[first], kWeekdays[last]));
        }
    }
    const std::vector<std::string> nth = nth_and_last_items(f);
    plural.insert(plural.end(), nth.begin(), nth.end());
    singular.insert(singular.end(), nth.begin(), nth.end());
    const std::string of_month = nth.empty() ? "" : " of the month";
    return {join_words(plural, "and") + of_month, join_words(plural, "or") + of_month,
            join_words(singular, "or") + of_month};
}

// How one reader combines the two day fields.
enum class Combination { every_day, month_days_only, weekdays_only, either, both };

// A reading in words: "on odd days of the month or on Mondays".
std::string words(Combination how, const CronFields& f, bool with_plain_weekdays) {
    const Phrase month_days = month_days_phrase(f);
    const WeekdaysPhrase weekdays = weekdays_phrase(f, with_plain_weekdays);
    switch (how) {
        case Combination::every_day:
            return "every day";
        case Combination::month_days_only:
            return "on " + month_days.text;
        case Combination::weekdays_only:
            return "on " + weekdays.plural;
        case Combination::either:
            return "on " + month_days.text + " or on " + weekdays.plural;
        case Combination::both:
            return month_days.plural
                       ? "only on " + month_days.text + " that fall on " + weekdays.plural_or
                       : "only on " + month_days.text + " when it falls on " + weekdays.singular;
    }
    return {};
}

Combination combine(bool and_them, bool all_month_days, bool all_weekdays) {
    if (and_them) {
        if (all_month_days && all_weekdays) return Combination::every_day;
        if (all_month_days) return Combination::weekdays_only;
        if (all_weekdays) return Combination::month_days_only;
        return Combination::both;
    }
    return all_month_days || all_weekdays ? Combination::every_day : Combination::either;
}

// Vixie cron marks a field unrestricted only by its first character.
bool starts_with_star(std::string_view field) {
    return !field.empty() && (field[0] == '*' || field[0] == '?');
}

bool bare_star(std::string_view field) {
    return field == "*" || field == "?";
}

// The days the reading matches in every kind of month the expression allows, for comparing readings.
template <typename DaysOf>
std::vector<std::uint32_t> days_in_every_kind_of_month(const CronFields& f, DaysOf days_of) {
    std::vector<std::uint32_t> all;
    for (unsigned month = 1; month <= 12; ++month) {
        if (!(f.months & (1u << month))) continue;
        for (int year : {2023, 2024}) {  // a common and a leap year
            for (unsigned first = 0; first < 7; ++first)
                all.push_back(days_of(days_in_month(year, month), first));
        }
    }
    return all;
}

// The day-of-month field alone, or the day-of-week field alone (with every item), as sets of days.
CronFields month_days_alone(CronFields f) {
    f.day_of_month_unrestricted = false;
    f.day_of_week_unrestricted = true;
    f.nth_weekdays = {};
    f.last_weekdays = 0;
    return f;
}
CronFields weekdays_alone(CronFields f) {
    f.day_of_month_unrestricted = true;
    f.day_of_week_unrestricted = false;
    f.plain_weekdays_ignored = false;
    return f;
}
// What croniter searches for first when both day fields are restricted: the day of month alone, or
// with the `#`/`L` weekdays.
CronFields croniter_first_search(CronFields f) {
    f.day_of_week_unrestricted = true;
    f.plain_weekdays_ignored = true;
    return f;
}

bool never_matches(const CronFields& f) {
    for (std::uint32_t days : days_in_every_kind_of_month(
             f, [&](unsigned last, unsigned first) { return f.matching_days(last, first); })) {
        if (days != 0) return false;
    }
    return true;
}

std::vector<std::string_view> split_fields(std::string_view text) {
    std::vector<std::string_view> parts;
    size_t pos = 0;
    while (pos < text.size()) {
        while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
        const size_t start = pos;
        while (pos < text.size() && !std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
        if (pos > start) parts.push_back(text.substr(start, pos - start));
    }
    return parts;
}

}  // namespace

std::optional<std::string> cron_day_fields_warning(const CronExpression& cron) {
    const CronFields& f = cron.fields();
    const std::vector<std::string_view> parts = split_fields(cron.text());
    if (parts.size() != 5) return std::nullopt;
    const std::string_view month_days_text = parts[2];
    const std::string_view weekdays_text = parts[4];
    const bool nth_or_last = f.has_nth_or_last_weekdays();
    const bool both_restricted = !f.day_of_month_unrestricted && !f.day_of_week_unrestricted;

    // Airflow's reading, which is mayaflow's.
    const bool all_month_days = f.days_of_month == kEveryMonthDay;
    const Combination airflow = !both_restricted ? combine(true, f.day_of_month_unrestricted,
                                                           f.day_of_week_unrestricted && !nth_or_last)
                                : nth_or_last    ? Combination::weekdays_only
                                                 : combine(false, all_month_days, false);
    const std::string airflow_words = words(airflow, f, !f.plain_weekdays_ignored);

    // Classic crontab's reading: AND when either field starts with `*`, OR otherwise; `#` and `L`, which
    // it lacks, read item by item as crons that have them read them.
    const CronFields month_days = month_days_alone(f);
    const CronFields weekdays = weekdays_alone(f);
    const bool classic_and = starts_with_star(month_days_text) || starts_with_star(weekdays_text);
    const auto classic_days = [&](unsigned last, unsigned first) {
        const std::uint32_t a = month_days.matching_days(last, first);
        const std::uint32_t b = weekdays.matching_days(last, first);
        return classic_and ? a & b : a | b;
    };
    const auto airflow_days = [&](unsigned last, unsigned first) { return f.matching_days(last, first); };
    const std::vector<std::uint32_t> classic_set = days_in_every_kind_of_month(f, classic_days);
    const bool same_days = classic_set == days_in_every_kind_of_month(f, airflow_days);
    const bool classic_never =
        std::all_of(classic_set.begin(), classic_set.end(), [](auto d) { return d == 0; });
    const std::string classic_words =
        classic_never
            ? "never runs it"
            : "runs it " + words(combine(classic_and, all_month_days, f.weekdays == kEveryWeekday), f, true);
    const std::string crontab = nth_or_last ? "classic crontab (with '#' and 'L' added)" : "classic crontab";

    if (nth_or_last && !f.plain_weekdays_ignored && f.weekdays != 0) {
        return fmt::format(
            "Airflow rejects '{}': croniter does not take plain weekdays beside '#' or 'L' of other "
            "weekdays; mayaflow runs it {}{}.",
            cron.text(), airflow_words,
            both_restricted ? fmt::format(", ignoring day-of-month '{}' beside '#' or 'L'", month_days_text)
                            : "");
    }
    if (both_restricted && never_matches(croniter_first_search(f))) {
        const std::string looks_for =
            nth_or_last ? fmt::format("a day that is both {} and {}", month_days_phrase(f).text,
                                      weekdays_phrase(f, false).singular)
                        : fmt::format("{} in the months it allows before it ORs the day fields",
                                      month_days_phrase(f).text);
        const std::string ignoring =
            nth_or_last ? fmt::format(", ignoring day-of-month '{}' as croniter does when such a day exists",
                                      month_days_text)
                        : "";
        return fmt::format(
            "Airflow cannot run '{}': croniter looks for {}, finds none and fails; mayaflow runs "
            "it {}{}{}.",
            cron.text(), looks_for, airflow_words, ignoring,
            same_days ? ", as " + crontab + " does" : "; " + crontab + " " + classic_words);
    }
    if (same_days) return std::nullopt;

    std::string why;
    if (f.day_of_month_unrestricted && !bare_star(month_days_text)) {
        why += fmt::format(", reading day-of-month '{}' as '*'", month_days_text);
    }
    if (!f.day_of_month_unrestricted && all_month_days) {
        why += fmt::format(", reading day-of-month '{}' as restricted (croniter counts L as a 32nd value)",
                           month_days_text);
    }
    if (f.day_of_week_unrestricted && !nth_or_last && !bare_star(weekdays_text)) {
        why += fmt::format(", reading day-of-week '{}' as '*'", weekdays_text);
    }
    if (nth_or_last && both_restricted) {
        why += fmt::format(", ignoring day-of-month '{}' beside '#' or 'L'", month_days_text);
    }
    if (f.plain_weekdays_ignored && f.weekdays != 0) {
        why += fmt::format(", ignoring the other items of day-of-week '{}' beside '#' or 'L'", weekdays_text);
    }
    return fmt::format("Airflow runs '{}' {}{}; {} {}. mayaflow follows Airflow.", cron.text(), airflow_words,
                       why, crontab, classic_words);
}

std::optional<std::string> cron_step_warning(std::string_view expression) {
    if (!CronExpression::parse(expression).ok()) return std::nullopt;
    struct Field {
        const char* name;
        int first;
        int last;
        const char* unit;             // of the step, in words
        const char* duration_suffix;  // of a duration schedule with that step; "" when none has one
    };
    static constexpr Field kFields[] = {{"minute", 0, 59, "minutes", "m"},
                                        {"hour", 0, 23, "hours", "h"},
                                        {"day-of-month", 1, 31, "days", "d"},
                                        {"month", 1, 12, "months", ""},
                                        {"day-of-week", 0, 6, "weekdays", ""}};
    size_t field = 0;
    size_t at = 0;
    while (field < std::size(kFields)) {
        while (at < expression.size() && std::isspace(static_cast<unsigned char>(expression[at]))) ++at;
        if (at == expression.size()) break;
        size_t end = at;
        while (end < expression.size() && !std::isspace(static_cast<unsigned char>(expression[end]))) ++end;
        const std::string_view text = expression.substr(at, end - at);
        at = end;
        const Field& spec = kFields[field++];
        for (size_t item_start = 0; item_start <= text.size();) {
            size_t comma = text.find(',', item_start);
            if (comma == std::string_view::npos) comma = text.size();
            const std::string_view item = text.substr(item_start, comma - item_start);
            item_start = comma + 1;
            const size_t slash = item.find('/');
            if (slash == std::string_view::npos) continue;
            const std::string_view step = item.substr(slash + 1);  // digits: the expression parsed
            if (step.size() <= 2 && std::stoi(std::string(step)) <= spec.last - spec.first) continue;
            // A pasted run of digits is counted, not shown.
            const bool huge = step.size() > 6;
            const std::string shown = huge ? fmt::format("of {} digits", step.size()) : std::string(step);
            const std::string not_every = huge ? "" : fmt::format(", not every {} {}", step, spec.unit);
            const std::string hint =
                *spec.duration_suffix && !huge
                    ? fmt::format("; for a fixed interval use a duration schedule such as {}{}", step,
                                  spec.duration_suffix)
                    : "";
            return fmt::format("{} '{}' has step {}, beyond the {} field's {}-{}: Airflow and mayaflow run it at the "
                               "field's first value only{}{}",
                               spec.name, shorten_message(item, 40), shown, spec.name, spec.first, spec.last,
                               not_every, hint);
        }
    }
    return std::nullopt;
}

std::optional<std::string> cron_day_fields_warning(std::string_view expression) {
    auto parsed = CronExpression::parse(expression);
    if (!parsed.ok()) return std::nullopt;
    return cron_day_fields_warning(*parsed);
}

}  // namespace mayaflow
