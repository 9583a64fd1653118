#pragma once
// The rows of a firebase_export made into what is written: BigQuery's values converted to what
// Firebase stores, rows keyed by their key column as {"<key>": {other columns}}, every key checked
// against Firebase's rules (firebase_keys.h) and handled as `invalid_keys` says, and the tree split
// into chunks that each fit one write. Pure functions: no I/O, so the rules are tested on their own.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "engine/util/result.h"
#include "operators/firebase/firebase_keys.h"

namespace mayaflow::firebase {

// How values that JSON or Firebase cannot hold as BigQuery has them are written.
struct ValueOptions {
    // FLOAT64 NaN, Infinity and -Infinity (which JSON has no numbers for).
    enum class NonFinite { string, drop, fail } non_finite = NonFinite::string;
    // NUMERIC and BIGNUMERIC: exact text ("12.50"), or a JSON number (a double: digits past 15–17
    // significant ones are lost).
    bool numeric_as_number = false;
};

// One row decoded by decode_bigquery_rows (operators/gcp/bigquery_rows.h) under the result's schema
// fields, with what it leaves as text made into Firebase values: TIMESTAMP (int64 microseconds, as
// read with useInt64Timestamp) → ISO 8601 UTC "2024-01-01T10:00:00Z" (".123456" only when there are
// microseconds), NUMERIC and BIGNUMERIC as ValueOptions says, FLOAT64's "NaN"/"Infinity" likewise,
// JSON → its value. INT64 stays a number up to 2^53 and text beyond, DATE "2024-01-01", DATETIME
// "2024-01-01T10:00:00", TIME, BYTES (base64), GEOGRAPHY (WKT) text, BOOL, REPEATED a list, RECORD
// an object. An error names the row's column.
Result<nlohmann::json> convert_bigquery_row(const nlohmann::json& fields, const nlohmann::json& row,
                                            const ValueOptions& options, const std::string& where);

// "2024-01-01T10:00:00Z" or "…:00.000123Z" for microseconds since 1970 UTC.
std::string iso_timestamp_from_micros(long long micros);

struct ExportOptions {
    std::string key_column;
    InvalidKeys invalid_keys = InvalidKeys::fail;
    // How many keys the target path has (/reports/20240101: 2): a row's key is one deeper, and
    // nothing may be deeper than kMaxDepth.
    int path_depth = 0;
};

// What is written, and what was done on the way, for the try's log and result.
struct ExportTree {
    nlohmann::json tree = nlohmann::json::object();  // {"<key>": {other columns}}
    // One line per sanitized key ("'a.b' → 'a%2Eb'"), skipped row and skipped member.
    std::vector<std::string> notes;
    long long rows_read = 0;
    long long rows_skipped = 0;
    // Rows whose columns besides the key are all NULL: Firebase stores nothing for an empty object,
    // so they are left out (and said so).
    long long rows_empty = 0;
    long long keys_sanitized = 0;
};

// `rows` (a list of objects) keyed by options.key_column. The key column's value is text or a
// whole number (written as its digits). A key Firebase refuses fails the export, is sanitized
// (sanitize_key) or leaves its row out, per options.invalid_keys; keys inside values (objects
// nested in a column) follow the same rule, `skip` leaving out the member. Always an error: a row
// that is not an object or has no key column, two rows with the same key, two keys that are the
// same after sanitizing, a key that cannot be sanitized (NULL or empty) in `sanitize` mode, a value
// nested deeper than kMaxDepth, a string over kMaxStringBytes. NULLs, empty objects and empty lists
// are dropped, as Firebase drops them.
Result<ExportTree> build_export_tree(const nlohmann::json& rows, const ExportOptions& options);

// The tree's members as JSON object texts of at most `max_rows` members and, unless one member
// alone is bigger, `max_bytes` bytes each — each one write's body. In key order.
std::vector<std::string> split_into_chunks(const nlohmann::json& tree, std::size_t max_rows, std::size_t max_bytes);

// The keys of a tree's members (for checking what a staging path holds).
std::vector<std::string> tree_keys(const nlohmann::json& tree);

}  // namespace mayaflow::firebase
