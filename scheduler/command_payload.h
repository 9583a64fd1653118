#pragma once
// Reading the fields of a command's JSON payload, with errors that name the field.

#include <nlohmann/json.hpp>

#include <string>

#include "engine/util/result.h"

namespace mayaflow {

// The non-empty string field `name`, or an error saying it is required and must be a string.
Result<std::string> required_string(const nlohmann::json& payload, const char* name);

}  // namespace mayaflow
