#pragma once
// OperatorRegistry knows every operator mayaflow can run: its declared parameters (which the DAG
// loader checks against) and a factory that makes a fresh Operator for each try.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/operator_spec.h"
#include "operators/operator.h"

namespace mayaflow {

// Makes a new operator object; one object runs one try (a cancelled operator stays cancelled).
using OperatorFactory = std::function<std::unique_ptr<Operator>()>;

class OperatorRegistry : public OperatorCatalog {
  public:
    // Registers (or replaces) an operator. Without a factory the operator can be loaded but not run.
    void add(OperatorSpec spec, OperatorFactory factory = nullptr);

    const OperatorSpec* find(std::string_view operator_name) const override;
    std::vector<std::string> names() const override;

    // A new operator of that name; nullptr when there is no such operator or it cannot run.
    std::unique_ptr<Operator> create(std::string_view operator_name) const;

    // Registers (or replaces) a notifier that on_*_callback may name (operators/notify).
    void add_notifier(OperatorSpec spec);
    const OperatorSpec* find_notifier(std::string_view notifier_name) const override;
    std::vector<std::string> notifier_names() const override;

  private:
    struct Entry {
        OperatorSpec spec;
        OperatorFactory factory;
    };
    std::map<std::string, Entry, std::less<>> entries_;
    std::map<std::string, OperatorSpec, std::less<>> notifiers_;
};

// The registry of the operators built into mayaflow.
const OperatorRegistry& builtin_operators();

}  // namespace mayaflow
