#pragma once
// The DAG versions that runs name, parsed once for every request that shows their task instances
// (the operator, pool and priority weight of each come from the version its run runs with).
// A stored version's text never changes, but a DAG deleted and created again numbers its versions
// from 1 again: an entry is used only while the store's text for (dag_id, version) is the one it
// was parsed from (compared by size and hash), so a recreated DAG is never shown with the old one's
// tasks. At most kCapacity versions are kept, the least recently used going first.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/model/dag.h"
#include "engine/store/run_store.h"

namespace mayaflow {

class DagVersionCache {
  public:
    struct Entry {
        std::shared_ptr<const Dag> dag;
        std::vector<long long> weights;  // effective priority weights, aligned with dag->tasks
    };
    static constexpr std::size_t kCapacity = 256;

    // Null when the version is not stored or cannot be read.
    std::shared_ptr<const Entry> find(RunStore& runs, const std::string& dag_id, int version);
    std::size_t parses() const;  // how many texts were parsed (for tests)

  private:
    struct Slot {
        std::size_t text_size = 0;
        std::size_t text_hash = 0;
        std::shared_ptr<const Entry> entry;
        std::uint64_t used = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, Slot> slots_;
    std::uint64_t clock_ = 0;
    std::size_t parses_ = 0;
};

}  // namespace mayaflow
