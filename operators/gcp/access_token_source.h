#pragma once
// Where a Google access token comes from: a service account's key (a JWT signed RS256, exchanged
// at the token endpoint), the metadata server of the machine mayaflow runs on, or a token given as
// it is. Tokens are cached and fetched again five minutes before they expire; callers that ask
// while one is being fetched wait for that one. Everything is asynchronous, on the HTTP client's
// I/O thread.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/http/http_client.h"
#include "engine/time/instant.h"
#include "engine/util/result.h"
#include "operators/gcp/service_account_key.h"

namespace mayaflow::gcp {

struct AccessToken {
    std::string token;
    Instant expires_at{};
};

class AccessTokenSource {
  public:
    using Callback = std::function<void(Result<AccessToken>)>;
    virtual ~AccessTokenSource() = default;

    // A token valid for five more minutes at least: the cached one at once, or a fresh one.
    void get(Callback done);
    // Who the tokens are for, in words: "service account etl@p.iam.gserviceaccount.com (key file …)".
    virtual std::string describe() const = 0;

  protected:
    virtual void fetch(Callback done) = 0;

  private:
    std::mutex mutex_;
    std::optional<AccessToken> cached_;
    bool fetching_ = false;
    std::vector<Callback> waiting_;
};

// Reads a token endpoint's or the metadata server's answer: {"access_token", "expires_in"}; an
// error answer ({"error", "error_description"}) becomes a message that says what to check.
Result<AccessToken> read_token_answer(const HttpResponse& response, std::string_view from, Instant now);

class ServiceAccountTokenSource : public AccessTokenSource {
  public:
    // `token_uri` overrides the key's own (a stand-in's, in tests); `where` names the key in messages.
    ServiceAccountTokenSource(HttpClient& http, ServiceAccountKey key, std::vector<std::string> scopes,
                              std::string where, std::optional<std::string> token_uri = std::nullopt);
    std::string describe() const override;

  protected:
    void fetch(Callback done) override;

  private:
    HttpClient& http_;
    ServiceAccountKey key_;
    std::vector<std::string> scopes_;
    std::string where_;
    std::string token_uri_;
};

class MetadataTokenSource : public AccessTokenSource {
  public:
    // `metadata_base`: "http://metadata.google.internal", or GCE_METADATA_HOST's.
    MetadataTokenSource(HttpClient& http, std::string metadata_base, std::vector<std::string> scopes);
    std::string describe() const override;

  protected:
    void fetch(Callback done) override;

  private:
    HttpClient& http_;
    std::string metadata_base_;
    std::vector<std::string> scopes_;
};

class StaticTokenSource : public AccessTokenSource {
  public:
    explicit StaticTokenSource(std::string token) : token_(std::move(token)) {}
    std::string describe() const override { return "a static access token"; }

  protected:
    void fetch(Callback done) override;

  private:
    std::string token_;
};

}  // namespace mayaflow::gcp
