#include "engine/time/schedule.h"

#include <array>
#include <cctype>
#include <utility>

#include "engine/time/duration_text.h"
#include "engine/util/text.h"

namespace mayaflow {

namespace {

// Airflow's cron_presets, plus croniter's @annually and @midnight.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kPresets = {{
    {"@hourly", "0 * * * *"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},
    {"@quarterly", "0 0 1 */3 *"},
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
}};

constexpr const char* kScheduleForms =
    "a schedule is @once, a preset (@hourly, @daily, @midnight, @weekly, @monthly, @quarterly, @yearly, "
    "@annually), a 5-field cron expression such as \"0 3 * * *\", or a fixed interval such as 30m, 1h or 1d";

std::string lower(std::string_view text) {
    std::string s(text);
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

}  // namespace

std::optional<std::string_view> Schedule::preset_expression(std::string_view text) {
    const std::string name = lower(trim(text));
    for (const auto& [preset, expression] : kPresets) {
        if (preset == name) return expression;
    }
    return std::nullopt;
}

Result<Schedule> Schedule::parse(std::string_view raw) {
    const std::string_view text = trim(raw);
    if (text.empty()) {
        return make_error("schedule is empty: leave it out (or null) for manual runs only; otherwise {}",
                          kScheduleForms);
    }
    Schedule schedule;
    schedule.text_ = std::string(text);

    if (text.front() == '@') {
        const std::string name = lower(text);
        if (name == "@once") {
            schedule.kind_ = Kind::once;
            return schedule;
        }
        if (name == "@continuous") {
            return make_error(
                "schedule {} is not supported by mayaflow: use a short interval such as 1m "
                "with max_active_runs: 1",
                quote_for_message(text));
        }
        auto expression = preset_expression(text);
        if (!expression) return make_error("unknown schedule preset {}: {}", quote_for_message(text), kScheduleForms);
        auto cron = CronExpression::parse(*expression);
        if (!cron.ok()) return cron.error();
        schedule.kind_ = Kind::cron;
        schedule.cron_ = std::move(cron).value();
        return schedule;
    }

    if (text.find_first_of(" \t") != std::string_view::npos) {
        auto cron = CronExpression::parse(text);
        if (!cron.ok()) return make_error("schedule {}", cron.error().message);
        schedule.kind_ = Kind::cron;
        schedule.cron_ = std::move(cron).value();
        return schedule;
    }

    auto interval = parse_duration(text);
    if (!interval.ok()) {
        return make_error("schedule {} is neither a cron expression nor an interval ({}); {}",
                          quote_for_message(text), interval.error().message, kScheduleForms);
    }
    if (interval->count() <= 0) {
        return make_error("schedule {}: an interval must be longer than zero", quote_for_message(text));
    }
    if (*interval < kMinScheduleInterval) {
        return make_error(
            "schedule {} is shorter than the minimum interval of {}: runs are at least a minute apart, as "
            "with Airflow's cron schedules; use {} or longer (for work that must follow up quickly, use a "
            "sensor or trigger runs through the API)",
            quote_for_message(text), format_duration(kMinScheduleInterval), format_duration(kMinScheduleInterval));
    }
    if (*interval % std::chrono::seconds(1) != Duration::zero()) {
        return make_error("schedule {} has a fraction of a second; an interval schedule counts whole seconds "
                          "(write {} or {})",
                          quote_for_message(text),
                          format_duration(std::chrono::duration_cast<std::chrono::seconds>(*interval)),
                          format_duration(std::chrono::duration_cast<std::chrono::seconds>(*interval) +
                                          std::chrono::seconds(1)));
    }
    schedule.kind_ = Kind::interval;
    schedule.interval_ = *interval;
    return schedule;
}

}  // namespace mayaflow
