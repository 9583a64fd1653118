#pragma once
// The connections and variables kept in the store, in clear for mayaflow and sealed on disk:
// SecretsRepository seals passwords, extras and variable values with the keyring on the way in
// and opens them on the way out. A value sealed with a key the keyring does not hold is an error
// that names the key, never a guess.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/connections/connection.h"
#include "engine/connections/secret_cipher.h"
#include "engine/connections/variable.h"
#include "engine/store/connection_store.h"
#include "engine/util/result.h"

namespace mayaflow {

class SecretsRepository {
  public:
    SecretsRepository(ConnectionStore& store, SecretKeyring keyring)
        : store_(store), keyring_(std::move(keyring)) {}

    const SecretKeyring& keyring() const { return keyring_; }

    Result<std::vector<Connection>> list_connections();
    Result<std::optional<Connection>> find_connection(const std::string& conn_id);
    // Every stored connection opened on its own: one that cannot be opened (sealed with another key)
    // is an error in its place, and the others are still there (for masking them all).
    Result<std::vector<Result<Connection>>> open_each_connection();
    // Writes the connections in one transaction; an existing conn_id is replaced when `overwrite`,
    // else kept. Returns, connection by connection, whether it was written. A connection that
    // validate_connection_for_storage refuses (text not UTF-8, an extra nested too deep) writes none.
    Result<std::vector<bool>> put_connections(const std::vector<Connection>& connections, bool overwrite);
    Result<bool> delete_connection(const std::string& conn_id);

    Result<std::vector<Variable>> list_variables();
    Result<std::optional<Variable>> find_variable(const std::string& key);
    // Inserts or replaces, in one transaction; refuses all when one fails validate_variable_for_storage.
    Status put_variables(const std::vector<Variable>& variables);
    Result<bool> delete_variable(const std::string& key);

    // Re-encrypts every stored secret with the keyring's first key, in one transaction (values
    // sealed by any key of the keyring are accepted), and records that key as the database's: a
    // write by a keyring that does not know it (read before the rotation) is then refused with
    // kSecretKeyRotated rather than sealed with a key that is gone. Returns how many values were
    // rewritten.
    Result<int> reseal_all();

    // ConnectionStore::secrets_version: what was read is still so while it stays the same.
    Result<std::int64_t> version();

  private:
    Result<SealingKeys> sealing_keys() const;
    Result<Connection> open_connection(const ConnectionRow& row) const;
    Result<Variable> open_variable(const VariableRow& row) const;

    ConnectionStore& store_;
    SecretKeyring keyring_;
};

// The keyring for `store`, as load_secret_keyring finds it; with `create_if_missing`, a new key
// is made only while the store holds no sealed value. A store that holds some was written with a key
// that is gone now (secret.key deleted, MAYAFLOW_SECRET_KEY unset): a new key could never open them,
// so that is an error saying to put the old key back.
Result<SecretKeyring> load_keyring_for_store(ConnectionStore& store,
                                             const std::map<std::string, std::string>& environment,
                                             const std::filesystem::path& home, bool create_if_missing);

}  // namespace mayaflow
