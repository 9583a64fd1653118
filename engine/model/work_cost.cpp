#include "engine/model/work_cost.h"

#include <nlohmann/json.hpp>

namespace mayaflow {

double estimated_usd(long long bytes_billed, double usd_per_tib) {
    constexpr double kBytesPerTib = 1099511627776.0;  // 2^40: BigQuery bills in binary units
    return static_cast<double>(bytes_billed) / kBytesPerTib * usd_per_tib;
}

nlohmann::json to_json(const TaskCostTotal& total) {
    return {{"day", total.day},
            {"task_id", total.task_id},
            {"tries", total.tries},
            {"bytes_billed", total.bytes_billed},
            {"bytes_processed", total.bytes_processed},
            {"slot_ms", total.slot_ms},
            {"cache_hits", total.cache_hits},
            {"rows_written", total.rows_written}};
}

nlohmann::json to_json(const DagCostTotal& total) {
    return {{"day", total.day},
            {"dag_id", total.dag_id},
            {"tries", total.tries},
            {"jobs", total.jobs},
            {"bytes_billed", total.bytes_billed},
            {"bytes_processed", total.bytes_processed},
            {"slot_ms", total.slot_ms},
            {"cache_hits", total.cache_hits},
            {"rows_written", total.rows_written}};
}

}  // namespace mayaflow
