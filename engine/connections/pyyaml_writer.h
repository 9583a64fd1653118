#pragma once
// YAML written byte for byte as Airflow writes it: yaml.dump(data, Dumper=CSafeDumper), that is
// PyYAML's safe representer over libyaml's emitter with its defaults — keys sorted, block style,
// 80 columns (long strings folded at a space), a string quoted when plain text would read back as
// something else ('123', 'true', '', 'a: b'), and double-quoted with \x/\u escapes when it holds a
// character outside printable ASCII. Covers what exports hold: mappings, sequences and scalars.

#include <string>

#include "engine/connections/python_json.h"

namespace mayaflow::pyyaml {

std::string dump(const pyjson::Json& value);

// PyYAML's implicit resolvers: true when `text`, written plain, would read back as a null, bool,
// int, float, timestamp or other non-string (so a string with this text must be quoted).
bool plain_text_resolves_to_non_string(std::string_view text);

}  // namespace mayaflow::pyyaml
