#include "operators/core/empty_operator.h"

namespace mayaflow {

OperatorSpec empty_operator_spec() {
    OperatorSpec spec;
    spec.name = "empty";
    spec.description = "Does nothing and succeeds at once; use it to join or group other tasks.";
    return spec;
}

OperatorResult EmptyOperator::execute(const TaskRun&) {
    return OperatorResult{.outcome = TaskOutcome::success};
}

OperatorResult EmptyOperator::resume(const TaskRun& run, const StartedProcess&) {
    return execute(run);
}

}  // namespace mayaflow
