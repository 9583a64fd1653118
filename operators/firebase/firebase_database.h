#pragma once
// Where a Firebase Realtime Database is and how mayaflow signs in to it, read from a connection,
// and a small asynchronous client of its REST API (/<path>.json) over the shared, retrying HTTP
// client of the Google Cloud operators.
//
// Connections (docs/firebase.md):
//   firebase               host: the database URL (https://<db>.firebaseio.com, or the host alone);
//                          password: a database secret, sent as ?auth=; the extra `database_url`
//                          wins over host. Without a password, the Google credentials in its extras
//                          (key_path, keyfile_dict, access_token; as google_cloud_platform) or the
//                          machine's are used.
//   google_cloud_platform  an OAuth2 token for the scopes userinfo.email and firebase.database; the
//                          database URL from the task's database_url or the extra `database_url`.
// FIREBASE_DATABASE_EMULATOR_HOST=host:port sends every call there over http, with ?ns=<the
// database's name> and, unless a secret is given, `Authorization: Bearer owner` (as firebase-admin
// does). A database URL with ?ns= (http://127.0.0.1:9000?ns=db) is taken as an emulator's too.
// Secrets never appear in messages: they name the method and path only.

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/connections/connection.h"
#include "engine/http/http_client.h"
#include "engine/util/result.h"
#include "operators/gcp/access_token_source.h"
#include "operators/gcp/gcp_connection.h"

namespace mayaflow::firebase {

inline constexpr std::string_view kDefaultFirebaseConnId = "firebase_default";
inline constexpr std::string_view kUserinfoEmailScope = "https://www.googleapis.com/auth/userinfo.email";
inline constexpr std::string_view kFirebaseDatabaseScope = "https://www.googleapis.com/auth/firebase.database";

struct FirebaseTarget {
    enum class Auth { secret, google, owner };
    std::string base_url;  // scheme://host[:port], no trailing slash
    std::string ns;        // sent as ?ns= when not empty (emulators)
    Auth auth = Auth::google;
    std::string secret;                     // Auth::secret
    std::optional<gcp::GcpConnection> gcp;  // Auth::google: the credentials, with Firebase's scopes
    // "https://db.firebaseio.com with a database secret": for the log, no secret in it.
    std::string describe() const;
};

// The database `connection` points at. `database_url`: the task's, which wins over the
// connection's; the environment for FIREBASE_DATABASE_EMULATOR_HOST (and Google's variables).
Result<FirebaseTarget> read_firebase_target(const Connection& connection, const std::string& database_url,
                                            const std::map<std::string, std::string>& environment);

// "/reports/20240101" → {"reports", "20240101"}, each checked as a key; the leading and one trailing
// '/' are optional, an empty segment inside ("/reports//x") is an error; "/" is the root: {}.
Result<std::vector<std::string>> split_database_path(std::string_view path);
std::string join_database_path(const std::vector<std::string>& segments);  // "/a/b", "/" for none

// Calls one database's REST API. Callbacks run on the HTTP client's I/O thread.
class FirebaseDatabase {
  public:
    using Done = std::function<void(Status)>;
    using Read = std::function<void(Result<nlohmann::json>)>;

    // `tokens`: for Auth::google (else unused, may be null).
    FirebaseDatabase(HttpClient& http, FirebaseTarget target, std::shared_ptr<gcp::AccessTokenSource> tokens);

    // PUT or PATCH of `body` (JSON text) at `path` with print=silent; sent again on 429, 5xx and a
    // dropped connection by the retrying client (both are idempotent in Firebase).
    void write(const std::string& method, const std::vector<std::string>& path, std::string body, Done done);
    // GET with shallow=true: an object's keys (true or the primitive), null when nothing is there.
    void read_shallow(const std::vector<std::string>& path, Read done);

    const FirebaseTarget& target() const { return target_; }

  private:
    void send(HttpRequest request, std::string what, std::function<void(Result<HttpResponse>)> done);
    std::string url(const std::vector<std::string>& path, const std::string& query) const;

    HttpClient& http_;
    FirebaseTarget target_;
    std::shared_ptr<gcp::AccessTokenSource> tokens_;
};

// The error text of a Firebase answer ({"error" : "Permission denied"}), or the start of the body.
std::string firebase_error_text(const HttpResponse& response);

}  // namespace mayaflow::firebase
