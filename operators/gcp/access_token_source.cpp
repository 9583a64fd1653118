#include "operators/gcp/access_token_source.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "engine/connections/python_json.h"
#include "engine/util/text.h"
#include "operators/gcp/jwt_rs256.h"

namespace mayaflow::gcp {
namespace {

constexpr auto kRefreshMargin = std::chrono::minutes(5);

Instant now() { return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()); }

}  // namespace

void AccessTokenSource::get(Callback done) {
    {
        std::unique_lock lock(mutex_);
        if (cached_ && cached_->expires_at - kRefreshMargin > now()) {
            AccessToken token = *cached_;
            lock.unlock();
            done(std::move(token));
            return;
        }
        waiting_.push_back(std::move(done));
        if (fetching_) return;
        fetching_ = true;
    }
    fetch([this](Result<AccessToken> token) {
        std::vector<Callback> waiting;
        {
            std::lock_guard lock(mutex_);
            fetching_ = false;
            if (token) cached_ = *token;
            waiting.swap(waiting_);
        }
        for (auto& callback : waiting) callback(token);
    });
}

Result<AccessToken> read_token_answer(const HttpResponse& response, std::string_view from, Instant at) {
    if (!response.answered()) return make_error("cannot get an access token from {}: {}", from, response.describe());
    auto body = pyjson::parse_or_discarded(response.body);
    if (!response.ok()) {
        std::string reason;
        if (body.is_object() && body.contains("error")) {
            const auto& error = body["error"];
            reason = error.is_string() ? error.get<std::string>() : error.dump();
            if (body.contains("error_description") && body["error_description"].is_string()) {
                reason += ": " + body["error_description"].get<std::string>();
            }
        } else {
            reason = response.body.substr(0, 200);
        }
        return make_error("{} refused to give an access token (HTTP {}: {}); check the connection's key or account",
                          from, response.status, reason);
    }
    if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string() ||
        body["access_token"].get<std::string>().empty()) {
        return make_error("{} answered without an access_token", from);
    }
    long long expires_in = 3600;
    if (auto found = body.find("expires_in"); found != body.end()) {
        if (found->is_number_integer()) expires_in = found->get<long long>();
        else if (found->is_string()) expires_in = std::atoll(found->get<std::string>().c_str());
    }
    return AccessToken{body["access_token"].get<std::string>(), at + std::chrono::seconds(std::max(0LL, expires_in))};
}

ServiceAccountTokenSource::ServiceAccountTokenSource(HttpClient& http, ServiceAccountKey key,
                                                     std::vector<std::string> scopes, std::string where,
                                                     std::optional<std::string> token_uri)
    : http_(http), key_(std::move(key)), scopes_(std::move(scopes)), where_(std::move(where)) {
    token_uri_ = token_uri ? *token_uri : key_.token_uri;
}

std::string ServiceAccountTokenSource::describe() const {
    return fmt::format("service account {} ({})", key_.client_email, where_);
}

void ServiceAccountTokenSource::fetch(Callback done) {
    const Instant issued = now();
    const long long iat = std::chrono::duration_cast<std::chrono::seconds>(issued.time_since_epoch()).count();
    nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
    if (!key_.private_key_id.empty()) header["kid"] = key_.private_key_id;
    // google-auth sends Google's token URI as the audience whatever endpoint it posts to.
    nlohmann::json claims = {{"iss", key_.client_email},
                             {"scope", join(scopes_, " ")},
                             {"aud", std::string(kGoogleTokenUri)},
                             {"iat", iat},
                             {"exp", iat + 3600}};
    auto jwt = sign_jwt_rs256(key_.private_key, header.dump(), claims.dump());
    if (!jwt) {
        done(make_error("{}: {}", where_, jwt.error().message));
        return;
    }
    HttpRequest request{.method = "POST",
                        .url = token_uri_,
                        .headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
                        .body = "grant_type=" + url_encode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
                                "&assertion=" + *jwt,
                        .timeout = std::chrono::seconds(30),
                        .repeatable = true};  // asking for a token twice does no harm
    const std::string from = fmt::format("the token endpoint {} for {}", token_uri_, key_.client_email);
    http_.send(std::move(request), [done = std::move(done), from, issued](HttpResponse response) {
        done(read_token_answer(response, from, issued));
    });
}

MetadataTokenSource::MetadataTokenSource(HttpClient& http, std::string metadata_base, std::vector<std::string> scopes)
    : http_(http), metadata_base_(std::move(metadata_base)), scopes_(std::move(scopes)) {}

std::string MetadataTokenSource::describe() const {
    return fmt::format("the default service account of this machine (metadata server {})", metadata_base_);
}

void MetadataTokenSource::fetch(Callback done) {
    std::string url = metadata_base_ + "/computeMetadata/v1/instance/service-accounts/default/token";
    if (!scopes_.empty()) url += "?scopes=" + url_encode(join(scopes_, ","));
    HttpRequest request{.url = url, .headers = {{"Metadata-Flavor", "Google"}}, .connect_timeout = std::chrono::seconds(3),
                        .timeout = std::chrono::seconds(10)};
    const Instant asked = now();
    const std::string from = "the metadata server " + metadata_base_;
    http_.send(std::move(request), [done = std::move(done), from, asked](HttpResponse response) {
        if (!response.answered()) {
            done(make_error("no Google credentials: the connection has no key_path or keyfile_dict, "
                            "GOOGLE_APPLICATION_CREDENTIALS is not set, and {} cannot be reached ({})",
                            from, response.describe()));
            return;
        }
        done(read_token_answer(response, from, asked));
    });
}

void StaticTokenSource::fetch(Callback done) {
    // Valid as far as mayaflow can tell: Google says when it is not (401).
    done(AccessToken{token_, now() + std::chrono::hours(24 * 365)});
}

}  // namespace mayaflow::gcp
