#pragma once
// Instants in the store: every time column holds microseconds since the Unix epoch (UTC), NULL for
// "not yet" (a run not started, a user who never signed in).

#include <cstdint>
#include <optional>

#include "engine/store/sqlite.h"
#include "engine/time/instant.h"

namespace mayaflow {

inline std::int64_t to_micros(Instant instant) { return instant.time_since_epoch().count(); }

inline std::optional<std::int64_t> to_micros(const std::optional<Instant>& instant) {
    if (!instant) return std::nullopt;
    return to_micros(*instant);
}

inline Instant from_micros(std::int64_t micros) { return Instant(Duration(micros)); }

// The column's instant, or nullopt when it is NULL.
inline std::optional<Instant> optional_instant(const sqlite::Statement& row, int column) {
    if (row.column_is_null(column)) return std::nullopt;
    return from_micros(row.column_int(column));
}

}  // namespace mayaflow
