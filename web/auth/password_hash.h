#pragma once
// The cryptography of signing in: password hashes (PBKDF2-HMAC-SHA256, OWASP's 600,000 iterations,
// a random 16-byte salt, stored as `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>` so a later
// default can change without breaking the hashes already stored), the secrets handed to users (API
// tokens, session cookies, CSRF tokens) and the digests the store keeps of them. Only
// password_hash.cpp includes OpenSSL.

#include <cstddef>
#include <string>
#include <string_view>

namespace mayaflow {

inline constexpr int kDefaultPasswordIterations = 600'000;
// A stored hash asking for more is refused rather than computed: a tampered row must not make one
// sign-in cost minutes.
inline constexpr int kMaximumPasswordIterations = 10'000'000;

// A new hash of `password` with a fresh random salt.
std::string hash_password(std::string_view password, int iterations = kDefaultPasswordIterations);
// The same with a given salt: for tests with known vectors.
std::string hash_password_with_salt(std::string_view password, std::string_view salt, int iterations);
// Whether `password` is the one `stored` was made from, compared in constant time. False for a
// stored text that is not a well-formed hash (never throws).
bool verify_password(std::string_view password, std::string_view stored);
// Whether `stored` is a well-formed hash (`users` commands check what they are given).
bool is_password_hash(std::string_view stored);

// PBKDF2-HMAC-SHA256 itself, `length` raw bytes.
std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int iterations, size_t length);

// Equal, in time that depends only on the lengths.
bool equal_in_constant_time(std::string_view a, std::string_view b);

// `count` bytes from OpenSSL's CSPRNG.
std::string random_bytes(size_t count);
// base64url without padding (RFC 4648 §5).
std::string base64url(std::string_view bytes);
// A new secret: `prefix` then 32 random bytes in base64url (43 characters).
std::string new_secret(std::string_view prefix);
// SHA-256 in hex: what the store keeps of a token or a session cookie.
std::string sha256_hex(std::string_view data);
// HMAC-SHA256, raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);
// A password a person can type, from `length` random characters (letters and digits).
std::string random_password(size_t length = 20);

}  // namespace mayaflow
