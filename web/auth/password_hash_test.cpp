#include "web/auth/password_hash.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cctype>

#include <regex>
#include <set>

namespace mayaflow {
namespace {

std::string hex(const std::string& bytes) {
    std::string out;
    for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
    return out;
}

TEST_CASE("PBKDF2-HMAC-SHA256 gives the published test vectors", "[web][auth]") {
    CHECK(hex(pbkdf2_sha256("password", "salt", 1, 32)) ==
          "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
    CHECK(hex(pbkdf2_sha256("password", "salt", 2, 32)) ==
          "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43");
    CHECK(hex(pbkdf2_sha256("password", "salt", 4096, 32)) ==
          "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
    // RFC 7914 §11.
    CHECK(hex(pbkdf2_sha256("passwd", "salt", 1, 64)) ==
          "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
          "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
    // The stored form of a known salt carries the same bytes.
    CHECK(hash_password_with_salt("password", "saltsalt", 2).starts_with("pbkdf2-sha256$2$73616c7473616c74$"));
}

TEST_CASE("a password hash says its scheme, iterations, salt and hash, and is salted anew each time", "[web][auth]") {
    const std::regex format(R"(pbkdf2-sha256\$1000\$[0-9a-f]{32}\$[0-9a-f]{64})");
    auto first = hash_password("correct horse", 1000);
    auto second = hash_password("correct horse", 1000);
    CHECK(std::regex_match(first, format));
    CHECK(first != second);  // a fresh salt
    CHECK(verify_password("correct horse", first));
    CHECK(verify_password("correct horse", second));
    CHECK(kDefaultPasswordIterations >= 600'000);
    auto by_default = hash_password("x");
    CHECK(by_default.find("$600000$") != std::string::npos);
    CHECK(verify_password("x", by_default));
}

TEST_CASE("a wrong password, or a hash that was changed or is not one, does not verify", "[web][auth]") {
    auto stored = hash_password("s3cret", 1000);
    CHECK_FALSE(verify_password("s3cret ", stored));
    CHECK_FALSE(verify_password("S3cret", stored));
    CHECK_FALSE(verify_password("", stored));

    auto tampered = [&](size_t at) {
        std::string changed = stored;
        changed[at] = changed[at] == '0' ? '1' : '0';
        return changed;
    };
    const size_t salt_at = stored.find('$', 14) + 1;
    CHECK_FALSE(verify_password("s3cret", tampered(stored.size() - 1)));  // the hash
    CHECK_FALSE(verify_password("s3cret", tampered(salt_at)));            // the salt
    std::string more_iterations = stored;
    more_iterations.replace(14, 4, "1001");
    CHECK_FALSE(verify_password("s3cret", more_iterations));
    const std::string hash_part = stored.substr(stored.rfind('$') + 1);
    const std::vector<std::string> bad_hashes = {
        "",
        "s3cret",
        stored.substr(0, stored.size() - 2),
        "pbkdf2-sha1" + stored.substr(13),
        "pbkdf2-sha256$0$00112233445566778899aabbccddeeff$" + hash_part,
        "pbkdf2-sha256$99999999$00112233445566778899aabbccddeeff$" + hash_part,
        "pbkdf2-sha256$-5$0011$00",
        stored + "$",
        stored + "0",
    };
    for (const auto& bad : bad_hashes) {
        INFO(bad);
        CHECK_FALSE(verify_password("s3cret", bad));
        CHECK_FALSE(is_password_hash(bad));
    }
    std::string upper = stored;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK_FALSE(verify_password("s3cret", upper));
    CHECK(is_password_hash(stored));
}

TEST_CASE("secrets: tokens are mf_ and 32 random bytes in base64url, stored as SHA-256", "[web][auth]") {
    CHECK(base64url("") == "");
    CHECK(base64url("f") == "Zg");
    CHECK(base64url("fo") == "Zm8");
    CHECK(base64url("foo") == "Zm9v");
    CHECK(base64url("\xfb\xff") == "-_8");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        auto token = new_secret("mf_");
        CHECK(std::regex_match(token, std::regex("mf_[A-Za-z0-9_-]{43}")));
        seen.insert(token);
    }
    CHECK(seen.size() == 50);
    auto password = random_password(24);
    CHECK(std::regex_match(password, std::regex("[A-Za-z0-9]{24}")));
    CHECK(equal_in_constant_time("abc", "abc"));
    CHECK_FALSE(equal_in_constant_time("abc", "abd"));
    CHECK_FALSE(equal_in_constant_time("abc", "abcd"));
    CHECK(equal_in_constant_time("", ""));
    CHECK(hmac_sha256("key", "a") != hmac_sha256("key", "b"));
    CHECK(hmac_sha256("key", "a").size() == 32);
}

}  // namespace
}  // namespace mayaflow
