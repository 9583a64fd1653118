#pragma once
// DagGraph is a DAG version's tasks as indexes: upstream and downstream lists and the effective
// priority weights, computed once per version and shared by every run of it.

#include <memory>
#include <vector>

#include "engine/model/dag.h"

namespace mayaflow {

struct DagGraph {
    std::vector<std::vector<size_t>> upstream;
    std::vector<std::vector<size_t>> downstream;
    std::vector<long long> weights;  // effective priority weight of each task (weight_rule applied)
};

std::shared_ptr<const DagGraph> build_dag_graph(const Dag& dag);

}  // namespace mayaflow
