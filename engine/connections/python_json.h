#pragma once
// JSON written byte for byte as Python's json.dumps writes it, and read keeping the order of keys
// as json.loads does. Airflow stores a connection's extra as json.dumps(...) text and its export
// files come from json.dumps, so mayaflow's output compares equal to Airflow's, not merely
// equivalent: ", " and ": " separators, non-ASCII as \uXXXX, floats as Python's repr.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "engine/util/result.h"

namespace mayaflow::pyjson {

using Json = nlohmann::ordered_json;

struct DumpOptions {
    int indent = -1;  // -1: indent=None, one line with ", " between items
    bool sort_keys = false;
    bool ensure_ascii = true;
};

// Walks the value without recursion, so any depth dumps.
std::string dumps(const Json& value, const DumpOptions& options = {});

// How deep JSON from outside (a file, a flag, the environment, a stored value) may nest: arrays
// and objects inside each other up to this many levels. Deeper is refused where it comes in, so
// that no walk over a value (nlohmann's copy, compare and destroy are recursive) can exhaust the
// stack.
inline constexpr int kMaxNesting = 100;

// An error when the arrays and objects of JSON text nest deeper than kMaxNesting (strings are
// skipped; the text need not be valid JSON otherwise), naming the line and column where they do.
Status check_nesting(std::string_view text);

// nlohmann::json::parse(text, nullptr, false) for JSON from outside (an HTTP answer, a file, a
// rendered template): a discarded value, as for text that is not JSON, also when it nests deeper
// than kMaxNesting.
nlohmann::json parse_or_discarded(std::string_view text);

// json.loads(text); the error says where the text stops being JSON, or where it nests too deep.
Result<Json> loads(std::string_view text);

// A key of an object and the line it is on (1-based).
struct KeyPlace {
    std::string key;
    std::size_t line = 0;
};

// The keys of the top-level object of `text`, which loads() has read as an object, in file order
// and with their lines — keys given twice included (loads keeps the last value of such a key, as
// json.loads does, so only this tells that one was there).
std::vector<KeyPlace> top_level_keys(std::string_view text);

// Python's repr() of a float (1e+16, 0.0001, 1e-05, 5.0).
std::string float_repr(double value);

}  // namespace mayaflow::pyjson
