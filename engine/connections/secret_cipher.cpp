#include "engine/connections/secret_cipher.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>

namespace mayaflow {
namespace {

constexpr std::string_view kPrefix = "mf1:";
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kKeyIdSize = 8;

std::string openssl_error() {
    unsigned long code = ERR_get_error();
    if (code == 0) return "unknown OpenSSL error";
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    return buffer;
}

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes_of(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

std::string key_id_of(const std::array<unsigned char, 32>& key) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(key.data(), key.size(), digest, &length, EVP_sha256(), nullptr);
    return fmt::format("{:02x}{:02x}{:02x}{:02x}", digest[0], digest[1], digest[2], digest[3]);
}

std::string base64_encode(std::string_view data, bool url_safe) {
    const char* alphabet = url_safe ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                                    : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < data.size(); i += 3) {
        unsigned value = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size()) value |= static_cast<unsigned char>(data[i + 1]) << 8;
        if (i + 2 < data.size()) value |= static_cast<unsigned char>(data[i + 2]);
        out.push_back(alphabet[(value >> 18) & 63]);
        out.push_back(alphabet[(value >> 12) & 63]);
        out.push_back(i + 1 < data.size() ? alphabet[(value >> 6) & 63] : '=');
        out.push_back(i + 2 < data.size() ? alphabet[value & 63] : '=');
    }
    return out;
}

// Standard or URL-safe base64, padding optional; nullopt on any other character.
std::optional<std::string> base64_decode(std::string_view text) {
    while (text.ends_with('=')) text.remove_suffix(1);
    std::string out;
    unsigned value = 0;
    int bits = 0;
    for (char c : text) {
        int digit;
        if (c >= 'A' && c <= 'Z')
            digit = c - 'A';
        else if (c >= 'a' && c <= 'z')
            digit = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            digit = c - '0' + 52;
        else if (c == '+' || c == '-')
            digit = 62;
        else if (c == '/' || c == '_')
            digit = 63;
        else
            return std::nullopt;
        value = (value << 6) | static_cast<unsigned>(digit);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((value >> bits) & 0xFF));
        }
    }
    if (bits >= 6) return std::nullopt;  // a lone trailing character cannot end base64
    return out;
}

SecretKey key_from_bytes(std::string_view bytes) {
    SecretKey key;
    std::copy(bytes.begin(), bytes.end(), key.bytes.begin());
    key.id = key_id_of(key.bytes);
    return key;
}

struct SealedParts {
    std::string key_id;
    std::string payload;  // nonce | ciphertext | tag
};

std::optional<SealedParts> split_sealed(std::string_view sealed) {
    if (!sealed.starts_with(kPrefix)) return std::nullopt;
    sealed.remove_prefix(kPrefix.size());
    if (sealed.size() < kKeyIdSize + 1 || sealed[kKeyIdSize] != ':') return std::nullopt;
    auto payload = base64_decode(sealed.substr(kKeyIdSize + 1));
    if (!payload || payload->size() < kNonceSize + kTagSize) return std::nullopt;
    return SealedParts{std::string(sealed.substr(0, kKeyIdSize)), std::move(*payload)};
}

}  // namespace

Result<SecretKey> parse_secret_key(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
        text.remove_suffix(1);
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    if (text.size() == 64 && text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos) {
        std::string bytes;
        for (std::size_t i = 0; i < 64; i += 2)
            bytes.push_back(static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
        return key_from_bytes(bytes);
    }
    auto decoded = base64_decode(text);
    if (!decoded || decoded->size() != 32) {
        return make_error(
            "a secret key must be 32 bytes written as 64 hex digits or in base64 (44 characters, as "
            "`mayaflow rotate-secret-key` writes them); this one is {} characters long and is neither",
            text.size());
    }
    return key_from_bytes(*decoded);
}

Result<SecretKey> generate_secret_key() {
    std::array<unsigned char, 32> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        return make_error("cannot generate a secret key: {}", openssl_error());
    }
    return key_from_bytes(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string format_secret_key(const SecretKey& key) {
    return base64_encode(std::string_view(reinterpret_cast<const char*>(key.bytes.data()), key.bytes.size()),
                         true);
}

SecretKeyring::SecretKeyring(std::vector<SecretKey> keys, std::string origin)
    : keys_(std::move(keys)), origin_(std::move(origin)) {}

bool SecretKeyring::knows(std::string_view key_id) const {
    for (const auto& key : keys_) {
        if (key.id == key_id) return true;
    }
    return false;
}

Result<std::string> SecretKeyring::seal(std::string_view plaintext, std::string_view context) const {
    if (keys_.empty()) return make_error("no secret key is configured");
    const auto& key = keys_.front();
    unsigned char nonce[kNonceSize];
    if (RAND_bytes(nonce, kNonceSize) != 1) return make_error("cannot generate a nonce: {}", openssl_error());
    CipherContext context_holder(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    auto* ctx = context_holder.get();
    std::string payload(kNonceSize + plaintext.size() + kTagSize, '\0');
    auto* out = reinterpret_cast<unsigned char*>(payload.data());
    std::copy(nonce, nonce + kNonceSize, out);
    int length = 0, final_length = 0;
    bool ok =
        ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) == 1 &&
        EVP_EncryptInit_ex(ctx, nullptr, nullptr, key.bytes.data(), nonce) == 1 &&
        EVP_EncryptUpdate(ctx, nullptr, &length, bytes_of(context), static_cast<int>(context.size())) == 1 &&
        EVP_EncryptUpdate(ctx, out + kNonceSize, &length, bytes_of(plaintext),
                          static_cast<int>(plaintext.size())) == 1 &&
        EVP_EncryptFinal_ex(ctx, out + kNonceSize + length, &final_length) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, out + kNonceSize + plaintext.size()) == 1;
    if (!ok) return make_error("cannot encrypt a secret: {}", openssl_error());
    return std::string(kPrefix) + key.id + ":" + base64_encode(payload, false);
}

Result<std::string> SecretKeyring::open(std::string_view sealed, std::string_view context) const {
    auto parts = split_sealed(sealed);
    if (!parts)
        return make_error(
            "the stored value is not an encrypted secret (damaged, or written by something else)");
    const SecretKey* key = nullptr;
    for (const auto& candidate : keys_) {
        if (candidate.id == parts->key_id) key = &candidate;
    }
    if (!key && keys_.empty()) {
        return make_error(
            "it was encrypted with secret key {}, and no secret key is configured: set "
            "MAYAFLOW_SECRET_KEY, or put back {}, with the key this database was written with",
            parts->key_id, origin_.empty() ? "$MAYAFLOW_HOME/secret.key" : origin_);
    }
    if (!key) {
        std::vector<std::string> ids;
        for (const auto& candidate : keys_) ids.push_back(candidate.id);
        return make_error(
            "it was encrypted with secret key {}, but the key{} in use ({}, from {}) {}; set "
            "MAYAFLOW_SECRET_KEY or $MAYAFLOW_HOME/secret.key to the key this database was written with",
            parts->key_id, ids.size() == 1 ? "" : "s", fmt::join(ids, ", "), origin_,
            ids.size() == 1 ? "is another" : "are others");
    }
    const auto* payload = bytes_of(parts->payload);
    std::size_t cipher_size = parts->payload.size() - kNonceSize - kTagSize;
    std::string plaintext(cipher_size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
    CipherContext context_holder(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    auto* ctx = context_holder.get();
    int length = 0, final_length = 0;
    std::array<unsigned char, kTagSize> tag{};
    std::copy(payload + kNonceSize + cipher_size, payload + kNonceSize + cipher_size + kTagSize, tag.begin());
    bool ok =
        ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) == 1 &&
        EVP_DecryptInit_ex(ctx, nullptr, nullptr, key->bytes.data(), payload) == 1 &&
        EVP_DecryptUpdate(ctx, nullptr, &length, bytes_of(context), static_cast<int>(context.size())) == 1 &&
        EVP_DecryptUpdate(ctx, out, &length, payload + kNonceSize, static_cast<int>(cipher_size)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) == 1;
    if (!ok) return make_error("cannot decrypt a secret: {}", openssl_error());
    if (EVP_DecryptFinal_ex(ctx, out + length, &final_length) != 1) {
        ERR_clear_error();
        return make_error("it does not verify with secret key {} (it was altered, or moved from another row)",
                          key->id);
    }
    return plaintext;
}

std::optional<std::string> sealed_key_id(std::string_view sealed) {
    auto parts = split_sealed(sealed);
    if (!parts) return std::nullopt;
    return parts->key_id;
}

}  // namespace mayaflow
