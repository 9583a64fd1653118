#pragma once
// A DAG's file_token (Airflow's): its file's path, signed, which GET /dagSources/{file_token} takes
// back. The client sees an opaque string; it cannot name a file of its own choosing.

#include <optional>
#include <string>

#include "web/api/signed_token.h"

namespace mayaflow {

inline constexpr std::string_view kDagFileTokenPurpose = "dag_file";

inline std::string dag_file_token(const TokenSigner& signer, const std::string& fileloc) {
    return signer.sign(kDagFileTokenPurpose, {{"fileloc", fileloc}});
}

// The path the token was made for, or nullopt when this server did not make it.
inline std::optional<std::string> dag_fileloc_of_token(const TokenSigner& signer, std::string_view token) {
    auto payload = signer.verify(kDagFileTokenPurpose, token);
    if (!payload || !payload->is_object() || !payload->contains("fileloc") || !(*payload)["fileloc"].is_string()) {
        return std::nullopt;
    }
    return (*payload)["fileloc"].get<std::string>();
}

}  // namespace mayaflow
