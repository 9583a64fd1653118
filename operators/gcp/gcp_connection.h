#pragma once
// A `google_cloud_platform` connection read as Airflow's GoogleBaseHook reads it — extras
// `key_path`, `keyfile_dict`, `project`, `scope`, `num_retries` (each also under its old name
// `extra__google_cloud_platform__<name>`) — then GOOGLE_APPLICATION_CREDENTIALS, then the metadata
// server; plus the endpoints, which tests and emulators override (connection extras
// `bigquery_endpoint`, `storage_endpoint`, `token_uri`, `metadata_host`, or the environment's
// BIGQUERY_EMULATOR_HOST, STORAGE_EMULATOR_HOST, GCE_METADATA_HOST).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/connections/connection.h"
#include "engine/util/result.h"
#include "operators/gcp/service_account_key.h"

namespace mayaflow::gcp {

inline constexpr std::string_view kDefaultGcpConnId = "google_cloud_default";
inline constexpr std::string_view kCloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

struct GcpEndpoints {
    std::string bigquery = "https://bigquery.googleapis.com";  // + /bigquery/v2/…
    std::string storage = "https://storage.googleapis.com";    // + /storage/v1/…
    std::string metadata = "http://metadata.google.internal";
    std::optional<std::string> token_uri;  // else the key file's
};

enum class CredentialSource { key_path, keyfile_dict, application_default, metadata_server, access_token };

struct GcpConnection {
    std::string conn_id;
    std::string project;  // the extra `project`, else the key's project_id; may be empty
    std::vector<std::string> scopes{std::string(kCloudPlatformScope)};
    int num_retries = 5;
    CredentialSource source = CredentialSource::metadata_server;
    std::optional<ServiceAccountKey> key;
    std::string key_where;  // names the key in messages: "key file /secrets/sa.json"
    std::optional<std::string> access_token;  // the extra `access_token` (mayaflow's): used as it is
    GcpEndpoints endpoints;

    // Identifies what the tokens are for, for a cache of token sources (no secret in it).
    std::string cache_key() const;
};

// The environment is passed in (normally the process's), so tests can give their own.
Result<GcpConnection> read_gcp_connection(const Connection& connection,
                                          const std::map<std::string, std::string>& environment);

// An emulator host as an URL: "localhost:9050" → "http://localhost:9050"; an URL stays as it is
// (without a trailing slash).
std::string emulator_base_url(std::string_view host);

}  // namespace mayaflow::gcp
