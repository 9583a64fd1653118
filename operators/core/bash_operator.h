#pragma once
// The bash operator runs a shell command, as Airflow's BashOperator does.

#include "engine/model/operator_spec.h"

namespace mayaflow {

OperatorSpec bash_operator_spec();

}  // namespace mayaflow
