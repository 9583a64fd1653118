#include "operators/gcp/jwt_rs256.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <vector>

namespace mayaflow::gcp {
namespace {

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct KeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct ContextFree {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

std::string base64url_decode(std::string_view text) {
    std::string standard(text);
    for (char& c : standard) {
        if (c == '-') c = '+';
        if (c == '_') c = '/';
    }
    while (standard.size() % 4) standard.push_back('=');
    std::string out(standard.size() / 4 * 3, '\0');
    const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                       reinterpret_cast<const unsigned char*>(standard.data()),
                                       static_cast<int>(standard.size()));
    if (length < 0) return {};
    std::size_t padding = 0;
    for (auto it = standard.rbegin(); it != standard.rend() && *it == '='; ++it) ++padding;
    out.resize(static_cast<std::size_t>(length) - padding);
    return out;
}

}  // namespace

std::string base64url(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                       reinterpret_cast<const unsigned char*>(bytes.data()),
                                       static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(length));
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
    }
    return out;
}

Result<std::string> sign_jwt_rs256(std::string_view private_key_pem, std::string_view header_json,
                                   std::string_view claims_json) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
    if (!bio) return make_error("cannot read the service account's private key: out of memory");
    std::unique_ptr<EVP_PKEY, KeyFree> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) {
        return make_error("the service account's private_key is not a PEM private key (the key file may be "
                          "damaged: download a new key)");
    }
    if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
        return make_error("the service account's private_key is not an RSA key; Google's keys are");
    }
    const std::string signing_input = base64url(header_json) + "." + base64url(claims_json);
    std::unique_ptr<EVP_MD_CTX, ContextFree> context(EVP_MD_CTX_new());
    std::size_t length = 0;
    if (!context || EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(context.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) != 1) {
        return make_error("cannot sign with the service account's private key");
    }
    std::vector<unsigned char> signature(length);
    if (EVP_DigestSign(context.get(), signature.data(), &length,
                       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1) {
        return make_error("cannot sign with the service account's private key");
    }
    return signing_input + "." +
           base64url(std::string_view(reinterpret_cast<const char*>(signature.data()), length));
}

bool verify_jwt_rs256(std::string_view public_key_pem, std::string_view jwt) {
    const std::size_t last_dot = jwt.rfind('.');
    if (last_dot == std::string_view::npos) return false;
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())));
    std::unique_ptr<EVP_PKEY, KeyFree> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!key) return false;
    const std::string signature = base64url_decode(jwt.substr(last_dot + 1));
    const std::string_view signed_part = jwt.substr(0, last_dot);
    std::unique_ptr<EVP_MD_CTX, ContextFree> context(EVP_MD_CTX_new());
    return context && EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
           EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
}

}  // namespace mayaflow::gcp
