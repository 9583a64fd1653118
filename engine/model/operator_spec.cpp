#include "engine/model/operator_spec.h"

namespace mayaflow {

std::string_view to_string(ParamType type) {
    switch (type) {
        case ParamType::string: return "a string";
        case ParamType::integer: return "an integer";
        case ParamType::number: return "a number";
        case ParamType::boolean: return "true or false";
        case ParamType::list: return "a list";
        case ParamType::string_list: return "a string or a list of strings";
        case ParamType::map: return "a mapping";
        case ParamType::string_map: return "a mapping of names to strings";
        case ParamType::duration: return "a duration such as 90s, 5m or 1h30m";
        case ParamType::integer_or_list: return "an integer or a list of integers";
        case ParamType::any: return "any value";
    }
    return "a value";
}

std::string param_path_text(std::string_view param, const std::vector<nlohmann::json>& path) {
    std::string text(param);
    for (const auto& step : path) {
        if (step.is_number()) text += "[" + step.dump() + "]";
        else text += "." + (step.is_string() ? step.get<std::string>() : step.dump());
    }
    return text;
}

const ParamSpec* OperatorSpec::find_param(std::string_view param_name) const {
    for (const auto& param : params) {
        if (param.name == param_name) return &param;
    }
    return nullptr;
}

}  // namespace mayaflow
