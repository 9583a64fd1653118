#pragma once
// Opaque tokens the API hands out and takes back — a log's continuation token, a DAG file's
// file_token — as Airflow's are: the client cannot read a path out of one nor make one up, because
// each is a JSON payload with an HMAC-SHA256 of it under the database's own key (migrations/0013),
// so that every process serving the database takes the others' tokens. A purpose is signed in too:
// a token given for one use is refused for another.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "engine/util/result.h"

namespace mayaflow {

class Store;

class TokenSigner {
  public:
    // `key`: the secret's bytes.
    explicit TokenSigner(std::string key) : key_(std::move(key)) {}

    // The signer with the database's key; an error when the store cannot give it.
    static Result<TokenSigner> of_store(Store& store);

    // "<base64url of the payload>.<base64url of its HMAC>", URL-safe as it is.
    std::string sign(std::string_view purpose, const nlohmann::json& payload) const;
    // The payload of a token this key signed for this purpose; nullopt for anything else (another
    // key, another purpose, a changed byte, not a token at all).
    std::optional<nlohmann::json> verify(std::string_view purpose, std::string_view token) const;

  private:
    std::string mac(std::string_view purpose, std::string_view payload) const;
    std::string key_;
};

}  // namespace mayaflow
