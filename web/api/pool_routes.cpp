// /pools: the pools that limit how many tasks naming them run at once, in Airflow 2.10's shapes.
// The scheduler counts slots, so every change goes to it as a command (pool_set, pool_delete); the
// slots in use are counted here from the unfinished task instances in the store.

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "engine/model/dag_json.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "web/api/problem.h"
#include "web/api/routes.h"

namespace mayaflow {
namespace {

constexpr std::string_view kDefaultPool = "default_pool";
constexpr size_t kMaxPoolNameLength = 256;  // Airflow's column
constexpr long long kMaxPoolSlots = 1'000'000;

// The slots a pool's tasks take, by the state of their task instances.
struct PoolUsage {
    long long running = 0;
    long long queued = 0;
    long long scheduled = 0;
    long long deferred = 0;
};

// Each unfinished task instance takes its task's pool_slots of its task's pool, as the DAG version
// its run started with defines them.
Result<std::map<std::string, PoolUsage>> pool_usage(ApiContext& context) {
    auto runs = context.runs.load_unfinished_runs();
    if (!runs) return runs.error();
    std::map<std::pair<std::string, int>, std::optional<Dag>> dags;
    std::map<std::string, PoolUsage> usage;
    for (const auto& run : *runs) {
        auto key = std::pair{run.dag_id, run.dag_version};
        auto found = dags.find(key);
        if (found == dags.end()) {
            std::optional<Dag> dag;
            auto text = context.runs.dag_version_json(run.dag_id, run.dag_version);
            if (!text) return text.error();
            if (*text) {
                auto parsed = dag_from_json(nlohmann::json::parse(**text, nullptr, false));
                if (parsed) dag = std::move(*parsed);
            }
            found = dags.emplace(key, std::move(dag)).first;
        }
        if (!found->second) continue;
        for (const auto& instance : run.task_instances) {
            long long* counter = nullptr;
            PoolUsage* pool = nullptr;
            const Task* task = nullptr;
            for (const auto& candidate : found->second->tasks) {
                if (candidate.task_id == instance.task_id) task = &candidate;
            }
            if (!task) continue;
            pool = &usage[task->pool];
            switch (instance.state) {
                case TaskState::running: counter = &pool->running; break;
                case TaskState::queued: counter = &pool->queued; break;
                case TaskState::scheduled: counter = &pool->scheduled; break;
                case TaskState::deferred: counter = &pool->deferred; break;
                default: break;
            }
            if (counter) *counter += task->pool_slots;
        }
    }
    return usage;
}

nlohmann::json pool_json(const PoolRecord& pool, const PoolUsage& usage) {
    // mayaflow's scheduler keeps a deferred try's pool slots until it ends: deferred tasks always
    // count, as Airflow's include_deferred=true.
    long long occupied = usage.running + usage.queued + usage.deferred;
    return {{"name", pool.name},
            {"slots", pool.slots},
            {"occupied_slots", occupied},
            {"running_slots", usage.running},
            {"queued_slots", usage.queued},
            {"scheduled_slots", usage.scheduled},
            {"deferred_slots", usage.deferred},
            {"open_slots", pool.slots - occupied},
            {"description", pool.description.empty() ? nlohmann::json() : nlohmann::json(pool.description)},
            {"include_deferred", true}};
}

std::string quoted_name(const std::string& name) { return "'" + escape_invalid_utf8(name) + "'"; }

WebResponse pool_not_found(const std::string& name) {
    return not_found(fmt::format("no pool named {}; GET /api/v1/pools lists them", quoted_name(name)));
}

Result<std::optional<PoolRecord>> find_pool(ApiContext& context, const std::string& name) {
    auto pools = context.runs.list_pools();
    if (!pools) return pools.error();
    for (auto& pool : *pools) {
        if (pool.name == name) return std::optional<PoolRecord>(std::move(pool));
    }
    return std::optional<PoolRecord>();
}

// The answer for one pool as it now stands.
WebResponse pool_answer(ApiContext& context, const std::string& name) {
    auto pool = find_pool(context, name);
    if (!pool) return store_unavailable(pool.error());
    if (!*pool) return pool_not_found(name);
    auto usage = pool_usage(context);
    if (!usage) return store_unavailable(usage.error());
    return json_response(pool_json(**pool, (*usage)[name]));
}

// The fields of a pool's body, checked; `name` and `slots` left unset when the body lacks them.
struct PoolFields {
    std::optional<std::string> name;
    std::optional<long long> slots;
    std::optional<std::string> description;
    bool description_given = false;
};

const std::initializer_list<std::string_view> kPoolBodyFields = {"name", "slots", "description", "include_deferred"};

Read<PoolFields> read_pool_fields(const nlohmann::json& body) {
    PoolFields fields;
    auto name = string_field(body, "name");
    if (failed(name)) return std::get<WebResponse>(name);
    fields.name = std::get<std::optional<std::string>>(name);
    if (fields.name) {
        if (fields.name->empty() || fields.name->find_first_not_of(" \t\r\n") == std::string::npos) {
            return bad_request("'name' cannot be empty");
        }
        if (fields.name->size() > kMaxPoolNameLength) {
            return bad_request(fmt::format("'name' has to be at most {} characters", kMaxPoolNameLength));
        }
        if (auto at = first_control_character(*fields.name)) {
            return bad_request(fmt::format("'name' cannot hold a control character (byte 0x{:02x} at position {})",
                                           static_cast<unsigned char>((*fields.name)[*at]), *at + 1));
        }
    }
    auto slots = integer_field(body, "slots");
    if (failed(slots)) return std::get<WebResponse>(slots);
    fields.slots = std::get<std::optional<long long>>(slots);
    if (fields.slots && (*fields.slots < 0 || *fields.slots > kMaxPoolSlots)) {
        return bad_request(fmt::format("'slots' must be a whole number from 0 to {}, got {}", kMaxPoolSlots, *fields.slots));
    }
    auto description = string_field(body, "description");
    if (failed(description)) return std::get<WebResponse>(description);
    fields.description = std::get<std::optional<std::string>>(description);
    fields.description_given = body.contains("description");
    auto deferred = bool_field(body, "include_deferred");
    if (failed(deferred)) return std::get<WebResponse>(deferred);
    if (auto value = std::get<std::optional<bool>>(deferred); value && !*value) {
        return bad_request("'include_deferred' can only be true: mayaflow's scheduler keeps a deferred task's pool "
                           "slots until it ends, so deferred tasks always count against their pool");
    }
    return fields;
}

// Sends pool_set and answers with the pool as it then stands.
WebResponse set_pool(ApiContext& context, const PoolRecord& pool) {
    auto outcome = send_scheduler_command(
        context, "pool_set", {{"name", pool.name}, {"slots", pool.slots}, {"description", pool.description}});
    if (outcome.kind != CommandOutcome::Kind::done) return command_failure(outcome);
    return pool_answer(context, pool.name);
}

WebResponse list_pools(ApiContext& context, const ApiRequest& request) {
    auto page = read_page(request);
    if (failed(page)) return std::get<WebResponse>(page);
    // Airflow's default order is `id`, the order of creation; a pool's name is its id here.
    auto order = read_order_by(request, {"name", "slots", "id"}, Ordering{"name", false});
    if (failed(order)) return std::get<WebResponse>(order);
    if (std::get<Ordering>(order).field == "id") std::get<Ordering>(order).field = "name";
    auto pools = context.runs.list_pools();
    if (!pools) return store_unavailable(pools.error());
    auto usage = pool_usage(context);
    if (!usage) return store_unavailable(usage.error());
    const auto& ordering = std::get<Ordering>(order);
    std::stable_sort(pools->begin(), pools->end(), [&](const PoolRecord& a, const PoolRecord& b) {
        bool less = ordering.field == "slots" ? std::tie(a.slots, a.name) < std::tie(b.slots, b.name) : a.name < b.name;
        bool greater = ordering.field == "slots" ? std::tie(b.slots, b.name) < std::tie(a.slots, a.name) : b.name < a.name;
        return ordering.descending ? greater : less;
    });
    auto convert = [&](const PoolRecord& pool) { return pool_json(pool, (*usage)[pool.name]); };
    return json_response({{"pools", page_of(*pools, std::get<Page>(page), convert)}, {"total_entries", pools->size()}});
}

WebResponse create_pool(ApiContext& context, const ApiRequest& request) {
    auto body = read_json_object(request, kPoolBodyFields);
    if (failed(body)) return std::get<WebResponse>(body);
    auto fields = read_pool_fields(std::get<nlohmann::json>(body));
    if (failed(fields)) return std::get<WebResponse>(fields);
    auto& given = std::get<PoolFields>(fields);
    if (!given.name) return bad_request("'name' is required: the pool's name");
    if (!given.slots) return bad_request("'slots' is required: how many slots the pool has");
    auto existing = find_pool(context, *given.name);
    if (!existing) return store_unavailable(existing.error());
    if (*existing) {
        return conflict(fmt::format("pool {} already exists; PATCH /api/v1/pools/{{pool_name}} changes it",
                                    quoted_name(*given.name)));
    }
    return set_pool(context, PoolRecord{*given.name, static_cast<int>(*given.slots), given.description.value_or("")});
}

WebResponse update_pool(ApiContext& context, const ApiRequest& request) {
    const auto& name = request.param("pool_name");
    auto body = read_json_object(request, kPoolBodyFields);
    if (failed(body)) return std::get<WebResponse>(body);
    auto fields = read_pool_fields(std::get<nlohmann::json>(body));
    if (failed(fields)) return std::get<WebResponse>(fields);
    auto& given = std::get<PoolFields>(fields);

    std::set<std::string> mask;
    for (const auto& field : request.query_list("update_mask")) {
        auto trimmed = std::string(field);
        trimmed.erase(0, trimmed.find_first_not_of(' '));
        trimmed.erase(trimmed.find_last_not_of(' ') + 1);
        if (trimmed != "name" && trimmed != "slots" && trimmed != "description" && trimmed != "include_deferred") {
            return bad_request(fmt::format("update_mask names {}, which is not a field of a pool that can be changed; "
                                           "use name, slots, description or include_deferred",
                                           quote_for_message(trimmed)));
        }
        mask.insert(trimmed);
    }
    auto applies = [&](const std::string& field) { return mask.empty() || mask.count(field) > 0; };
    if (mask.empty() && (!given.name || !given.slots)) {
        return bad_request("without update_mask the body is the whole pool: 'name' and 'slots' are required "
                           "(or name the fields to change, e.g. ?update_mask=slots)");
    }
    if (applies("name") && mask.count("name") && !given.name) return bad_request("update_mask names 'name' but the body has no name");
    if (applies("slots") && mask.count("slots") && !given.slots) return bad_request("update_mask names 'slots' but the body has no slots");

    auto current = find_pool(context, name);
    if (!current) return store_unavailable(current.error());
    if (!*current) return pool_not_found(name);
    PoolRecord pool = **current;
    std::string new_name = applies("name") && given.name ? *given.name : name;
    if (name == kDefaultPool && new_name != name) {
        return bad_request("default_pool cannot be renamed; only its slots (and description) can change");
    }
    if (applies("slots") && given.slots) pool.slots = static_cast<int>(*given.slots);
    if (applies("description") && (given.description_given || mask.count("description"))) {
        pool.description = given.description.value_or("");
    }
    if (new_name == name) return set_pool(context, pool);

    // A rename: the pool under its new name, then the old one gone (tasks naming the old name wait
    // for it, as they would in Airflow).
    auto clash = find_pool(context, new_name);
    if (!clash) return store_unavailable(clash.error());
    if (*clash) return conflict(fmt::format("pool {} already exists; pick another name", quoted_name(new_name)));
    pool.name = new_name;
    auto answer = set_pool(context, pool);
    if (answer.status != 200) return answer;
    auto removed = send_scheduler_command(context, "pool_delete", {{"name", name}});
    if (removed.kind != CommandOutcome::Kind::done) return command_failure(removed);
    return answer;
}

WebResponse delete_pool(ApiContext& context, const ApiRequest& request) {
    const auto& name = request.param("pool_name");
    if (name == kDefaultPool) {
        return bad_request("default_pool cannot be deleted; PATCH /api/v1/pools/default_pool?update_mask=slots resizes it");
    }
    auto current = find_pool(context, name);
    if (!current) return store_unavailable(current.error());
    if (!*current) return pool_not_found(name);
    auto outcome = send_scheduler_command(context, "pool_delete", {{"name", name}});
    if (outcome.kind != CommandOutcome::Kind::done) return command_failure(outcome);
    return WebResponse{204, "application/json", "", {}};
}

}  // namespace

void add_pool_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/pools", {Resource::pool, Action::read},
              [&context](const ApiRequest& request) { return list_pools(context, request); });
    table.add("POST", "/api/v1/pools", {Resource::pool, Action::create},
              [&context](const ApiRequest& request) { return create_pool(context, request); });
    table.add("GET", "/api/v1/pools/{pool_name}", {Resource::pool, Action::read},
              [&context](const ApiRequest& request) { return pool_answer(context, request.param("pool_name")); });
    table.add("PATCH", "/api/v1/pools/{pool_name}", {Resource::pool, Action::edit},
              [&context](const ApiRequest& request) { return update_pool(context, request); });
    table.add("DELETE", "/api/v1/pools/{pool_name}", {Resource::pool, Action::remove},
              [&context](const ApiRequest& request) { return delete_pool(context, request); });
}

}  // namespace mayaflow
