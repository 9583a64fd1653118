#include "engine/connections/connection_testing.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "engine/store/sqlite.h"
#include "engine/util/text.h"

namespace mayaflow {
namespace {

ConnectionTestResult test_fs(const Connection& connection) {
    auto extra = connection.parse_extra();
    if (!extra.value.is_object() || !extra.value.contains("path") || !extra.value["path"].is_string()) {
        return {false, "an fs connection names its folder in the extra: {\"path\": \"/data/in\"}"};
    }
    auto path = extra.value["path"].get<std::string>();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return {false, fmt::format("the path {} does not exist", path)};
    return {true, fmt::format("the path {} exists", path)};
}

ConnectionTestResult test_sqlite(const Connection& connection) {
    std::string path = connection.host.value_or("");
    if (path.empty()) return {false, "a sqlite connection names the database file as its host"};
    if (!std::filesystem::exists(path))
        return {false, fmt::format("the database file {} does not exist", path)};
    auto db = sqlite::Database::open(path, sqlite::Database::Mode::read_only);
    if (!db) return {false, db.error().message};
    auto checked = db->exec("SELECT count(*) FROM sqlite_master");
    if (!checked) return {false, checked.error().message};
    return {true, fmt::format("the database {} opens", path)};
}

struct Registry {
    std::mutex mutex;
    std::map<std::string, ConnectionTest> tests{{"fs", test_fs}, {"sqlite", test_sqlite}};
};

Registry& registry() {
    static Registry instance;
    return instance;
}

}  // namespace

void register_connection_test(const std::string& conn_type, ConnectionTest test) {
    std::lock_guard lock(registry().mutex);
    registry().tests[conn_type] = std::move(test);
}

std::vector<std::string> testable_connection_types() {
    std::lock_guard lock(registry().mutex);
    std::vector<std::string> types;
    for (const auto& [type, test] : registry().tests) types.push_back(type);
    return types;
}

ConnectionTestResult test_connection(const Connection& connection) {
    ConnectionTest test;
    {
        std::lock_guard lock(registry().mutex);
        auto it = registry().tests.find(connection.conn_type);
        if (it != registry().tests.end()) test = it->second;
    }
    if (!test) {
        return {false, fmt::format("mayaflow cannot test connections of type '{}' (it can test: {})",
                                   connection.conn_type, join(testable_connection_types()))};
    }
    return test(connection);
}

}  // namespace mayaflow
