#include "engine/model/run_id.h"

#include <array>

namespace mayaflow {
namespace {

// Airflow's DagRunType values whose "<type>__" prefix marks the runs of that type.
constexpr std::array<std::string_view, 4> kReservedTypes = {"scheduled", "backfill", "dataset_triggered",
                                                            "asset_triggered"};

bool allowed_character(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '~' || c == ':' || c == '+' || c == '-';
}

}  // namespace

std::optional<std::string_view> reserved_run_type(std::string_view run_id) {
    for (std::string_view type : kReservedTypes) {
        if (run_id.size() >= type.size() + 2 && run_id.substr(0, type.size()) == type &&
            run_id.substr(type.size(), 2) == "__") {
            return type;
        }
    }
    return std::nullopt;
}

Status check_run_id(std::string_view run_id, RunIdUse use) {
    if (run_id.empty()) return make_error("a run id cannot be empty; leave it out to get manual__<logical date>");
    if (run_id.size() > kMaxRunIdLength) {
        return make_error("run id '{}…' is {} characters long; at most {} are allowed", run_id.substr(0, 40),
                          run_id.size(), kMaxRunIdLength);
    }
    for (size_t i = 0; i < run_id.size(); ++i) {
        if (!allowed_character(run_id[i])) {
            return make_error("run id '{}' has a character that is not allowed at position {}: run ids are made of "
                              "letters, digits and _ . ~ : + - (Airflow's allowed_run_id_pattern ^[A-Za-z0-9_.~:+-]+$)",
                              run_id, i + 1);
        }
    }
    if (run_id == "~") {
        // The API's wildcard: a run of that name could not be named in a path (…/dagRuns/~/… lists all runs).
        return make_error("run id '~' is the API's wildcard for every run; choose another");
    }
    if (use == RunIdUse::manual) {
        if (auto type = reserved_run_type(run_id)) {
            return make_error("run id '{}' starts with '{}__', which is reserved for {} runs; a run triggered by hand "
                              "may use any other id, e.g. 'manual__...' or a name of your own",
                              run_id, *type, *type);
        }
    }
    return Status::success();
}

}  // namespace mayaflow
