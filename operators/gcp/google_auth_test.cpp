// Google credentials: key files, the connection's extras as Airflow reads them, RS256 JWTs, and
// access tokens from a token endpoint and a metadata server standing in for Google's.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <future>
#include <sstream>

#include "engine/http/curl_http_client.h"
#include "engine/http/http_test_server.h"
#include "operators/gcp/access_token_source.h"
#include "operators/gcp/gcp_connection.h"
#include "operators/gcp/jwt_rs256.h"

namespace mayaflow::gcp {
namespace {

using http_test::ReceivedRequest;
using http_test::Reply;
using http_test::TestServer;
using namespace std::chrono_literals;

const std::string kKeyPath = MAYAFLOW_SOURCE_DIR "/operators/gcp/testdata/test_service_account.json";

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string decode_segment(std::string_view segment) {
    // base64url → text, for reading back the claims in tests.
    static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    int value = 0, bits = 0;
    for (char c : segment) {
        value = (value << 6) | static_cast<int>(alphabet.find(c));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((value >> bits) & 0xff));
        }
    }
    return out;
}

std::string form_value(const std::string& body, const std::string& name) {
    const std::string prefix = name + "=";
    std::size_t start = body.find(prefix);
    if (start == std::string::npos) return {};
    start += prefix.size();
    return body.substr(start, body.find('&', start) - start);
}

Result<AccessToken> get_token(AccessTokenSource& source) {
    std::promise<Result<AccessToken>> answer;
    source.get([&](Result<AccessToken> token) { answer.set_value(std::move(token)); });
    return answer.get_future().get();
}

Connection gcp_connection(std::string extra) {
    Connection connection{.conn_id = "bq_main", .conn_type = "google_cloud_platform"};
    connection.extra = std::move(extra);
    return connection;
}

TEST_CASE("a service-account key file is read, and what is not one is refused", "[gcp][auth]") {
    auto key = read_service_account_key_file(kKeyPath);
    REQUIRE(key);
    CHECK(key->client_email == "mayaflow-test@test-project.iam.gserviceaccount.com");
    CHECK(key->project_id == "test-project");
    CHECK(key->token_uri == "https://oauth2.googleapis.com/token");
    CHECK(key->private_key.starts_with("-----BEGIN PRIVATE KEY-----"));

    auto missing = read_service_account_key_file("/no/such/key.json");
    REQUIRE_FALSE(missing);
    CHECK_THAT(missing.error().message, Catch::Contains("/no/such/key.json"));
    auto user = parse_service_account_key(R"({"type": "authorized_user", "client_id": "x"})", "key file u.json");
    REQUIRE_FALSE(user);
    CHECK_THAT(user.error().message, Catch::Contains("is not a service-account key"));
    auto no_email = parse_service_account_key(R"({"type": "service_account", "private_key": "k"})", "key file k.json");
    REQUIRE_FALSE(no_email);
    CHECK(no_email.error().message == "key file k.json has no \"client_email\"");
    CHECK_FALSE(parse_service_account_key("not json", "key file x"));
}

TEST_CASE("JWTs are signed RS256 and verify with the public key", "[gcp][auth]") {
    auto key = read_service_account_key_file(kKeyPath);
    REQUIRE(key);
    const std::string public_key = read_file(MAYAFLOW_SOURCE_DIR "/operators/gcp/testdata/test_key.pub.pem");
    auto jwt = sign_jwt_rs256(key->private_key, R"({"alg":"RS256","typ":"JWT"})", R"({"iss":"a","n":"é"})");
    REQUIRE(jwt);
    CHECK(verify_jwt_rs256(public_key, *jwt));
    const auto first_dot = jwt->find('.');
    CHECK(decode_segment(jwt->substr(0, first_dot)) == R"({"alg":"RS256","typ":"JWT"})");
    CHECK(decode_segment(jwt->substr(first_dot + 1, jwt->rfind('.') - first_dot - 1)) == R"({"iss":"a","n":"é"})");
    std::string tampered = *jwt;
    tampered[first_dot + 3] = tampered[first_dot + 3] == 'A' ? 'B' : 'A';
    CHECK_FALSE(verify_jwt_rs256(public_key, tampered));
    CHECK(jwt->find('=') == std::string::npos);
    CHECK(base64url("\xfb\xff") == "-_8");

    auto broken = sign_jwt_rs256("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n", "{}", "{}");
    REQUIRE_FALSE(broken);
    CHECK_THAT(broken.error().message, Catch::Contains("not a PEM private key"));
    CHECK(broken.error().message.find("nope") == std::string::npos);
}

TEST_CASE("a google_cloud_platform connection is read as Airflow reads it", "[gcp][auth]") {
    const std::map<std::string, std::string> no_environment;
    auto by_path = read_gcp_connection(gcp_connection(R"({"key_path": ")" + kKeyPath + R"(", "project": "my-proj"})"),
                                       no_environment);
    REQUIRE(by_path);
    CHECK(by_path->source == CredentialSource::key_path);
    CHECK(by_path->project == "my-proj");
    CHECK(by_path->scopes == std::vector<std::string>{"https://www.googleapis.com/auth/cloud-platform"});
    CHECK(by_path->endpoints.bigquery == "https://bigquery.googleapis.com");
    CHECK(by_path->key_where == "key file " + kKeyPath);

    // The old prefixed names, keyfile_dict as text, the key's project when the extra has none.
    nlohmann::json prefixed = {{"extra__google_cloud_platform__keyfile_dict", read_file(kKeyPath)},
                               {"extra__google_cloud_platform__scope", "https://a/x, https://a/y"},
                               {"extra__google_cloud_platform__num_retries", "3"}};
    auto by_dict = read_gcp_connection(gcp_connection(prefixed.dump()), no_environment);
    REQUIRE(by_dict);
    CHECK(by_dict->source == CredentialSource::keyfile_dict);
    CHECK(by_dict->project == "test-project");
    CHECK(by_dict->scopes == std::vector<std::string>{"https://a/x", "https://a/y"});
    CHECK(by_dict->num_retries == 3);
    // keyfile_dict as an object.
    nlohmann::json as_object = {{"keyfile_dict", nlohmann::json::parse(read_file(kKeyPath))}};
    auto by_object = read_gcp_connection(gcp_connection(as_object.dump()), no_environment);
    REQUIRE(by_object);
    CHECK(by_object->key->client_email == "mayaflow-test@test-project.iam.gserviceaccount.com");

    // No key: GOOGLE_APPLICATION_CREDENTIALS, else the metadata server; emulator hosts as URLs.
    auto from_environment = read_gcp_connection(gcp_connection("{}"),
                                                {{"GOOGLE_APPLICATION_CREDENTIALS", kKeyPath},
                                                 {"BIGQUERY_EMULATOR_HOST", "localhost:9050"},
                                                 {"STORAGE_EMULATOR_HOST", "http://127.0.0.1:4443/"},
                                                 {"GCE_METADATA_HOST", "127.0.0.1:8080"}});
    REQUIRE(from_environment);
    CHECK(from_environment->source == CredentialSource::application_default);
    CHECK(from_environment->endpoints.bigquery == "http://localhost:9050");
    CHECK(from_environment->endpoints.storage == "http://127.0.0.1:4443");
    CHECK(from_environment->endpoints.metadata == "http://127.0.0.1:8080");
    auto metadata = read_gcp_connection(gcp_connection(R"({"bigquery_endpoint": "https://bq.example/"})"),
                                        {{"BIGQUERY_EMULATOR_HOST", "ignored:1"}});
    REQUIRE(metadata);
    CHECK(metadata->source == CredentialSource::metadata_server);
    CHECK(metadata->endpoints.bigquery == "https://bq.example");
    auto token = read_gcp_connection(gcp_connection(R"({"access_token": "ya29.t"})"), no_environment);
    REQUIRE(token);
    CHECK(token->source == CredentialSource::access_token);

    // Refused, with Airflow's words where Airflow has them.
    auto both = read_gcp_connection(
        gcp_connection(R"({"key_path": "/a.json", "keyfile_dict": "{}"})"), no_environment);
    REQUIRE_FALSE(both);
    CHECK_THAT(both.error().message, Catch::Contains("mutually exclusive"));
    auto secret_manager = read_gcp_connection(gcp_connection(R"({"key_secret_name": "sa-key"})"), no_environment);
    REQUIRE_FALSE(secret_manager);
    CHECK_THAT(secret_manager.error().message, Catch::Contains("key_secret_name is not supported"));
    auto missing_file = read_gcp_connection(gcp_connection(R"({"key_path": "/no/sa.json"})"), no_environment);
    REQUIRE_FALSE(missing_file);
    CHECK_THAT(missing_file.error().message, Catch::Contains("connection 'bq_main': cannot read the key file /no/sa.json"));
    auto retries = read_gcp_connection(gcp_connection(R"({"num_retries": "many"})"), no_environment);
    REQUIRE_FALSE(retries);
    Connection postgres{.conn_id = "pg", .conn_type = "postgres"};
    CHECK_FALSE(read_gcp_connection(postgres, no_environment));
    auto bad_extra = gcp_connection("[1]");
    CHECK_FALSE(read_gcp_connection(bad_extra, no_environment));
}

TEST_CASE("a service account's token comes from the token endpoint, once, and is reused", "[gcp][auth]") {
    const std::string public_key = read_file(MAYAFLOW_SOURCE_DIR "/operators/gcp/testdata/test_key.pub.pem");
    std::atomic<int> exchanges{0};
    TestServer token_endpoint([&](const ReceivedRequest& request) {
        ++exchanges;
        const std::string jwt = form_value(request.body, "assertion");
        if (request.method != "POST" || request.header("Content-Type") != "application/x-www-form-urlencoded" ||
            form_value(request.body, "grant_type") != "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" ||
            !verify_jwt_rs256(public_key, jwt)) {
            return Reply{.status = 400, .body = R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"};
        }
        const std::string claims = decode_segment(jwt.substr(jwt.find('.') + 1, jwt.rfind('.') - jwt.find('.') - 1));
        auto parsed = nlohmann::json::parse(claims);
        if (parsed["iss"] != "mayaflow-test@test-project.iam.gserviceaccount.com" ||
            parsed["aud"] != "https://oauth2.googleapis.com/token" ||
            parsed["exp"].get<long long>() - parsed["iat"].get<long long>() != 3600 ||
            parsed["scope"] != "https://www.googleapis.com/auth/cloud-platform") {
            return Reply{.status = 400, .body = R"({"error":"invalid_grant","error_description":"bad claims"})"};
        }
        return Reply{.body = R"({"access_token":"ya29.fake","expires_in":3599,"token_type":"Bearer"})",
                     .delay = 100ms};
    });
    CurlHttpClient http;
    auto key = read_service_account_key_file(kKeyPath);
    REQUIRE(key);
    ServiceAccountTokenSource source(http, *key, {"https://www.googleapis.com/auth/cloud-platform"}, "key file test",
                                     token_endpoint.url("/token"));
    CHECK(source.describe() == "service account mayaflow-test@test-project.iam.gserviceaccount.com (key file test)");
    // Ten callers at once: one exchange.
    std::vector<std::future<Result<AccessToken>>> answers;
    std::vector<std::shared_ptr<std::promise<Result<AccessToken>>>> promises;
    for (int i = 0; i < 10; ++i) {
        auto promise = std::make_shared<std::promise<Result<AccessToken>>>();
        answers.push_back(promise->get_future());
        source.get([promise](Result<AccessToken> token) { promise->set_value(std::move(token)); });
        promises.push_back(promise);
    }
    for (auto& answer : answers) {
        auto token = answer.get();
        REQUIRE(token);
        CHECK(token->token == "ya29.fake");
    }
    CHECK(exchanges == 1);
    REQUIRE(get_token(source));
    CHECK(exchanges == 1);  // cached

    // Another key: the endpoint refuses, and the message says why without quoting the key.
    auto other = *key;
    other.client_email = "intruder@x.iam.gserviceaccount.com";
    ServiceAccountTokenSource refused(http, other, {"https://www.googleapis.com/auth/cloud-platform"}, "key file other",
                                      token_endpoint.url("/token"));
    auto denied = get_token(refused);
    REQUIRE_FALSE(denied);
    CHECK_THAT(denied.error().message, Catch::Contains("HTTP 400: invalid_grant: bad claims"));
    CHECK(denied.error().message.find("PRIVATE KEY") == std::string::npos);
}

TEST_CASE("the metadata server's token needs the Metadata-Flavor header; no server is a clear error", "[gcp][auth]") {
    TestServer metadata([](const ReceivedRequest& request) {
        if (request.header("Metadata-Flavor") != "Google") return Reply{.status = 403, .body = "Missing Metadata-Flavor"};
        if (request.target.starts_with("/computeMetadata/v1/instance/service-accounts/default/token?scopes=")) {
            return Reply{.body = R"({"access_token":"ya29.meta","expires_in":"1800","token_type":"Bearer"})"};
        }
        return Reply{.status = 404};
    });
    CurlHttpClient http;
    MetadataTokenSource source(http, metadata.url(""), {"https://www.googleapis.com/auth/cloud-platform"});
    auto token = get_token(source);
    REQUIRE(token);
    CHECK(token->token == "ya29.meta");
    CHECK(token->expires_at - std::chrono::system_clock::now() > 1700s);

    int closed_port = 0;
    {
        TestServer gone([](const ReceivedRequest&) { return Reply{}; });
        closed_port = gone.port();
    }
    MetadataTokenSource nowhere(http, "http://127.0.0.1:" + std::to_string(closed_port), {});
    auto none = get_token(nowhere);
    REQUIRE_FALSE(none);
    CHECK_THAT(none.error().message, Catch::Contains("no Google credentials"));

    StaticTokenSource fixed("ya29.static");
    auto given = get_token(fixed);
    REQUIRE(given);
    CHECK(given->token == "ya29.static");
}

}  // namespace
}  // namespace mayaflow::gcp
