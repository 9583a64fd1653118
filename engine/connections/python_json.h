#pragma once
// JSON written byte for byte as Python's json.dumps writes it, and read keeping the order of keys
// as json.loads does. Airflow stores a connection's extra as json.dumps(...) text and its export
// files come from json.dumps, so mayaflow's output compares equal to Airflow's, not merely
// equivalent: ", " and ": " separators, non-ASCII as \uXXXX, floats as Python's repr.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "engine/util/result.h"

namespace mayaflow::pyjson {

using Json = nlohmann::ordered_json;

struct DumpOptions {
    int indent = -1;  // -1: indent=None, one line with ", " between items
    bool sort_keys = false;
    bool ensure_ascii = true;
};

std::string dumps(const Json& value, const DumpOptions& options = {});

// json.loads(text); the error says where the text stops being JSON.
Result<Json> loads(std::string_view text);

// Python's repr() of a float (1e+16, 0.0001, 1e-05, 5.0).
std::string float_repr(double value);

}  // namespace mayaflow::pyjson
