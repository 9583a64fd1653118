#pragma once
// The empty operator does nothing and succeeds; it groups or joins other tasks.

#include "engine/model/operator_spec.h"
#include "operators/operator.h"

namespace mayaflow {

OperatorSpec empty_operator_spec();

class EmptyOperator : public Operator {
  public:
    OperatorResult execute(const TaskRun& run) override;
    // Doing nothing twice is doing nothing once: a try caught by a restart simply succeeds.
    OperatorResult resume(const TaskRun& run, const StartedProcess& recorded) override;
};

}  // namespace mayaflow
