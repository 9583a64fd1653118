#include "web/api/dag_version_cache.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

#include "engine/model/dag_json.h"
#include "scheduler/priority_weights.h"

namespace mayaflow {

std::shared_ptr<const DagVersionCache::Entry> DagVersionCache::find(RunStore& runs, const std::string& dag_id,
                                                                    int version) {
    auto text = runs.dag_version_json(dag_id, version);
    if (!text || !*text) return nullptr;
    const std::string& json = **text;
    const std::size_t hash = std::hash<std::string>{}(json);
    const auto key = std::pair{dag_id, version};
    {
        std::lock_guard lock(mutex_);
        auto it = slots_.find(key);
        if (it != slots_.end() && it->second.text_size == json.size() && it->second.text_hash == hash) {
            it->second.used = ++clock_;
            return it->second.entry;
        }
    }
    // Parsed outside the lock: two requests may both parse a new version; the last one is kept.
    std::shared_ptr<const Entry> entry;
    auto dag = dag_from_json(nlohmann::json::parse(json, nullptr, false));
    if (dag) {
        auto shared = std::make_shared<const Dag>(std::move(*dag));
        entry = std::make_shared<const Entry>(Entry{shared, effective_priority_weights(*shared)});
    }
    std::lock_guard lock(mutex_);
    ++parses_;
    if (slots_.size() >= kCapacity && !slots_.contains(key)) {
        auto oldest = std::min_element(slots_.begin(), slots_.end(),
                                       [](const auto& a, const auto& b) { return a.second.used < b.second.used; });
        slots_.erase(oldest);
    }
    slots_[key] = Slot{json.size(), hash, entry, ++clock_};
    return entry;
}

std::size_t DagVersionCache::parses() const {
    std::lock_guard lock(mutex_);
    return parses_;
}

}  // namespace mayaflow
