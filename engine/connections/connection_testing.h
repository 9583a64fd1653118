#pragma once
// `connections test`: each connection type that can be checked registers how (Airflow asks the
// type's hook for test_connection). mayaflow knows `fs` (the extra's `path` exists) and `sqlite`
// (the host is a database file that opens); the operators' families add their own types.

#include <functional>
#include <string>
#include <vector>

#include "engine/connections/connection.h"

namespace mayaflow {

struct ConnectionTestResult {
    bool ok = false;
    std::string message;
};

using ConnectionTest = std::function<ConnectionTestResult(const Connection&)>;

// Registers (or replaces) the test of a conn_type.
void register_connection_test(const std::string& conn_type, ConnectionTest test);

// Runs the test of the connection's type; a type without one is a failure that says so.
ConnectionTestResult test_connection(const Connection& connection);

std::vector<std::string> testable_connection_types();

}  // namespace mayaflow
