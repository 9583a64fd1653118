#pragma once
// ConnectionStore keeps connections and variables (Airflow's names and fields). Passwords, extras
// and variable values come in and go out sealed — encrypted by engine/connections before they get
// here — so the database file never holds them in clear, and the store needs no key.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/result.h"

namespace mayaflow {

struct ConnectionRow {
    std::string conn_id;
    std::string conn_type;
    std::optional<std::string> description;
    std::optional<std::string> host;
    std::optional<std::string> schema;
    std::optional<std::string> login;
    std::optional<std::string> sealed_password;
    std::optional<int> port;
    std::optional<std::string> sealed_extra;
};

struct VariableRow {
    std::string key;
    std::string sealed_value;
    std::optional<std::string> description;
};

// What a sealed value is bound to (its AES-GCM associated data): moving it to another row or
// column makes it fail to open.
inline std::string sealed_value_context(std::string_view table, std::string_view name,
                                        std::string_view column) {
    return std::string(table) + "\x1f" + std::string(name) + "\x1f" + std::string(column);
}

class ConnectionStore {
  public:
    virtual ~ConnectionStore() = default;

    virtual Result<std::vector<ConnectionRow>> list_connections() = 0;  // by conn_id
    virtual Result<std::optional<ConnectionRow>> find_connection(const std::string& conn_id) = 0;
    // Writes the rows in one transaction. A conn_id already stored is replaced when
    // `replace_existing`, else left as it is; the answer says, row by row, which were written.
    virtual Result<std::vector<bool>> put_connections(const std::vector<ConnectionRow>& rows,
                                                      bool replace_existing) = 0;
    virtual Result<bool> delete_connection(const std::string& conn_id) = 0;  // false: there was none

    virtual Result<std::vector<VariableRow>> list_variables() = 0;  // by key
    virtual Result<std::optional<VariableRow>> find_variable(const std::string& key) = 0;
    virtual Status put_variables(
        const std::vector<VariableRow>& rows) = 0;  // insert or replace, one transaction
    virtual Result<bool> delete_variable(const std::string& key) = 0;

    // Calls `reseal(context, sealed)` for every sealed value and stores what it returns, all in one
    // transaction: any error leaves every value as it was. Returns how many values it rewrote.
    using Resealer =
        std::function<Result<std::string>(const std::string& context, const std::string& sealed)>;
    virtual Result<int> reseal_secrets(const Resealer& reseal) = 0;
};

}  // namespace mayaflow
