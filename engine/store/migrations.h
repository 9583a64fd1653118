#pragma once
// Numbered schema migrations (migrations/NNNN_name.sql), embedded in the binary and applied in
// order, all pending ones in one transaction, recorded in the schema_migrations table. A version
// missing below the newest applied one is applied too.

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
