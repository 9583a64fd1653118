#include "scheduler/priority_weights.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <climits>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace mayaflow {
namespace {

Task make_task(std::string id, std::vector<std::string> upstream, int weight,
               WeightRule rule = WeightRule::downstream) {
    Task task;
    task.task_id = std::move(id);
    task.upstream = std::move(upstream);
    task.priority_weight = weight;
    task.weight_rule = rule;
    return task;
}

Dag make_dag(std::vector<Task> tasks) {
    Dag dag;
    dag.dag_id = "weights";
    dag.tasks = std::move(tasks);
    dag.index_tasks();
    return dag;
}

// The obvious definition, one graph walk per task: the oracle for the bitset version.
std::vector<long long> weights_by_walking(const Dag& dag) {
    const size_t n = dag.tasks.size();
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < n; ++i) index[dag.tasks[i].task_id] = i;
    std::vector<std::vector<size_t>> parents(n), children(n);
    for (size_t i = 0; i < n; ++i) {
        for (const auto& id : dag.tasks[i].upstream) {
            auto it = index.find(id);
            if (it == index.end() || it->second == i) continue;
            parents[i].push_back(it->second);
            children[it->second].push_back(i);
        }
    }
    std::vector<long long> result(n);
    for (size_t i = 0; i < n; ++i) {
        const Task& task = dag.tasks[i];
        long long total = task.priority_weight;
        if (task.weight_rule != WeightRule::absolute) {
            const auto& next = task.weight_rule == WeightRule::downstream ? children : parents;
            std::vector<bool> seen(n);
            std::vector<size_t> stack(next[i].begin(), next[i].end());
            while (!stack.empty()) {
                const size_t v = stack.back();
                stack.pop_back();
                if (seen[v]) continue;
                seen[v] = true;
                total += dag.tasks[v].priority_weight;
                stack.insert(stack.end(), next[v].begin(), next[v].end());
            }
        }
        result[i] = std::clamp<long long>(total, INT_MIN, INT_MAX);
    }
    return result;
}

TEST_CASE("priority weights of a diamond count the shared task once", "[priority_weights]") {
    //   a → b → d
    //   a → c → d
    const auto diamond = [](WeightRule rule) {
        return make_dag({make_task("a", {}, 1, rule), make_task("b", {"a"}, 2, rule),
                         make_task("c", {"a"}, 3, rule), make_task("d", {"b", "c"}, 4, rule)});
    };
    CHECK(effective_priority_weights(diamond(WeightRule::downstream)) == std::vector<long long>{10, 6, 7, 4});
    CHECK(effective_priority_weights(diamond(WeightRule::upstream)) == std::vector<long long>{1, 3, 4, 10});
    CHECK(effective_priority_weights(diamond(WeightRule::absolute)) == std::vector<long long>{1, 2, 3, 4});
}

TEST_CASE("each task's own weight rule applies to it alone", "[priority_weights]") {
    const Dag dag = make_dag({
        make_task("extract", {}, 5, WeightRule::downstream),
        make_task("load", {"extract"}, 3, WeightRule::upstream),
        make_task("mart", {"load"}, 10, WeightRule::absolute),
        make_task("check", {"mart"}, 1, WeightRule::upstream),
        make_task("notify", {"check", "load"}, 2, WeightRule::downstream),
    });
    CHECK(effective_priority_weights(dag) == std::vector<long long>{21, 8, 10, 19, 2});
}

TEST_CASE("priority weights are clamped to the 32-bit range", "[priority_weights]") {
    const Dag big = make_dag({make_task("a", {}, INT_MAX), make_task("b", {"a"}, INT_MAX),
                              make_task("c", {"b"}, 1, WeightRule::upstream)});
    CHECK(effective_priority_weights(big) == std::vector<long long>{INT_MAX, INT_MAX, INT_MAX});
    const Dag small = make_dag({make_task("a", {}, INT_MIN), make_task("b", {"a"}, -5),
                                make_task("c", {"b"}, -7, WeightRule::upstream)});
    CHECK(effective_priority_weights(small) == std::vector<long long>{INT_MIN, -12, INT_MIN});
}

TEST_CASE("priority weights ignore task order unknown ids and repeated edges", "[priority_weights]") {
    // Listed downstream-first; "ghost" names no task; "a" is named twice.
    const Dag dag = make_dag({make_task("c", {"b", "ghost"}, 100), make_task("b", {"a", "a"}, 10),
                              make_task("a", {}, 1), make_task("u", {"a", "c"}, 1000, WeightRule::upstream)});
    CHECK(effective_priority_weights(dag) == std::vector<long long>{1100, 1110, 1111, 1111});
    CHECK(effective_priority_weights(make_dag({})).empty());
}

// A random DAG whose task i may depend on any earlier task, shuffled so that the file order is
// not a topological one.
Dag random_dag(size_t size, double edges_per_task, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<Task> tasks;
    const WeightRule rules[] = {WeightRule::downstream, WeightRule::upstream, WeightRule::absolute};
    for (size_t i = 0; i < size; ++i) {
        std::vector<std::string> upstream;
        if (i > 0) {
            std::poisson_distribution<int> count(edges_per_task);
            std::uniform_int_distribution<size_t> pick(i > 50 ? i - 50 : 0, i - 1);  // mostly near
            std::uniform_int_distribution<size_t> far(0, i - 1);
            for (int e = count(rng); e > 0; --e) {
                upstream.push_back("t" + std::to_string(rng() % 4 == 0 ? far(rng) : pick(rng)));
            }
        }
        const int weight = static_cast<int>(rng() % 2000) - 100;
        tasks.push_back(make_task("t" + std::to_string(i), std::move(upstream), weight, rules[rng() % 3]));
    }
    std::shuffle(tasks.begin(), tasks.end(), rng);
    return make_dag(std::move(tasks));
}

TEST_CASE("priority weights agree with a graph walk on random DAGs", "[priority_weights]") {
    struct Shape {
        size_t size;
        double edges_per_task;
    };
    // The bitsets are built 2,048 target tasks at a time: 2,049 and 5,000 tasks span several blocks.
    const Shape shapes[] = {{1, 0},   {2, 1},      {10, 1.5}, {64, 2},  {65, 2},
                            {300, 3}, {1000, 1.2}, {2049, 2}, {5000, 2}};
    unsigned seed = 1;
    for (const Shape& shape : shapes) {
        for (int round = 0; round < (shape.size > 1000 ? 1 : 5); ++round, ++seed) {
            const Dag dag = random_dag(shape.size, shape.edges_per_task, seed);
            INFO("size " << shape.size << " seed " << seed);
            CHECK(effective_priority_weights(dag) == weights_by_walking(dag));
        }
    }
}

TEST_CASE("priority weights of a 10000-task fan-out and fan-in", "[priority_weights]") {
    constexpr int kMiddle = 9998;
    std::vector<Task> tasks;
    tasks.push_back(make_task("start", {}, 1));
    std::vector<std::string> middle_ids;
    for (int i = 0; i < kMiddle; ++i) {
        middle_ids.push_back("m" + std::to_string(i));
        tasks.push_back(make_task(middle_ids.back(), {"start"}, 1));
    }
    tasks.push_back(make_task("end", middle_ids, 1));
    Dag dag = make_dag(std::move(tasks));

    const auto started = std::chrono::steady_clock::now();
    const auto downstream = effective_priority_weights(dag);
    for (Task& task : dag.tasks) task.weight_rule = WeightRule::upstream;
    const auto upstream = effective_priority_weights(dag);
    const auto elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
    INFO("both directions took " << elapsed.count() << " ms");  // a figure, not an assertion

    REQUIRE(downstream.size() == 10000);
    CHECK(downstream.front() == 10000);
    CHECK(downstream[1] == 2);
    CHECK(downstream[kMiddle] == 2);
    CHECK(downstream.back() == 1);
    CHECK(upstream.front() == 1);
    CHECK(upstream[1] == 2);
    CHECK(upstream.back() == 10000);
}

}  // namespace
}  // namespace mayaflow
