#pragma once
// A Google service-account key (the JSON file `gcloud iam service-accounts keys create` writes):
// what mayaflow needs of it to get access tokens. The private key stays in memory and is never put
// into a message.

#include <string>
#include <string_view>

#include "engine/util/result.h"

namespace mayaflow::gcp {

inline constexpr std::string_view kGoogleTokenUri = "https://oauth2.googleapis.com/token";

struct ServiceAccountKey {
    std::string client_email;
    std::string private_key;     // PEM, PKCS#8 RSA
    std::string private_key_id;  // the JWT's "kid"
    std::string project_id;
    std::string token_uri = std::string(kGoogleTokenUri);
};

// Reads a key file's JSON; `where` names it in errors ("key file /secrets/sa.json", "keyfile_dict of
// connection bq_main"). Refuses what is not a service-account key (an OAuth client file, a user's
// credentials) with a message that says what it is instead.
Result<ServiceAccountKey> parse_service_account_key(std::string_view json, std::string_view where);

Result<ServiceAccountKey> read_service_account_key_file(const std::string& path);

}  // namespace mayaflow::gcp
