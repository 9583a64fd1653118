#pragma once
// The empty operator does nothing and succeeds; it groups or joins other tasks.

#include "engine/model/operator_spec.h"

namespace mayaflow {

OperatorSpec empty_operator_spec();

}  // namespace mayaflow
