#pragma once
// How Airflow (through croniter) and classic crontab (Vixie cron) read the two day fields of a cron
// expression, and a warning that words both readings where they differ.
//
// mayaflow reads cron expressions as Airflow does (see CronFields). Classic crontab marks a day field
// as unrestricted only when it starts with `*`, and ANDs the two fields then, ORing them otherwise; so
// `0 0 */2 * 1` is "odd days or Mondays" in Airflow and "odd days that are Mondays" in crontab, and
// `0 0 1-31 * 1` is "Mondays" in Airflow and "every day" in crontab. A DAG moved between the two then
// runs on other days without a word; the warning is that word.

#include <optional>
#include <string>
#include <string_view>

#include "engine/time/cron.h"

namespace mayaflow {

// A warning when Airflow and classic crontab run `cron` on different days, naming both readings:
//   Airflow runs '0 0 */2 * 1' on odd days of the month or on Mondays; classic crontab runs it only on
//   odd days of the month that fall on Mondays. mayaflow follows Airflow.
// Also a warning when Airflow cannot run it at all because of how croniter combines the day fields
// (`0 0 15 * FRI#2`, `0 0 30 2 MON`, `0 0 * * 1,FRI#2`), saying what mayaflow does instead.
// nullopt when the readings agree.
std::optional<std::string> cron_day_fields_warning(const CronExpression& cron);

// The same for an expression given as text; nullopt when it does not parse (parsing reports that).
std::optional<std::string> cron_day_fields_warning(std::string_view expression);

// A warning when a step is beyond its field's range (`*/90` in minutes, `*/40` in days of the month):
// croniter, and so Airflow and mayaflow, fire it at the field's first value only, which is seldom
// what was meant:
//   minute '*/90' has step 90, beyond the minute field's 0-59: Airflow and mayaflow run it at minute 0
//   only, not every 90 minutes; for a fixed interval use a duration schedule such as 90m.
// nullopt when every step fits, or the expression does not parse.
std::optional<std::string> cron_step_warning(std::string_view expression);

}  // namespace mayaflow
