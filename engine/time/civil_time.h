#pragma once
// CivilTime is a wall-clock reading split into its calendar fields (year down to microsecond), the form
// in which dates are formatted, parsed and matched against cron fields.

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "engine/time/instant.h"

namespace mayaflow {

// English names, as Python's strftime and strptime use them in the C locale; the first three letters
// are the abbreviations.
inline constexpr std::array<std::string_view, 7> kWeekdayNames = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
inline constexpr std::array<std::string_view, 12> kMonthNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

inline bool is_leap_year(int year) {
    return std::chrono::year{year}.is_leap();
}

inline unsigned days_in_month(int year, unsigned month) {
    using namespace std::chrono;
    return static_cast<unsigned>(
        year_month_day_last{std::chrono::year{year}, month_day_last{std::chrono::month{month}}}.day());
}

inline bool is_valid_date(int year, unsigned month, unsigned day) {
    return month >= 1 && month <= 12 && day >= 1 && day <= days_in_month(year, month);
}

struct CivilTime {
    int year = 1970;
    unsigned month = 1;   // 1-12
    unsigned day = 1;     // 1-31
    unsigned hour = 0;    // 0-23
    unsigned minute = 0;  // 0-59
    unsigned second = 0;  // 0-59
    std::int64_t microsecond = 0;

    static CivilTime from(LocalTime local) {
        using namespace std::chrono;
        const auto day_point = floor<days>(local);
        const year_month_day ymd{day_point};
        const hh_mm_ss<Duration> time{local - day_point};
        CivilTime c;
        c.year = static_cast<int>(ymd.year());
        c.month = static_cast<unsigned>(ymd.month());
        c.day = static_cast<unsigned>(ymd.day());
        c.hour = static_cast<unsigned>(time.hours().count());
        c.minute = static_cast<unsigned>(time.minutes().count());
        c.second = static_cast<unsigned>(time.seconds().count());
        c.microsecond = time.subseconds().count();
        return c;
    }

    std::chrono::local_days local_day() const {
        using namespace std::chrono;
        return local_days{
            year_month_day{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}}};
    }

    LocalTime to_local() const {
        using namespace std::chrono;
        return LocalTime{local_day()} + hours{hour} + minutes{minute} + seconds{second} +
               microseconds{microsecond};
    }

    // 0 = Sunday ... 6 = Saturday.
    unsigned weekday() const { return std::chrono::weekday{local_day()}.c_encoding(); }

    // 1 = January 1.
    unsigned day_of_year() const {
        using namespace std::chrono;
        const local_days jan1{year_month_day{std::chrono::year{year}, January, std::chrono::day{1}}};
        return static_cast<unsigned>((local_day() - jan1).count()) + 1;
    }
};

}  // namespace mayaflow
