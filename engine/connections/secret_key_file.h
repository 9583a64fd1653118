#pragma once
// Where mayaflow's secret keys come from: MAYAFLOW_SECRET_KEY when set (one key, or several
// separated by commas: the first encrypts, all decrypt), else the file $MAYAFLOW_HOME/secret.key
// (one key per line, the first encrypts; '#' starts a comment), created with a new random key and
// mode 0600 the first time one is needed. A key file that others may read is refused.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/connections/secret_cipher.h"
#include "engine/util/result.h"

namespace mayaflow {

inline constexpr const char* kSecretKeyVariable = "MAYAFLOW_SECRET_KEY";

std::filesystem::path secret_key_file_path(const std::filesystem::path& home);

// The keyring to use. With `create_if_missing` and no key anywhere, a new key file is written.
Result<SecretKeyring> load_secret_keyring(const std::map<std::string, std::string>& environment,
                                          const std::filesystem::path& home, bool create_if_missing);

// Writes `keys` to `path` (first = the sealing key) atomically: a private temporary file, synced,
// renamed over the old one, and the folder synced, so a crash leaves the old file or the new one.
Status write_secret_key_file(const std::filesystem::path& path, const std::vector<SecretKey>& keys);

}  // namespace mayaflow
