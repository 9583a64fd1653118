#include "engine/dagfile/dag_budget.h"

#include <fmt/format.h>

#include <limits>
#include <vector>

#include "engine/dagfile/load_limits.h"

namespace mayaflow {
namespace {

// About the bytes a value holds: its strings and keys, and a little for every other item.
size_t text_size(const nlohmann::json& value) {
    size_t size = 0;
    std::vector<const nlohmann::json*> pending{&value};
    while (!pending.empty()) {
        const nlohmann::json* next = pending.back();
        pending.pop_back();
        size += 8;
        if (next->is_string()) size += next->get_ref<const std::string&>().size();
        if (next->is_object()) {
            for (const auto& [key, item] : next->items()) {
                size += key.size();
                pending.push_back(&item);
            }
        } else if (next->is_array()) {
            for (const auto& item : *next) pending.push_back(&item);
        }
    }
    return size;
}

// The number of tasks a for_each makes, from the lists written in the file; a list from an
// included file counts as one until it is read.
size_t for_each_size(const YAML::Node& node) {
    if (node.Tag() == "!include") return 1;
    if (node.IsSequence()) return node.size();
    if (!node.IsMap()) return 1;
    size_t total = 1;
    for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node list = it->second;  // a copy: it-> gives a temporary
        if (list.Tag() != "!include" && list.IsSequence()) total = saturating_multiply(total, list.size());
    }
    return total;
}

// Counts the tasks of `tasks` into `total` and `visited`, stopping once either is past what a DAG
// may have (aliases can repeat a list many times over without making the file any longer).
void count_tasks_into(const YAML::Node& tasks, int depth, size_t& total, size_t& visited) {
    if (!tasks.IsSequence() || depth > kMaxGroupDepth) return;
    for (size_t i = 0; i < tasks.size(); ++i) {
        if (total > kMaxTasksPerDag || ++visited > 10 * kMaxTasksPerDag) {
            total = std::numeric_limits<size_t>::max();
            return;
        }
        const YAML::Node item = tasks[i];
        if (!item.IsMap()) continue;
        size_t copies = item["for_each"] ? for_each_size(item["for_each"]) : 1;
        if (copies == 0) continue;
        if (!item["group"]) {
            total = saturating_add(total, copies);
            continue;
        }
        size_t inside = 0;
        count_tasks_into(item["tasks"], depth + 1, inside, visited);
        total = saturating_add(total, saturating_multiply(copies, inside));
    }
}

}  // namespace

size_t saturating_multiply(size_t a, size_t b) {
    size_t product = 0;
    if (__builtin_mul_overflow(a, b, &product)) return std::numeric_limits<size_t>::max();
    return product;
}

size_t saturating_add(size_t a, size_t b) {
    size_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum)) return std::numeric_limits<size_t>::max();
    return sum;
}

size_t DagBudget::count_tasks(const YAML::Node& tasks) {
    size_t total = 0;
    size_t visited = 0;
    count_tasks_into(tasks, 0, total, visited);
    return total;
}

bool DagBudget::room_for_tasks(size_t more, const YAML::Node& node, const std::string& field,
                               std::string_view what) {
    if (exhausted_) return false;
    if (saturating_add(tasks_, more) <= kMaxTasksPerDag) return true;
    exhausted_ = true;
    std::string count = more > kMaxTasksPerDag ? fmt::format("more than {}", kMaxTasksPerDag)
                                               : fmt::format("{}", saturating_add(tasks_, more));
    reader_.error(node, field,
                  fmt::format("{} would bring the DAG to {} tasks (for_each lists multiply through their "
                              "groups); a DAG may have at most {} tasks: split it into several DAGs",
                              what, count, kMaxTasksPerDag));
    return false;
}

bool DagBudget::add_task(const YAML::Node& node, const std::string& field) {
    if (!room_for_tasks(1, node, field, "this task")) return false;
    ++tasks_;
    return true;
}

bool DagBudget::add_dependencies(size_t count, const YAML::Node& node, const std::string& field) {
    if (exhausted_) return false;
    dependencies_ = saturating_add(dependencies_, count);
    if (dependencies_ <= kMaxDependenciesPerDag) return true;
    exhausted_ = true;
    reader_.error(
        node, field,
        fmt::format("the DAG's tasks and groups name more than {} dependencies in all (for_each copies "
                    "each depends_on list); a DAG may have at most {}",
                    kMaxDependenciesPerDag, kMaxDependenciesPerDag));
    return false;
}

bool DagBudget::add_text(const nlohmann::json& value, SourceLocation where, const std::string& field) {
    if (exhausted_) return false;
    text_bytes_ = saturating_add(text_bytes_, text_size(value));
    if (text_bytes_ <= kMaxTaskTextBytesPerDag) return true;
    exhausted_ = true;
    reader_.error(
        std::move(where), field,
        fmt::format("the DAG's tasks hold more than {} MiB of parameters and for_each values (does a "
                    "for_each copy a large file or value into many tasks?); make the values smaller, "
                    "or let the task read the file at run time",
                    kMaxTaskTextBytesPerDag >> 20));
    return false;
}

}  // namespace mayaflow
