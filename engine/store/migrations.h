#pragma once
// Numbered schema migrations (migrations/NNNN_name.sql), embedded in the binary and applied in
// order, each in its own transaction, recorded in the schema_migrations table.

#include <string>
#include <vector>

namespace mayaflow {

struct Migration {
    int version;
    const char* name;
    const char* sql;
};

const std::vector<Migration>& embedded_migrations();

}  // namespace mayaflow
