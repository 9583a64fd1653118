#include "scheduler/dag_graph.h"

#include "scheduler/priority_weights.h"

namespace mayaflow {

std::shared_ptr<const DagGraph> build_dag_graph(const Dag& dag) {
    auto graph = std::make_shared<DagGraph>();
    const size_t count = dag.tasks.size();
    graph->upstream.resize(count);
    graph->downstream.resize(count);
    for (size_t i = 0; i < count; ++i) {
        for (const auto& id : dag.tasks[i].upstream) {
            const Task* up = dag.find_task(id);
            if (!up) continue;
            size_t index = static_cast<size_t>(up - dag.tasks.data());
            graph->upstream[i].push_back(index);
            graph->downstream[index].push_back(i);
        }
    }
    graph->weights = effective_priority_weights(dag);
    return graph;
}

}  // namespace mayaflow
