#include "engine/dagfile/dependency_resolver.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include "engine/dagfile/load_limits.h"
#include "engine/util/text.h"

namespace mayaflow {
namespace {

// A node of the dependency graph before group expansion: a task or a group.
struct Endpoint {
    bool is_group = false;
    std::string id;
};

struct Reference {
    Endpoint downstream;
    Endpoint upstream;
};

class Resolver {
  public:
    Resolver(DagBlueprint& blueprint, FieldReader& reader) : blueprint_(blueprint), reader_(reader) {
        for (size_t i = 0; i < blueprint_.tasks.size(); ++i) {
            const auto& id = blueprint_.tasks[i].task.task_id;
            if (!task_index_.emplace(id, i).second) duplicates_.push_back(i);
        }
        for (const auto& group : blueprint_.groups) {
            group_parent_[group.group_id] = group.parent_group_id;
            group_where_[group.group_id] = &group;
            group_children_[group.parent_group_id].push_back(group.group_id);
        }
        // Each task is a member of its group and of every group around it.
        for (size_t i = 0; i < blueprint_.tasks.size(); ++i) {
            for (std::string group = blueprint_.tasks[i].task.group_id; !group.empty();) {
                group_members_[group].push_back(i);
                auto parent = group_parent_.find(group);
                if (parent == group_parent_.end()) break;
                group = parent->second;
            }
        }
    }

    std::vector<Task> run() {
        report_duplicates();
        if (!duplicates_.empty()) return {};
        collect_references();
        if (reader_.error_limit_reached()) return {};
        index_references();
        std::set<std::pair<size_t, size_t>> edges;  // (upstream, downstream) task indexes
        for (const auto& ref : references_) {
            for (size_t up : expand(ref.upstream, /*leaves=*/true)) {
                for (size_t down : expand(ref.downstream, /*leaves=*/false)) {
                    if (up == down) continue;  // reported when collected
                    edges.emplace(up, down);
                }
                if (edges.size() > kMaxDependenciesPerDag) {
                    reader_.error(SourceLocation{reader_.file().string(), 0, 0}, "depends_on",
                                  fmt::format("the DAG's dependencies stand for more than {} task-to-task "
                                              "dependencies once groups are expanded (does a group of many tasks "
                                              "depend on another?); a DAG may have at most {}",
                                              kMaxDependenciesPerDag, kMaxDependenciesPerDag));
                    return {};
                }
            }
        }
        for (const auto& [up, down] : edges) {
            blueprint_.tasks[down].task.upstream.push_back(blueprint_.tasks[up].task.task_id);
            blueprint_.tasks[up].task.downstream.push_back(blueprint_.tasks[down].task.task_id);
        }
        return topological_order();
    }

  private:
    void report_duplicates() {
        for (size_t index : duplicates_) {
            const auto& blueprint = blueprint_.tasks[index];
            const auto& first = blueprint_.tasks[task_index_.at(blueprint.task.task_id)];
            reader_.error(blueprint.task.defined_at, blueprint.field + ".task_id",
                          fmt::format("duplicate task_id '{}': already used by {} at line {}", blueprint.task.task_id,
                                      first.field, first.task.defined_at.line));
        }
        for (const auto& group : blueprint_.groups) {
            if (task_index_.count(group.group_id)) {
                reader_.error(group.where, group.field + ".group",
                              fmt::format("group '{}' has the same id as a task; give one of them another name",
                                          group.group_id));
                duplicates_.push_back(0);
            }
        }
    }

    bool is_inside(const std::string& group, const std::string& ancestor) const {
        std::string current = group;
        while (!current.empty()) {
            if (current == ancestor) return true;
            auto it = group_parent_.find(current);
            if (it == group_parent_.end()) return false;
            current = it->second;
        }
        return ancestor.empty();
    }

    // Finds what a depends_on name means, looking in the group it was written in, then outward.
    std::vector<Endpoint> lookup(const DependencyRef& ref) {
        std::vector<std::string> scopes;
        for (std::string scope = ref.scope_group;; scope = group_parent_[scope]) {
            scopes.push_back(scope);
            if (scope.empty()) break;
        }
        std::vector<Endpoint> found;
        if (has_glob_chars(ref.name)) {
            for (const auto& scope : scopes) {
                std::string pattern = scope.empty() ? ref.name : scope + "." + ref.name;
                for (const auto& blueprint : blueprint_.tasks) {
                    if (glob_match(pattern, blueprint.task.task_id)) found.push_back({false, blueprint.task.task_id});
                }
                if (!found.empty()) return found;
            }
            reader_.error(ref.where, ref.field, fmt::format("the pattern {} matches no task", quote_name(ref.name)));
            return found;
        }
        for (const auto& scope : scopes) {
            std::string candidate = scope.empty() ? ref.name : scope + "." + ref.name;
            if (task_index_.count(candidate)) return {{false, candidate}};
            if (group_parent_.count(candidate)) return {{true, candidate}};
        }
        // A suggestion costs a comparison with every name: only for the errors that are listed.
        std::string suggestion;
        if (reader_.listing_errors()) {
            if (known_names_.empty()) {
                for (const auto& blueprint : blueprint_.tasks) known_names_.push_back(blueprint.task.task_id);
                for (const auto& [group, parent] : group_parent_) known_names_.push_back(group);
            }
            suggestion = did_you_mean(ref.name, known_names_);
        }
        reader_.error(ref.where, ref.field,
                      fmt::format("depends on {}, but there is no task or group with that name{}",
                                  quote_name(ref.name), suggestion));
        return found;
    }

    void add_reference(const Endpoint& downstream, const DependencyRef& ref, const std::string& downstream_group) {
        for (const auto& upstream : lookup(ref)) {
            if (!upstream.is_group && !downstream.is_group && upstream.id == downstream.id) {
                if (!has_glob_chars(ref.name)) {
                    reader_.error(ref.where, ref.field, fmt::format("task '{}' depends on itself", downstream.id));
                }
                continue;
            }
            if (upstream.is_group && is_inside(downstream_group, upstream.id)) {
                reader_.error(ref.where, ref.field,
                              fmt::format("'{}' is inside group '{}', so it cannot depend on that group",
                                          downstream.id, upstream.id));
                continue;
            }
            if (downstream.is_group && !upstream.is_group) {
                const auto& task = blueprint_.tasks[task_index_.at(upstream.id)].task;
                if (is_inside(task.group_id, downstream.id)) {
                    reader_.error(ref.where, ref.field,
                                  fmt::format("group '{}' cannot depend on its own task '{}'", downstream.id, upstream.id));
                    continue;
                }
            }
            references_.push_back({downstream, upstream});
        }
    }

    void collect_references() {
        for (const auto& blueprint : blueprint_.tasks) {
            for (const auto& ref : blueprint.depends_on) {
                if (reader_.error_limit_reached() || references_.size() > kMaxDependenciesPerDag) return;
                add_reference({false, blueprint.task.task_id}, ref, blueprint.task.group_id);
            }
        }
        for (const auto& group : blueprint_.groups) {
            for (const auto& ref : group.depends_on) {
                if (reader_.error_limit_reached() || references_.size() > kMaxDependenciesPerDag) return;
                add_reference({true, group.group_id}, ref, group.group_id);
            }
        }
    }

    // The innermost group holding both ends of a reference ("" for none): that group and the groups
    // around it are the ones whose first and last tasks the reference can change.
    std::string common_group(const Reference& ref) const {
        std::set<std::string> around_upstream;
        for (std::string group = group_of(ref.upstream); !group.empty(); group = group_parent_.at(group)) {
            around_upstream.insert(group);
        }
        for (std::string group = group_of(ref.downstream); !group.empty(); group = group_parent_.at(group)) {
            if (around_upstream.count(group)) return group;
        }
        return "";
    }

    void index_references() {
        for (size_t i = 0; i < references_.size(); ++i) {
            std::string group = common_group(references_[i]);
            if (!group.empty()) references_by_group_[group].push_back(i);
        }
    }

    std::string group_of(const Endpoint& endpoint) const {
        if (endpoint.is_group) return group_parent_.at(endpoint.id);
        return blueprint_.tasks[task_index_.at(endpoint.id)].task.group_id;
    }

    // The tasks an endpoint stands for: a task itself, or a group's last tasks (as an upstream)
    // or first tasks (as a downstream).
    std::vector<size_t> expand(const Endpoint& endpoint, bool leaves) {
        if (!endpoint.is_group) return {task_index_.at(endpoint.id)};
        auto& cache = leaves ? leaves_cache_ : roots_cache_;
        if (auto it = cache.find(endpoint.id); it != cache.end()) return it->second;
        const std::vector<size_t>& members = group_members_[endpoint.id];
        std::set<size_t> member_set(members.begin(), members.end());
        std::set<size_t> excluded;  // members with a downstream (leaves) or upstream (roots) inside the group
        // The references with both ends inside the group are those indexed under it or a group inside it.
        std::vector<std::string> pending{endpoint.id};
        while (!pending.empty()) {
            std::string group = std::move(pending.back());
            pending.pop_back();
            if (auto children = group_children_.find(group); children != group_children_.end()) {
                pending.insert(pending.end(), children->second.begin(), children->second.end());
            }
            auto indexed = references_by_group_.find(group);
            if (indexed == references_by_group_.end()) continue;
            for (size_t ref_index : indexed->second) {
                const Reference& ref = references_[ref_index];
                if (ref.downstream.is_group && ref.downstream.id == endpoint.id) continue;
                if (ref.upstream.is_group && ref.upstream.id == endpoint.id) continue;
                for (size_t index : expand(leaves ? ref.upstream : ref.downstream, leaves)) {
                    if (member_set.count(index)) excluded.insert(index);
                }
            }
        }
        std::vector<size_t> result;
        for (size_t index : members) {
            if (!excluded.count(index)) result.push_back(index);
        }
        cache[endpoint.id] = result;
        return result;
    }

    std::vector<Task> topological_order() {
        const size_t count = blueprint_.tasks.size();
        std::vector<size_t> pending(count, 0);
        std::vector<std::vector<size_t>> downstream(count);
        for (size_t i = 0; i < count; ++i) {
            for (const auto& up : blueprint_.tasks[i].task.upstream) {
                downstream[task_index_.at(up)].push_back(i);
                ++pending[i];
            }
        }
        std::vector<size_t> order;
        order.reserve(count);
        for (size_t i = 0; i < count; ++i) {
            if (pending[i] == 0) order.push_back(i);
        }
        for (size_t next = 0; next < order.size(); ++next) {
            for (size_t down : downstream[order[next]]) {
                if (--pending[down] == 0) order.push_back(down);
            }
        }
        if (order.size() != count) {
            report_cycle(pending, downstream);
            return {};
        }
        std::vector<Task> tasks;
        tasks.reserve(count);
        for (size_t index : order) tasks.push_back(std::move(blueprint_.tasks[index].task));
        return tasks;
    }

    void report_cycle(const std::vector<size_t>& pending, const std::vector<std::vector<size_t>>& downstream) {
        (void)downstream;
        // Every task left unordered waits for an upstream task that is also left, so walking
        // upstream from one of them must come back to a task already seen: that loop is a cycle.
        size_t current = 0;
        while (pending[current] == 0) ++current;
        std::vector<size_t> path;
        std::vector<int> position(pending.size(), -1);
        while (position[current] < 0) {
            position[current] = static_cast<int>(path.size());
            path.push_back(current);
            for (const auto& up : blueprint_.tasks[current].task.upstream) {
                size_t index = task_index_.at(up);
                if (pending[index] > 0) {
                    current = index;
                    break;
                }
            }
        }
        std::vector<size_t> loop(path.begin() + position[current], path.end());
        std::reverse(loop.begin(), loop.end());  // upstream first, in the direction work flows
        std::string cycle;
        for (size_t index : loop) cycle += blueprint_.tasks[index].task.task_id + " -> ";
        cycle += blueprint_.tasks[loop.front()].task.task_id;
        reader_.error(blueprint_.tasks[loop.front()].task.defined_at, "depends_on", "dependency cycle: " + cycle);
    }

    DagBlueprint& blueprint_;
    FieldReader& reader_;
    std::unordered_map<std::string, size_t> task_index_;
    std::vector<size_t> duplicates_;
    std::map<std::string, std::string> group_parent_;
    std::map<std::string, const GroupBlueprint*> group_where_;
    std::vector<Reference> references_;
    std::map<std::string, std::vector<std::string>> group_children_;  // "" holds the top-level groups
    std::map<std::string, std::vector<size_t>> group_members_;        // tasks inside, at any depth
    std::map<std::string, std::vector<size_t>> references_by_group_;  // by common_group()
    std::vector<std::string> known_names_;
    std::map<std::string, std::vector<size_t>> leaves_cache_;
    std::map<std::string, std::vector<size_t>> roots_cache_;
};

}  // namespace

std::vector<Task> resolve_dependencies(DagBlueprint blueprint, FieldReader& reader) {
    Resolver resolver(blueprint, reader);
    return resolver.run();
}

}  // namespace mayaflow
