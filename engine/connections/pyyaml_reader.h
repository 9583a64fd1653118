#pragma once
// YAML read as yaml.safe_load reads it (YAML 1.1 types for plain scalars: `5432` a number, `yes`
// and `on` booleans, `~` null; quoted text always text), into the same JSON values the JSON files
// give, so an import treats `.yaml` and `.json` files alike.

#include <string_view>
#include <vector>

#include "engine/connections/python_json.h"
#include "engine/util/result.h"

namespace mayaflow::pyyaml {

// The document as JSON; the error names the line and column where the YAML is broken.
Result<pyjson::Json> safe_load(std::string_view text);

// The keys of the document's top-level mapping, in file order and with their lines, keys given
// twice included (safe_load keeps the last value of such a key, as PyYAML does). Empty when the
// document is not a mapping.
Result<std::vector<pyjson::KeyPlace>> top_level_keys(std::string_view text);

}  // namespace mayaflow::pyyaml
