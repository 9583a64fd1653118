#include "engine/time/strftime.h"

#include <fmt/format.h>

#include <array>
#include <cctype>

#include "engine/time/civil_time.h"
#include "engine/time/iso8601.h"

namespace mayaflow {

namespace {

// ISO 8601 week-numbering year and week of a date.
struct IsoWeek {
    int year;
    unsigned week;
};

IsoWeek iso_week_of(const CivilTime& c) {
    using namespace std::chrono;
    const unsigned monday_based = (c.weekday() + 6) % 7;
    const local_days thursday = c.local_day() - days{monday_based} + days{3};
    const year_month_day ymd{thursday};
    const local_days jan1{ymd.year() / January / 1};
    return IsoWeek{static_cast<int>(ymd.year()), static_cast<unsigned>((thursday - jan1).count() / 7 + 1)};
}

// Formatter writes one instant through a format, directive by directive, as glibc's strftime does.
class Formatter {
  public:
    Formatter(Instant instant, const TimeZone& zone)
        : instant_(instant), zone_(zone), c_(CivilTime::from(zone.to_local(instant))) {}

    std::string run(std::string_view format) {
        for (size_t i = 0; i < format.size(); ++i) {
            if (format[i] != '%') {
                out_ += format[i];
                continue;
            }
            if (i + 1 == format.size()) {
                out_ += '%';
                break;
            }
            flag_ = '\0';
            size_t at = i + 1;
            if (std::string_view("-_0^#").find(format[at]) != std::string_view::npos &&
                at + 1 < format.size()) {
                flag_ = format[at];
                ++at;
            }
            directive(format[at], format.substr(i, at - i + 1));
            i = at;
        }
        return out_;
    }

  private:
    void number(long long value, int width, char pad = '0') {
        if (flag_ == '-') {
            out_ += std::to_string(value);
            return;
        }
        if (flag_ == '_') pad = ' ';
        if (flag_ == '0') pad = '0';
        std::string digits = std::to_string(value);
        if (static_cast<int>(digits.size()) < width) out_.append(width - digits.size(), pad);
        out_ += digits;
    }
    // `swapped_lower`: what glibc's `#` flag gives this directive (lower case for %p and %Z, upper case
    // for names).
    void text(std::string_view value, bool swapped_lower = false) {
        std::string s(value);
        const bool to_upper = flag_ == '^' || (flag_ == '#' && !swapped_lower);
        const bool to_lower = flag_ == '#' && swapped_lower;
        for (char& ch : s) {
            if (to_upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            if (to_lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        out_ += s;
    }
    void nested(std::string_view format) {
        const char saved = flag_;
        Formatter inner(instant_, zone_);
        out_ += inner.run(format);
        flag_ = saved;
    }

    void directive(char d, std::string_view as_written) {
        const unsigned hour12 = c_.hour % 12 == 0 ? 12 : c_.hour % 12;
        switch (d) {
            case 'Y':
                number(c_.year, 1);
                break;
            case 'C':
                number(c_.year / 100, 2);
                break;
            case 'y':
                number(c_.year % 100, 2);
                break;
            case 'm':
                number(c_.month, 2);
                break;
            case 'd':
                number(c_.day, 2);
                break;
            case 'e':
                number(c_.day, 2, ' ');
                break;
            case 'H':
                number(c_.hour, 2);
                break;
            case 'I':
                number(hour12, 2);
                break;
            case 'M':
                number(c_.minute, 2);
                break;
            case 'S':
                number(c_.second, 2);
                break;
            case 'f':
                out_ += fmt::format("{:06}", c_.microsecond);
                break;
            case 'j':
                number(c_.day_of_year(), 3);
                break;
            case 'p':
                text(c_.hour < 12 ? "AM" : "PM", true);
                break;
            case 'a':
                text(kWeekdayNames[c_.weekday()].substr(0, 3));
                break;
            case 'A':
                text(kWeekdayNames[c_.weekday()]);
                break;
            case 'b':
            case 'h':
                text(kMonthNames[c_.month - 1].substr(0, 3));
                break;
            case 'B':
                text(kMonthNames[c_.month - 1]);
                break;
            case 'w':
                number(c_.weekday(), 1);
                break;
            case 'u':
                number(c_.weekday() == 0 ? 7 : c_.weekday(), 1);
                break;
            case 'U':
                number((c_.day_of_year() - 1 + 7 - c_.weekday()) / 7, 2);
                break;
            case 'W':
                number((c_.day_of_year() - 1 + 7 - (c_.weekday() + 6) % 7) / 7, 2);
                break;
            case 'V':
                number(iso_week_of(c_).week, 2);
                break;
            case 'G':
                number(iso_week_of(c_).year, 1);
                break;
            case 'g':
                number(iso_week_of(c_).year % 100, 2);
                break;
            case 'z':
                out_ += format_utc_offset(zone_.offset_at(instant_), false);
                break;
            case 'Z':
                text(zone_.abbreviation_at(instant_), true);
                break;
            case 's':
                out_ += std::to_string(
                    std::chrono::floor<std::chrono::seconds>(instant_).time_since_epoch().count());
                break;
            case 'c':
                nested("%a %b %e %H:%M:%S %Y");
                break;
            case 'x':
            case 'D':
                nested("%m/%d/%y");
                break;
            case 'X':
            case 'T':
                nested("%H:%M:%S");
                break;
            case 'F':
                nested("%Y-%m-%d");
                break;
            case 'R':
                nested("%H:%M");
                break;
            case 'n':
                out_ += '\n';
                break;
            case 't':
                out_ += '\t';
                break;
            case '%':
                out_ += '%';
                break;
            default:
                out_ += as_written;
                break;
        }
    }

    Instant instant_;
    const TimeZone& zone_;
    CivilTime c_;
    char flag_ = '\0';
    std::string out_;
};

}  // namespace

std::string format_strftime(Instant instant, const TimeZone& zone, std::string_view python_format) {
    return Formatter(instant, zone).run(python_format);
}

}  // namespace mayaflow
