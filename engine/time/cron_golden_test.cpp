// Compares CronExpression with the fire times tests/oracles/cron_oracle.py computed the way Airflow 2
// does (croniter plus _cron.py's DST rules) for many expressions, zones and starts around DST changes.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "engine/time/cron.h"
#include "engine/time/iso8601.h"
#include "engine/time/time_zone.h"

namespace mayaflow {
namespace {

nlohmann::json load_golden() {
    const std::string path = std::string(MAYAFLOW_SOURCE_DIR) + "/engine/time/testdata/cron_golden.json";
    std::ifstream in(path);
    INFO("golden file: " << path << " (regenerate with /usr/bin/python3 tests/oracles/cron_oracle.py)");
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}

// One difference between mayaflow and the oracle, described for the failure message.
std::string describe(const nlohmann::json& row, const std::string& direction, size_t index,
                     const std::string& expected, const std::string& actual) {
    return "cron \"" + row["cron"].get<std::string>() + "\" in " + row["zone"].get<std::string>() + " from " +
           row["start"].get<std::string>() + ": " + direction + "[" + std::to_string(index) + "] expected " +
           expected + ", got " + actual;
}

TEST_CASE("cron fire times match the Airflow oracle's golden file", "[cron][golden]") {
    const nlohmann::json golden = load_golden();
    const auto& rows = golden["rows"];
    REQUIRE(rows.size() > 2000);

    std::vector<std::string> mismatches;
    size_t compared = 0;
    for (const auto& row : rows) {
        auto cron = CronExpression::parse(row["cron"].get<std::string>());
        auto zone = TimeZone::find(row["zone"].get<std::string>());
        auto start = parse_datetime(row["start"].get<std::string>(), TimeZone::utc());
        if (!cron.ok() || !zone.ok() || !start.ok()) {
            mismatches.push_back("cannot read row " + row.dump());
            continue;
        }

        Instant t = *start;
        const auto& nexts = row["next"];
        for (size_t i = 0; i < nexts.size(); ++i) {
            const std::string expected = nexts[i].get<std::string>();
            const auto fire = cron->next_after(t, *zone);
            const std::string actual = fire ? format_iso8601(*fire, *zone) : "none";
            ++compared;
            if (actual != expected) {
                mismatches.push_back(describe(row, "next", i, expected, actual));
                break;
            }
            // The printed form names the same instant: parsing it back must give it.
            auto reparsed = parse_datetime(expected, TimeZone::utc());
            if (!reparsed.ok() || *reparsed != *fire) {
                mismatches.push_back(describe(row, "reparse of next", i, expected, actual));
                break;
            }
            t = *fire;
        }

        t = *start;
        const auto& previous = row["previous"];
        for (size_t i = 0; i < previous.size(); ++i) {
            const std::string expected = previous[i].get<std::string>();
            const auto fire = cron->previous_before(t, *zone);
            const std::string actual = fire ? format_iso8601(*fire, *zone) : "none";
            ++compared;
            if (actual != expected) {
                mismatches.push_back(describe(row, "previous", i, expected, actual));
                break;
            }
            t = *fire;
        }
    }

    INFO("rows: " << rows.size() << ", fire times compared: " << compared
                  << ", mismatches: " << mismatches.size());
    for (size_t i = 0; i < mismatches.size() && i < 25; ++i) UNSCOPED_INFO(mismatches[i]);
    CHECK(mismatches.empty());
    // Printed so a run shows how much the oracle covered.
    WARN("cron golden: " << rows.size() << " rows, " << compared << " fire times compared, "
                         << mismatches.size() << " mismatches");
}

}  // namespace
}  // namespace mayaflow
