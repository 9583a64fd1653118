#include "engine/connections/variable.h"

#include "engine/connections/python_json.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow {

Status validate_variable_key(std::string_view key) {
    if (key.empty()) return make_error("a variable's key cannot be empty");
    if (key.size() > kMaxVariableKeyLength) {
        return make_error("a variable's key has to be at most {} characters", kMaxVariableKeyLength);
    }
    if (auto at = first_control_character(key)) {
        return make_error("a variable's key cannot hold a control character (byte 0x{:02x} at position {}); use "
                          "letters, digits and punctuation",
                          static_cast<unsigned char>(key[*at]), *at + 1);
    }
    return Status::success();
}

Status validate_variable_text(const Variable& variable) {
    for (auto [field, value] : {std::pair{"key", std::optional<std::string>(variable.key)},
                                std::pair{"value", std::optional<std::string>(variable.value)},
                                std::pair{"description", variable.description}}) {
        if (!value) continue;
        if (auto bad = first_invalid_utf8(*value)) {
            return make_error(
                "the {} of variable '{}' is not UTF-8 text (an invalid byte at position {}); mayaflow keeps "
                "variables as UTF-8 text so that an export writes them back as they were",
                field, to_valid_utf8(variable.key), *bad);
        }
    }
    return Status::success();
}

Status validate_variable_for_storage(const Variable& variable) {
    if (Status text = validate_variable_text(variable); !text) return text;
    const auto first = variable.value.find_first_not_of(" \t\n\r");
    if (first != std::string::npos && (variable.value[first] == '[' || variable.value[first] == '{')) {
        if (Status shallow = pyjson::check_nesting(variable.value); !shallow) {
            return make_error("the value of variable '{}' cannot be stored: {}", variable.key,
                              shallow.error().message);
        }
    }
    return Status::success();
}

}  // namespace mayaflow
