#pragma once
// Secrets at rest: AES-256-GCM with a fresh random 12-byte nonce for every value, the value bound
// to where it is stored (its table, name and column are the associated data, so a sealed password
// copied into another row does not open). A sealed value is text:
//   mf1:<key id>:<base64 of nonce | ciphertext | 16-byte tag>
// The key id (the first 4 bytes of SHA-256 of the key, in hex) says which key sealed it, so a
// wrong key is named as such instead of producing garbage. OpenSSL stays inside secret_cipher.cpp.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/util/result.h"

namespace mayaflow {

struct SecretKey {
    std::array<unsigned char, 32> bytes{};
    std::string id;  // 8 hex digits, safe to show
};

// A key as text: 64 hex digits, or 32 bytes in base64 (standard or URL-safe, padded or not; an
// Airflow Fernet key is accepted as such).
Result<SecretKey> parse_secret_key(std::string_view text);
// 32 random bytes from OpenSSL's generator.
Result<SecretKey> generate_secret_key();
// The text form written to key files: URL-safe base64 with padding (44 characters).
std::string format_secret_key(const SecretKey& key);

// The keys mayaflow may use: the first seals, any opens (rotation keeps the old ones for a while).
class SecretKeyring {
  public:
    SecretKeyring() = default;
    explicit SecretKeyring(std::vector<SecretKey> keys, std::string origin);

    bool empty() const { return keys_.empty(); }
    const SecretKey& sealing_key() const { return keys_.front(); }
    const std::vector<SecretKey>& keys() const { return keys_; }
    bool knows(std::string_view key_id) const;
    // Where the keys came from, for messages: "MAYAFLOW_SECRET_KEY" or the key file's path.
    const std::string& origin() const { return origin_; }

    Result<std::string> seal(std::string_view plaintext, std::string_view context) const;
    // The error names the key that sealed the value when it is not one of these keys, and says the
    // value was altered when the key is right but the tag does not verify.
    Result<std::string> open(std::string_view sealed, std::string_view context) const;

  private:
    std::vector<SecretKey> keys_;
    std::string origin_;
};

// The key id of a sealed value, or nullopt when the text is not a sealed value.
std::optional<std::string> sealed_key_id(std::string_view sealed);

}  // namespace mayaflow
