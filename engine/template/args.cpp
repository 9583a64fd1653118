#include "engine/template/args.h"

#include <algorithm>

#include "engine/template/error.h"

namespace mayaflow::tmpl {

Arguments::Arguments(std::string_view function, const CallArgs& args, std::initializer_list<std::string_view> names,
                     std::size_t required)
    : function_(function), names_(names), values_(names.size(), nullptr) {
    if (args.positional.size() > names_.size()) {
        throw_runtime("{}() takes at most {} argument{} ({} given)", function_, names_.size(),
                      names_.size() == 1 ? "" : "s", args.positional.size());
    }
    for (std::size_t i = 0; i < args.positional.size(); ++i) values_[i] = &args.positional[i];
    for (const auto& [key, value] : args.keyword) {
        auto it = std::find(names_.begin(), names_.end(), key);
        if (it == names_.end()) throw_runtime("{}() got an unexpected keyword argument '{}'", function_, key);
        std::size_t index = static_cast<std::size_t>(it - names_.begin());
        if (values_[index] != nullptr) throw_runtime("{}() got multiple values for argument '{}'", function_, key);
        values_[index] = &value;
    }
    for (std::size_t i = 0; i < required && i < names_.size(); ++i) {
        if (values_[i] == nullptr) throw_runtime("{}() missing required argument '{}'", function_, names_[i]);
    }
}

const Value& Arguments::checked(std::size_t index) const {
    const Value& value = *values_[index];
    if (value.is_undefined()) value.fail_undefined();
    return value;
}

std::int64_t Arguments::integer(std::size_t index, std::int64_t fallback) const {
    if (!has(index)) return fallback;
    const Value& value = checked(index);
    if (!value.is_integral()) {
        throw_runtime("{}(): '{}' must be an integer, not '{}'", function_, names_[index], value.type_name());
    }
    return value.as_int();
}

std::optional<std::int64_t> Arguments::optional_integer(std::size_t index) const {
    if (!has(index) || values_[index]->is_none()) return std::nullopt;
    return integer(index, 0);
}

bool Arguments::boolean(std::size_t index, bool fallback) const {
    if (!has(index)) return fallback;
    return checked(index).truthy();
}

std::string Arguments::string(std::size_t index, std::string_view fallback) const {
    if (!has(index)) return std::string(fallback);
    const Value& value = checked(index);
    if (!value.is_string()) {
        throw_runtime("{}(): '{}' must be a string, not '{}'", function_, names_[index], value.type_name());
    }
    return value.as_string();
}

std::optional<std::string> Arguments::optional_string(std::size_t index) const {
    if (!has(index) || values_[index]->is_none()) return std::nullopt;
    return string(index, "");
}

void expect_no_arguments(std::string_view function, const CallArgs& args) {
    std::size_t given = args.positional.size() + args.keyword.size();
    if (given != 0) throw_runtime("{}() takes no arguments ({} given)", function, given);
}

}  // namespace mayaflow::tmpl
