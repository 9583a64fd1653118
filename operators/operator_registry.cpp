#include "operators/operator_registry.h"

#include "operators/core/bash_operator.h"
#include "operators/core/empty_operator.h"

namespace mayaflow {

void OperatorRegistry::add(OperatorSpec spec) {
    std::string name = spec.name;
    specs_.insert_or_assign(std::move(name), std::move(spec));
}

const OperatorSpec* OperatorRegistry::find(std::string_view operator_name) const {
    auto it = specs_.find(operator_name);
    return it == specs_.end() ? nullptr : &it->second;
}

std::vector<std::string> OperatorRegistry::names() const {
    std::vector<std::string> result;
    for (const auto& [name, spec] : specs_) result.push_back(name);
    return result;
}

const OperatorRegistry& builtin_operators() {
    static const OperatorRegistry registry = [] {
        OperatorRegistry r;
        r.add(bash_operator_spec());
        r.add(empty_operator_spec());
        return r;
    }();
    return registry;
}

}  // namespace mayaflow
