#include "scheduler/priority_weights.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <string_view>
#include <unordered_map>

namespace mayaflow {
namespace {

using Edges = std::vector<std::vector<std::uint32_t>>;

// Reachability is computed for this many target tasks at a time, which bounds the scratch memory to
// 256 bytes per task whatever the DAG's size.
constexpr size_t kBlockBits = 2048;

struct Graph {
    Edges parents;                     // each task's direct upstream tasks, without repeats
    Edges children;                    // each task's direct downstream tasks
    std::vector<std::uint32_t> order;  // every task after all its parents
};

Graph build_graph(const Dag& dag) {
    const size_t n = dag.tasks.size();
    std::unordered_map<std::string_view, std::uint32_t> index;
    index.reserve(n);
    for (size_t i = 0; i < n; ++i) index.emplace(dag.tasks[i].task_id, static_cast<std::uint32_t>(i));

    Graph graph{Edges(n), Edges(n), {}};
    for (size_t i = 0; i < n; ++i) {
        auto& parents = graph.parents[i];
        for (const std::string& id : dag.tasks[i].upstream) {
            auto it = index.find(id);
            if (it != index.end() && it->second != i) parents.push_back(it->second);
        }
        std::sort(parents.begin(), parents.end());
        parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
        for (std::uint32_t parent : parents) graph.children[parent].push_back(static_cast<std::uint32_t>(i));
    }

    // Kahn's algorithm, so that a hand-built Dag whose tasks are not in order still gets right sums.
    std::vector<size_t> waiting_for(n);
    graph.order.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        waiting_for[i] = graph.parents[i].size();
        if (waiting_for[i] == 0) graph.order.push_back(static_cast<std::uint32_t>(i));
    }
    for (size_t next = 0; next < graph.order.size(); ++next) {
        for (std::uint32_t child : graph.children[graph.order[next]]) {
            if (--waiting_for[child] == 0) graph.order.push_back(child);
        }
    }
    if (graph.order.size() < n) {  // a cycle: keep going with its tasks in file order
        for (size_t i = 0; i < n; ++i) {
            if (waiting_for[i] > 0) graph.order.push_back(static_cast<std::uint32_t>(i));
        }
    }
    return graph;
}

// For every task v with wanted[v], adds to totals[v] the weights of all the tasks reachable from v
// along `next`, each once. `order` must list every task after all the tasks its `next` edges reach.
// One bit per (task, target) pair, a block of targets at a time: a task's row is the union of its
// next tasks' rows plus their own bits. When those sets are disjoint (a chain, a tree, a fan-out),
// which one popcount tells, the sum comes from the next tasks' sums; only where paths meet again
// are the bits walked one by one.
void add_reachable_weights(const Edges& next, const std::vector<std::uint32_t>& order,
                           const std::vector<long long>& weights, const std::vector<bool>& wanted,
                           std::vector<long long>& totals) {
    const size_t n = weights.size();
    std::vector<std::uint64_t> rows;
    std::vector<long long> reach_sum(n);  // weights of the block's targets reachable from each task
    std::vector<size_t> reach_count(n);   // how many of the block's targets are reachable
    for (size_t first = 0; first < n; first += kBlockBits) {
        const size_t bits = std::min(kBlockBits, n - first);
        const size_t words = (bits + 63) / 64;
        const auto in_block = [&](std::uint32_t task) { return task >= first && task - first < bits; };
        rows.assign(n * words, 0);
        for (std::uint32_t v : order) {
            std::uint64_t* row = &rows[v * words];
            long long sum_if_disjoint = 0;
            size_t count_if_disjoint = 0;
            for (std::uint32_t w : next[v]) {
                const std::uint64_t* other = &rows[w * words];
                for (size_t k = 0; k < words; ++k) row[k] |= other[k];
                sum_if_disjoint += reach_sum[w];
                count_if_disjoint += reach_count[w];
                if (in_block(w)) {
                    row[(w - first) / 64] |= std::uint64_t{1} << ((w - first) % 64);
                    sum_if_disjoint += weights[w];
                    ++count_if_disjoint;
                }
            }
            size_t count = 0;
            for (size_t k = 0; k < words; ++k) count += static_cast<size_t>(std::popcount(row[k]));
            long long sum = sum_if_disjoint;
            if (count != count_if_disjoint) {
                sum = 0;
                for (size_t k = 0; k < words; ++k) {
                    for (std::uint64_t word = row[k]; word != 0; word &= word - 1) {
                        sum += weights[first + k * 64 + static_cast<size_t>(std::countr_zero(word))];
                    }
                }
            }
            reach_sum[v] = sum;
            reach_count[v] = count;
            if (wanted[v]) totals[v] += sum;
        }
    }
}

long long clamp_to_int32(long long weight) {
    return std::clamp<long long>(weight, std::numeric_limits<std::int32_t>::min(),
                                 std::numeric_limits<std::int32_t>::max());
}

}  // namespace

std::vector<long long> effective_priority_weights(const Dag& dag) {
    const size_t n = dag.tasks.size();
    std::vector<long long> own(n);
    std::vector<bool> wants_downstream(n), wants_upstream(n);
    bool any_downstream = false, any_upstream = false;
    for (size_t i = 0; i < n; ++i) {
        const Task& task = dag.tasks[i];
        own[i] = task.priority_weight;
        wants_downstream[i] = task.weight_rule == WeightRule::downstream;
        wants_upstream[i] = task.weight_rule == WeightRule::upstream;
        any_downstream = any_downstream || wants_downstream[i];
        any_upstream = any_upstream || wants_upstream[i];
    }

    std::vector<long long> totals = own;
    if (any_downstream || any_upstream) {
        const Graph graph = build_graph(dag);
        if (any_downstream) {
            const std::vector<std::uint32_t> reverse_order(graph.order.rbegin(), graph.order.rend());
            add_reachable_weights(graph.children, reverse_order, own, wants_downstream, totals);
        }
        if (any_upstream) add_reachable_weights(graph.parents, graph.order, own, wants_upstream, totals);
    }
    for (long long& total : totals) total = clamp_to_int32(total);
    return totals;
}

}  // namespace mayaflow
