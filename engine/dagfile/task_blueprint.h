#pragma once
// What the task builder hands to the dependency resolver: every task after for_each expansion and
// group prefixing, with its depends_on names still unresolved, and every task group.

#include <string>
#include <vector>

#include "engine/model/dag.h"

namespace mayaflow {

// One name written in a depends_on list, with the group it was written in (names resolve
// relative to it first, then outward).
struct DependencyRef {
    std::string name;
    std::string scope_group;
    SourceLocation where;
    std::string field;
};

struct TaskBlueprint {
    Task task;
    std::vector<DependencyRef> depends_on;
    std::string field;  // e.g. "tasks[3]" or "tasks[1].tasks[0] (table=students)"
};

struct GroupBlueprint {
    std::string group_id;         // full id, e.g. "raw.students"
    std::string parent_group_id;  // "" at top level
    std::vector<DependencyRef> depends_on;
    SourceLocation where;
    std::string field;
};

struct DagBlueprint {
    std::vector<TaskBlueprint> tasks;
    std::vector<GroupBlueprint> groups;
};

}  // namespace mayaflow
