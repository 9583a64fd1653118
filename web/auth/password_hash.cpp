#include "web/auth/password_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>
#include <stdexcept>
#include <vector>

namespace mayaflow {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

std::string hex(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 0xf];
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;  // upper case is not what hash_password writes: a changed hash
}

bool unhex(std::string_view text, std::string& out) {
    if (text.size() % 2 != 0) return false;
    out.clear();
    for (size_t i = 0; i < text.size(); i += 2) {
        int high = hex_value(text[i]), low = hex_value(text[i + 1]);
        if (high < 0 || low < 0) return false;
        out += static_cast<char>(high * 16 + low);
    }
    return true;
}

struct ParsedHash {
    int iterations = 0;
    std::string salt;
    std::string hash;
};

bool parse_hash(std::string_view stored, ParsedHash& parsed) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (true) {
        size_t end = stored.find('$', start);
        parts.push_back(stored.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    if (parts.size() != 4 || parts[0] != kScheme) return false;
    const auto& count = parts[1];
    if (count.empty() || count.size() > 9 || count.front() == '0') return false;
    auto [end, error] = std::from_chars(count.data(), count.data() + count.size(), parsed.iterations);
    if (error != std::errc() || end != count.data() + count.size()) return false;
    if (parsed.iterations < 1 || parsed.iterations > kMaximumPasswordIterations) return false;
    if (!unhex(parts[2], parsed.salt) || parsed.salt.size() < 8) return false;
    return unhex(parts[3], parsed.hash) && parsed.hash.size() == kHashBytes;
}

}  // namespace

std::string pbkdf2_sha256(std::string_view password, std::string_view salt, int iterations, size_t length) {
    std::string out(length, '\0');
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                          reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                          iterations, EVP_sha256(), static_cast<int>(length),
                          reinterpret_cast<unsigned char*>(out.data())) != 1) {
        throw std::runtime_error("OpenSSL's PBKDF2 failed");
    }
    return out;
}

std::string hash_password_with_salt(std::string_view password, std::string_view salt, int iterations) {
    return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + hex(salt) + "$" +
           hex(pbkdf2_sha256(password, salt, iterations, kHashBytes));
}

std::string hash_password(std::string_view password, int iterations) {
    return hash_password_with_salt(password, random_bytes(kSaltBytes), iterations);
}

bool is_password_hash(std::string_view stored) {
    ParsedHash parsed;
    return parse_hash(stored, parsed);
}

bool verify_password(std::string_view password, std::string_view stored) {
    ParsedHash parsed;
    if (!parse_hash(stored, parsed)) return false;
    return equal_in_constant_time(pbkdf2_sha256(password, parsed.salt, parsed.iterations, kHashBytes), parsed.hash);
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(size_t count) {
    std::string out(count, '\0');
    if (count > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
        throw std::runtime_error("OpenSSL's random generator failed");
    }
    return out;
}

std::string base64url(std::string_view bytes) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                     static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
    }
    if (size_t rest = bytes.size() - i; rest > 0) {
        unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
        if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        if (rest == 2) out += kAlphabet[(n >> 6) & 63];
    }
    return out;
}

std::string new_secret(std::string_view prefix) { return std::string(prefix) + base64url(random_bytes(32)); }

std::string sha256_hex(std::string_view data) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    return hex(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
              data.size(), digest, &length)) {
        throw std::runtime_error("OpenSSL's HMAC failed");
    }
    return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string random_password(size_t length) {
    static constexpr std::string_view kAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    std::string out;
    while (out.size() < length) {
        for (unsigned char byte : random_bytes(length)) {
            // Rejection sampling: bytes past the last whole multiple of the alphabet would favour its start.
            if (static_cast<size_t>(byte) >= 256 - 256 % kAlphabet.size()) continue;
            out += kAlphabet[byte % kAlphabet.size()];
            if (out.size() == length) break;
        }
    }
    return out;
}

}  // namespace mayaflow
