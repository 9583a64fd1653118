#pragma once
// ConnectionStore keeps connections and variables (Airflow's names and fields). Passwords, extras
// and variable values come in and go out sealed — encrypted by engine/connections before they get
// here — so the database file never holds them in clear, and the store needs no key.

#include <cstdint>
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

// The keys of the keyring a write seals with: the one it seals with, and every one it can open.
struct SealingKeys {
    std::string sealing;
    std::vector<std::string> known;
};

// How a write that began before a rotation of the secret key is refused (its keyring does not know
// the key the database is now sealed with); is_key_rotated tells it from other errors.
inline constexpr std::string_view kSecretKeyRotated = "the secret key was rotated";
inline bool is_key_rotated(const Error& error) {
    return std::string_view(error.message).starts_with(kSecretKeyRotated);
}

class ConnectionStore {
  public:
    virtual ~ConnectionStore() = default;

    virtual Result<std::vector<ConnectionRow>> list_connections() = 0;  // by conn_id
    virtual Result<std::optional<ConnectionRow>> find_connection(const std::string& conn_id) = 0;
    // Writes the rows in one transaction. A conn_id already stored is replaced when
    // `replace_existing`, else left as it is; the answer says, row by row, which were written.
    // Refused (kSecretKeyRotated) when `keys` do not include the key the database is sealed with:
    // checked in the write transaction, so no rotation can come between the check and the write.
    virtual Result<std::vector<bool>> put_connections(const std::vector<ConnectionRow>& rows,
                                                      bool replace_existing, const SealingKeys& keys) = 0;
    virtual Result<bool> delete_connection(const std::string& conn_id) = 0;  // false: there was none

    virtual Result<std::vector<VariableRow>> list_variables() = 0;  // by key
    virtual Result<std::optional<VariableRow>> find_variable(const std::string& key) = 0;
    // Inserts or replaces, in one transaction; refused as put_connections is.
    virtual Status put_variables(const std::vector<VariableRow>& rows, const SealingKeys& keys) = 0;
    virtual Result<bool> delete_variable(const std::string& key) = 0;

    // Calls `reseal(context, sealed)` for every sealed value and stores what it returns, all in one
    // transaction that also records `keys.sealing` as the key the database is sealed with: any error
    // leaves every value as it was. Returns how many values it rewrote.
    using Resealer =
        std::function<Result<std::string>(const std::string& context, const std::string& sealed)>;
    virtual Result<int> reseal_secrets(const Resealer& reseal, const SealingKeys& keys) = 0;

    // A number that changes whenever a connection or a variable is written or deleted, by any
    // process (a trigger counts): what was read at one version is still so while it stays.
    virtual Result<std::int64_t> secrets_version() = 0;
};

}  // namespace mayaflow
