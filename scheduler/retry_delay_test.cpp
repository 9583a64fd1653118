#include "scheduler/retry_delay.h"

#include <catch2/catch.hpp>

#include <climits>
#include <optional>
#include <stdexcept>
#include <vector>

namespace mayaflow {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Instant utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, int us = 0) {
    using namespace std::chrono;
    return sys_days{year{y} / month{mo} / day{d}} + hours(h) + minutes(mi) + seconds(s) + microseconds(us);
}

struct RetryCase {
    Duration retry_delay;
    bool backoff;
    std::optional<Duration> max_retry_delay;
    const char* dag_id;
    const char* task_id;
    Instant logical_date;
    int try_number;
    Duration expected;
};

// Expected waits computed with Python 3 (hashlib) by Airflow 2.10's next_retry_datetime
// arithmetic, floats and all: ceil(total_seconds * 2 ** (try_number - 1)),
// int(sha1(key).hexdigest(), 16) % base, where try_number is the try that failed (2.10 counts a
// try when it is scheduled, so the first failure computes with 1).
TEST_CASE("retry_delay matches Airflow 2.10 as computed by Python", "[retry_delay]") {
    const Instant march = utc(2024, 3, 1);
    const Instant march_us = utc(2024, 3, 1, 6, 30, 0, 123);
    const Instant y2k_eve = utc(1999, 12, 31, 23, 59, 59, 999999);
    const std::vector<RetryCase> cases = {
        // Without backoff: retry_delay as written; max_retry_delay does not apply.
        {seconds(300), false, std::nullopt, "sales_daily", "load", march, 1, seconds(300)},
        {seconds(300), false, seconds(10), "sales_daily", "load", march, 6, seconds(300)},
        {seconds(-30), false, std::nullopt, "baby_care", "weekly_report", y2k_eve, 2, seconds(-30)},
        // Backoff: base 300, 600, 1200, 2400 ... for the tries 1, 2, 3, 4 that failed, plus a jitter below the base.
        {seconds(300), true, std::nullopt, "sales_daily", "load", march, 1, seconds(411)},
        {seconds(300), true, std::nullopt, "sales_daily", "load", march, 2, seconds(941)},
        {seconds(300), true, std::nullopt, "sales_daily", "load", march, 3, seconds(1920)},
        {seconds(300), true, std::nullopt, "sales_daily", "load", march, 4, seconds(4760)},
        {seconds(300), true, std::nullopt, "sales_daily", "load", march, 7, seconds(29378)},
        {seconds(300), true, std::nullopt, "sales_daily", "load", march, 8, seconds(76239)},
        // The example: retry_delay 2s.
        {seconds(2), true, std::nullopt, "d", "t", march, 1, seconds(2)},
        {seconds(2), true, std::nullopt, "d", "t", march, 2, seconds(4)},
        {seconds(2), true, std::nullopt, "d", "t", march, 3, seconds(15)},
        // The day cap, and try numbers so large that Python's float overflows (we keep the cap).
        {seconds(300), true, std::nullopt, "sales_daily", "load", march, 9, seconds(86400)},
        {seconds(300), true, std::nullopt, "sales_daily", "load", march, 1000, seconds(86400)},
        {seconds(300), true, std::nullopt, "sales_daily", "load", march, INT_MAX, seconds(86400)},
        {seconds(1), true, std::nullopt, "baby_care", "weekly_report", y2k_eve, 1030, seconds(86400)},
        {seconds(1), true, std::nullopt, "baby_care", "weekly_report", y2k_eve, 1, seconds(1)},
        {seconds(1), true, std::nullopt, "baby_care", "weekly_report", y2k_eve, 16, seconds(48708)},
        {seconds(1), true, std::nullopt, "baby_care", "weekly_report", y2k_eve, 17, seconds(86400)},
        {seconds(1), true, std::nullopt, "baby_care", "weekly_report", y2k_eve, 18, seconds(86400)},
        {hours(12), true, std::nullopt, "baby_care", "weekly_report", y2k_eve, 1, seconds(48368)},
        {seconds(86399), true, std::nullopt, "baby_care", "weekly_report", y2k_eve, 1, seconds(86400)},
        // max_retry_delay: a smaller one wins; zero counts as unset; a larger one changes nothing.
        {seconds(300), true, minutes(10), "sales_daily", "load", march, 4, seconds(600)},
        {seconds(300), true, hours(2), "sales_daily", "load", march, 2, seconds(941)},
        {seconds(300), true, seconds(0), "sales_daily", "load", march, 2, seconds(941)},
        {seconds(300), true, days(3), "sales_daily", "load", march, 29, seconds(86400)},
        {minutes(5), true, seconds(-5), "baby_care", "weekly_report", y2k_eve, 1, seconds(-5)},
        // A zero or negative delay: the base is raised to one second.
        {seconds(0), true, std::nullopt, "sales_daily", "load", march, 1, seconds(1)},
        {seconds(0), true, std::nullopt, "sales_daily", "load", march, 39, seconds(1)},
        {seconds(-30), true, std::nullopt, "baby_care", "weekly_report", y2k_eve, 2, seconds(1)},
        // Fractional delays are rounded up after doubling; microseconds show in the hashed date.
        {milliseconds(1500), true, std::nullopt, "ga_marts", "raw.load_events", march, 0, seconds(1)},
        {milliseconds(1500), true, std::nullopt, "ga_marts", "raw.load_events", march, 1, seconds(3)},
        {milliseconds(1500), true, std::nullopt, "ga_marts", "raw.load_events", march, 2, seconds(5)},
        {milliseconds(1500), true, std::nullopt, "ga_marts", "raw.load_events", march, 3, seconds(7)},
        {milliseconds(1500), true, std::nullopt, "ga_marts", "raw.load_events", march, 5, seconds(46)},
        {milliseconds(300), true, std::nullopt, "ga_marts", "raw.load_events", march_us, 1, seconds(1)},
        {milliseconds(300), true, std::nullopt, "ga_marts", "raw.load_events", march_us, 4, seconds(3)},
        {milliseconds(300), true, std::nullopt, "ga_marts", "raw.load_events", march_us, 11, seconds(426)},
        {microseconds(1), true, std::nullopt, "ga_marts", "raw.load_events", march_us, 1, seconds(1)},
        {microseconds(1), true, std::nullopt, "ga_marts", "raw.load_events", march_us, 21, seconds(3)},
        {microseconds(15625), true, std::nullopt, "ga_marts", "raw.load_events", march_us, 7, seconds(1)},
        // Ids are hashed as their UTF-8 bytes.
        {seconds(300), true, std::nullopt, "unicode_dag",
         "t\xc3\xa2"
         "che_\xc3\xbc",
         march, 1, seconds(329)},
    };
    for (const RetryCase& c : cases) {
        const RetryPolicy policy{.retries = 3,
                                 .retry_delay = c.retry_delay,
                                 .exponential_backoff = c.backoff,
                                 .max_retry_delay = c.max_retry_delay};
        INFO(retry_hash_key(c.dag_id, c.task_id, c.logical_date, c.try_number)
             << " delay_us=" << c.retry_delay.count() << " backoff=" << c.backoff
             << " max_us=" << (c.max_retry_delay ? c.max_retry_delay->count() : -1));
        CHECK(retry_delay(policy, c.dag_id, c.task_id, c.logical_date, c.try_number).count() ==
              c.expected.count());
    }
}

TEST_CASE("retry_hash_key prints the logical date as Airflow's pendulum date", "[retry_delay]") {
    CHECK(retry_hash_key("sales_daily", "load", utc(2024, 3, 1), 2) ==
          "sales_daily#load#2024-03-01T00:00:00+00:00#2");
    CHECK(retry_hash_key("ga", "raw.events", utc(2024, 3, 1, 6, 30, 0, 123), 11) ==
          "ga#raw.events#2024-03-01T06:30:00.000123+00:00#11");
    CHECK(retry_hash_key("d", "t", utc(1999, 12, 31, 23, 59, 59, 999999), 3) ==
          "d#t#1999-12-31T23:59:59.999999+00:00#3");
}

TEST_CASE("backoff_base_seconds doubles exactly and stops at a day", "[retry_delay]") {
    struct Case {
        Duration delay;
        int try_number;
        std::int64_t expected;
    };
    const std::vector<Case> cases = {
        {seconds(300), 1, 300},         {seconds(300), 2, 600},     {seconds(300), 8, 38400},
        {seconds(300), 9, 76800},       {seconds(300), 10, 86400},  {seconds(300), 0, 150},
        {seconds(300), -1, 75},         {seconds(300), -100, 1},    {seconds(300), INT_MIN, 1},
        {seconds(300), INT_MAX, 86400}, {milliseconds(1500), 0, 1},  // ceil(0.75)
        {milliseconds(1500), 1, 2},                                  // ceil(1.5)
        {milliseconds(1500), 2, 3},     {milliseconds(1500), 3, 6}, {milliseconds(300), 1, 1},
        {milliseconds(300), 4, 3},                                 // ceil(2.4)
        {milliseconds(250), 3, 1},                                 // exactly 1: no rounding up
        {milliseconds(250), 4, 2},      {microseconds(1), 20, 1},  // 0.524288
        {microseconds(1), 21, 2},                                  // 1.048576
        {microseconds(1), 1, 1},        {seconds(0), 1, 1},         {seconds(-5), 8, 1},
        {seconds(86399), 1, 86399},     {seconds(86400), 1, 86400}, {Duration::max(), 1, 86400},
        {Duration::max(), 0, 86400},    {Duration::max(), -100, 1},
    };
    for (const Case& c : cases) {
        INFO("delay_us=" << c.delay.count() << " try " << c.try_number);
        CHECK(backoff_base_seconds(c.delay, c.try_number) == c.expected);
    }
}

TEST_CASE("sha1_remainder reads the digest as one 160-bit number", "[retry_delay]") {
    // sha1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d; remainders from Python.
    struct Case {
        const char* text;
        std::uint64_t divisor;
        std::uint64_t expected;
    };
    const std::vector<Case> cases = {
        {"", 1, 0},
        {"", 7, 3},
        {"", 300, 205},
        {"", 86400, 32905},
        {"", 4294967311ULL, 1151531501ULL},
        {"", 1000000000000000009ULL, 421338823118642491ULL},
        {"", 9223372036854775833ULL, 2624323492698222103ULL},
        {"", 18446744073709551615ULL, 17567244304905628390ULL},
        {"", 18446744073709551557ULL, 6348509987523876718ULL},
        {"abc", 1, 0},
        {"abc", 7, 4},
        {"abc", 300, 17},
        {"abc", 86400, 60317},
        {"abc", 4294967311ULL, 2874158433ULL},
        {"abc", 1000000000000000009ULL, 418258458831588878ULL},
        {"abc", 9223372036854775833ULL, 1804679065776493190ULL},
        {"abc", 18446744073709551615ULL, 13787563379221085252ULL},
        {"abc", 18446744073709551557ULL, 15479046774603278750ULL},
        {"sales_daily#load#2024-03-01T00:00:00+00:00#2", 7, 4},
        {"sales_daily#load#2024-03-01T00:00:00+00:00#2", 300, 41},
        {"sales_daily#load#2024-03-01T00:00:00+00:00#2", 86400, 78341},
        {"sales_daily#load#2024-03-01T00:00:00+00:00#2", 4294967311ULL, 3284458547ULL},
        {"sales_daily#load#2024-03-01T00:00:00+00:00#2", 1000000000000000009ULL, 717827828612093426ULL},
        {"sales_daily#load#2024-03-01T00:00:00+00:00#2", 9223372036854775833ULL, 1065246054431315978ULL},
        {"sales_daily#load#2024-03-01T00:00:00+00:00#2", 18446744073709551615ULL, 15815885890810785071ULL},
        {"sales_daily#load#2024-03-01T00:00:00+00:00#2", 18446744073709551557ULL, 9442269322682067752ULL},
    };
    for (const Case& c : cases) {
        INFO("\"" << c.text << "\" mod " << c.divisor);
        CHECK(sha1_remainder(c.text, c.divisor) == c.expected);
    }
    CHECK_THROWS_AS(sha1_remainder("abc", 0), std::invalid_argument);
}

TEST_CASE("retry_delay with backoff stays between the base and twice the base", "[retry_delay]") {
    const RetryPolicy policy{.retry_delay = seconds(7), .exponential_backoff = true};
    const Instant date = utc(2024, 3, 1);
    for (int try_number = 1; try_number <= 40; ++try_number) {
        const std::int64_t base = backoff_base_seconds(policy.retry_delay, try_number);
        const auto wait =
            std::chrono::duration_cast<seconds>(retry_delay(policy, "dag", "task", date, try_number)).count();
        INFO("try " << try_number << " base " << base << " wait " << wait);
        CHECK(wait >= std::min<std::int64_t>(base, 86400));
        CHECK(wait < 2 * base);
        CHECK(wait <= 86400);
    }
}

}  // namespace
}  // namespace mayaflow
