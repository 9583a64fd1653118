// AES-256-GCM sealing of secrets: round trips, fresh nonces, and every way a value fails to open.

#include "engine/connections/secret_cipher.h"

#include <catch2/catch.hpp>

namespace mayaflow {
namespace {

SecretKeyring keyring_of(const SecretKey& key) {
    return SecretKeyring({key}, "test");
}

TEST_CASE("a sealed secret opens with its key and context only", "[connections][crypto]") {
    auto key = generate_secret_key();
    REQUIRE(key);
    auto keyring = keyring_of(*key);
    for (std::string secret :
         {std::string("hunter2"), std::string(), std::string("\0bin\xff", 5), std::string(5000, 'x')}) {
        auto sealed = keyring.seal(secret,
                                   "connection\x1f"
                                   "c\x1fpassword");
        REQUIRE(sealed);
        CHECK(sealed->starts_with("mf1:" + key->id + ":"));
        if (secret.size() > 3) CHECK(sealed->find(secret) == std::string::npos);
        auto opened = keyring.open(*sealed,
                                   "connection\x1f"
                                   "c\x1fpassword");
        REQUIRE(opened);
        CHECK(*opened == secret);
        auto moved = keyring.open(*sealed,
                                  "connection\x1f"
                                  "other\x1fpassword");
        REQUIRE_FALSE(moved);
        CHECK_THAT(moved.error().message, Catch::Contains("does not verify"));
    }
}

TEST_CASE("every seal uses a fresh nonce", "[connections][crypto]") {
    auto keyring = keyring_of(*generate_secret_key());
    auto first = keyring.seal("same", "ctx");
    auto second = keyring.seal("same", "ctx");
    REQUIRE(first);
    REQUIRE(second);
    CHECK(*first != *second);
}

TEST_CASE("a wrong key is named, never decrypted into garbage", "[connections][crypto]") {
    auto right = *generate_secret_key();
    auto wrong = *generate_secret_key();
    auto sealed = keyring_of(right).seal("hunter2", "ctx");
    REQUIRE(sealed);
    auto opened = SecretKeyring({wrong}, "MAYAFLOW_SECRET_KEY").open(*sealed, "ctx");
    REQUIRE_FALSE(opened);
    CHECK_THAT(opened.error().message, Catch::Contains(right.id) && Catch::Contains(wrong.id) &&
                                           Catch::Contains("MAYAFLOW_SECRET_KEY"));
    CHECK(sealed_key_id(*sealed) == right.id);
    // Both keys known (during a rotation): it opens.
    CHECK(*SecretKeyring({wrong, right}, "test").open(*sealed, "ctx") == "hunter2");
}

TEST_CASE("an altered sealed value does not open", "[connections][crypto]") {
    auto keyring = keyring_of(*generate_secret_key());
    auto sealed = *keyring.seal("hunter2", "ctx");
    std::string tampered = sealed;
    char& last = tampered[tampered.size() - 3];
    last = last == 'A' ? 'B' : 'A';
    CHECK_FALSE(keyring.open(tampered, "ctx"));
    CHECK_FALSE(keyring.open("hunter2", "ctx"));
    CHECK_FALSE(keyring.open("mf1:zz", "ctx"));
    CHECK_FALSE(sealed_key_id("plain text"));
}

TEST_CASE("keys are read as hex or base64", "[connections][crypto]") {
    auto hex = parse_secret_key(std::string(64, 'a'));
    REQUIRE(hex);
    CHECK(hex->bytes[0] == 0xaa);
    auto generated = *generate_secret_key();
    auto text = format_secret_key(generated);
    CHECK(text.size() == 44);
    auto reread = parse_secret_key(text);
    REQUIRE(reread);
    CHECK(reread->bytes == generated.bytes);
    CHECK(reread->id == generated.id);
    CHECK(parse_secret_key(text.substr(0, 43)));  // without its padding
    // An Airflow Fernet key (URL-safe base64 of 32 bytes) is accepted as it is.
    CHECK(parse_secret_key("81HqDtbqAywKSOumSha3BhWNOdQ26slT6K0YaZeZyPs="));
    CHECK(parse_secret_key("81HqDtbqAywKSOumSha3BhWNOdQ26slT6K0YaZeZyPs=\n"));
    auto short_key = parse_secret_key("abc");
    REQUIRE_FALSE(short_key);
    CHECK_THAT(short_key.error().message, Catch::Contains("64 hex digits"));
    CHECK_FALSE(parse_secret_key(std::string(64, 'g')));
    CHECK_FALSE(parse_secret_key("81HqDtbqAywKSOumSha3BhWNOdQ26slT6K0YaZeZ!Ps="));
}

}  // namespace
}  // namespace mayaflow
