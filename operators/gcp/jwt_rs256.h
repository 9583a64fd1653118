#pragma once
// JSON Web Tokens signed with RS256 (RSASSA-PKCS1-v1_5 with SHA-256), as Google's OAuth2 token
// endpoint takes them from a service account. OpenSSL stays inside jwt_rs256.cpp.

#include <string>
#include <string_view>

#include "engine/util/result.h"

namespace mayaflow::gcp {

// base64url without padding (RFC 7515).
std::string base64url(std::string_view bytes);

// "<b64(header)>.<b64(claims)>.<b64(signature)>", signed with the PEM private key. The error never
// quotes the key.
Result<std::string> sign_jwt_rs256(std::string_view private_key_pem, std::string_view header_json,
                                   std::string_view claims_json);

// Checks a token's signature with a PEM public key (for tests).
bool verify_jwt_rs256(std::string_view public_key_pem, std::string_view jwt);

}  // namespace mayaflow::gcp
