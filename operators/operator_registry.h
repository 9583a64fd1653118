#pragma once
// OperatorRegistry knows every operator mayaflow can run: its declared parameters (which the DAG
// loader checks against) and, from the scheduler issue on, how to make one.

#include <map>
#include <string>
#include <vector>

#include "engine/model/operator_spec.h"

namespace mayaflow {

class OperatorRegistry : public OperatorCatalog {
  public:
    void add(OperatorSpec spec);

    const OperatorSpec* find(std::string_view operator_name) const override;
    std::vector<std::string> names() const override;

  private:
    std::map<std::string, OperatorSpec, std::less<>> specs_;
};

// The registry of the operators built into mayaflow.
const OperatorRegistry& builtin_operators();

}  // namespace mayaflow
