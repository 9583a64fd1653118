// `mayaflow tasks stats DAG [--from --to]`: what a DAG's tries cost — BigQuery's bytes billed and
// processed, slot time, cache hits and rows written — per task and day, from the task_cost table.

#include <fmt/format.h>

#include <iostream>

#include "cli/cli_dates.h"
#include "cli/cli_support.h"
#include "engine/store/sqlite_store.h"
#include "engine/time/iso8601.h"
#include "engine/util/utf8.h"

namespace mayaflow::cli {
namespace {

constexpr auto kDefaultDays = std::chrono::hours(24 * 30);

// 1536 → "1.5 KiB": bytes as people read them (BigQuery bills in powers of 2).
std::string readable_bytes(long long bytes) {
    static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

// A day given alone counts whole: --to 2024-01-31 takes in the 31st.
Instant read_range_end(const std::string& text) {
    const Instant instant = read_cli_date(text, "--to", TimeZone::utc());
    return text.size() == 10 ? instant + std::chrono::hours(24) : instant;
}

void print_stats(const std::string& dag_id, const std::optional<std::string>& from_text,
                 const std::optional<std::string>& to_text, OutputFormat format) {
    const Instant now = Instant(std::chrono::duration_cast<Duration>(std::chrono::system_clock::now().time_since_epoch()));
    const Instant to = to_text ? read_range_end(*to_text) : now + std::chrono::seconds(1);
    const Instant from = from_text ? read_cli_date(*from_text, "--from", TimeZone::utc()) : to - kDefaultDays;
    if (from >= to) throw CommandFailed{"--from must come before --to", 2};
    auto settings = settings_or_fail();
    auto store = open_store_or_fail(settings, true);
    auto totals = store->task_cost_totals(dag_id, from, to);
    if (!totals) throw CommandFailed{"cannot read the costs: " + totals.error().message};
    if (format == OutputFormat::json) {
        auto rows = nlohmann::json::array();
        for (const auto& total : *totals) rows.push_back(to_json(total));
        std::cout << dump_json(rows, 2) << "\n";
        return;
    }
    std::vector<std::vector<std::string>> rows;
    TaskCostTotal sum;
    for (const auto& total : *totals) {
        rows.push_back({total.day, total.task_id, std::to_string(total.tries), readable_bytes(total.bytes_billed),
                        readable_bytes(total.bytes_processed), std::to_string(total.slot_ms),
                        std::to_string(total.cache_hits), std::to_string(total.rows_written)});
        sum.tries += total.tries;
        sum.bytes_billed += total.bytes_billed;
        sum.bytes_processed += total.bytes_processed;
        sum.slot_ms += total.slot_ms;
        sum.cache_hits += total.cache_hits;
        sum.rows_written += total.rows_written;
    }
    if (rows.empty()) {
        std::cerr << fmt::format("no tries of DAG '{}' with a recorded cost from {} to {} (UTC)\n", dag_id,
                                 format_iso8601(from, TimeZone::utc()), format_iso8601(to, TimeZone::utc()));
        return;
    }
    if (format == OutputFormat::table && rows.size() > 1) {
        rows.push_back({"total", "", std::to_string(sum.tries), readable_bytes(sum.bytes_billed),
                        readable_bytes(sum.bytes_processed), std::to_string(sum.slot_ms),
                        std::to_string(sum.cache_hits), std::to_string(sum.rows_written)});
    }
    print_table({"day", "task_id", "tries", "bytes_billed", "bytes_processed", "slot_ms", "cache_hits", "rows_written"},
                rows, format);
}

}  // namespace

void register_stats_commands(CLI::App& app) {
    auto* tasks = app.get_subcommand("tasks");
    static std::string dag_id;
    static std::optional<std::string> from, to;
    static OutputFormat format = OutputFormat::table;
    auto* stats = tasks->add_subcommand(
        "stats", "Print what a DAG's tasks cost (BigQuery bytes billed and processed, slot ms) per task and day (UTC)");
    stats->add_option("dag_id", dag_id, "The DAG")->required();
    stats->add_option("--from", from, "From this day or instant (default: 30 days before --to; UTC without an offset)");
    stats->add_option("--to", to, "Up to this instant, or to the end of this day (default: now)");
    add_output_option(*stats, format);
    stats->callback([] { print_stats(dag_id, from, to, format); });
}

}  // namespace mayaflow::cli
