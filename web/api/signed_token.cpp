#include "web/api/signed_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

#include "engine/store/store.h"
#include "engine/util/utf8.h"

namespace mayaflow {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i < bytes.size()) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        if (i + 1 < bytes.size()) out += kAlphabet[(v >> 6) & 63];
    }
    return out;
}

// nullopt when `text` holds anything but the URL-safe alphabet, or has a length no encoding gives.
std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : text) {
        const auto index = kAlphabet.find(c);
        if (index == std::string_view::npos) return std::nullopt;
        buffer = (buffer << 6) | static_cast<unsigned>(index);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    // Only the one spelling the encoder gives: unused low bits set would let a changed last
    // character decode to the same bytes.
    if (base64url_encode(out) != text) return std::nullopt;
    return out;
}

std::string from_hex(std::string_view hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    return out;
}

}  // namespace

Result<TokenSigner> TokenSigner::of_store(Store& store) {
    auto key = store.api_signing_key();
    if (!key) return key.error();
    if (key->size() < 32 || key->find_first_not_of("0123456789abcdef") != std::string::npos) {
        return make_error("the database's API signing key is damaged (not hex); run `mayaflow db check`");
    }
    return TokenSigner(from_hex(*key));
}

std::string TokenSigner::mac(std::string_view purpose, std::string_view payload) const {
    std::string message(purpose);
    message += '\n';
    message += payload;
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(message.data()),
         message.size(), digest.data(), &length);
    return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

std::string TokenSigner::sign(std::string_view purpose, const nlohmann::json& payload) const {
    const std::string text = dump_json(payload);
    return base64url_encode(text) + "." + base64url_encode(mac(purpose, text));
}

std::optional<nlohmann::json> TokenSigner::verify(std::string_view purpose, std::string_view token) const {
    const auto dot = token.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    auto payload = base64url_decode(token.substr(0, dot));
    auto signature = base64url_decode(token.substr(dot + 1));
    if (!payload || !signature) return std::nullopt;
    const std::string expected = mac(purpose, *payload);
    if (signature->size() != expected.size() || CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
        return std::nullopt;
    }
    auto json = nlohmann::json::parse(*payload, nullptr, false);
    if (json.is_discarded()) return std::nullopt;
    return json;
}

}  // namespace mayaflow
