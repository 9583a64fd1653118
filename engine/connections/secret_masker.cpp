#include "engine/connections/secret_masker.h"

#include <algorithm>
#include <array>
#include <vector>

#include "engine/connections/connection.h"
#include "engine/connections/python_url.h"
#include "engine/connections/sensitive_fields.h"

namespace mayaflow {

constexpr std::string_view kMask = "***";

struct SecretMasker::Patterns {
    std::vector<std::string> secrets;
    // For each first byte, the secrets that start with it, longest first.
    std::array<std::vector<const std::string*>, 256> by_first_byte;
    std::size_t longest = 0;

    void index() {
        for (auto& bucket : by_first_byte) bucket.clear();
        longest = 0;
        for (const auto& secret : secrets) {
            by_first_byte[static_cast<unsigned char>(secret[0])].push_back(&secret);
            longest = std::max(longest, secret.size());
        }
        for (auto& bucket : by_first_byte) {
            std::stable_sort(bucket.begin(), bucket.end(),
                             [](auto* a, auto* b) { return a->size() > b->size(); });
        }
    }

    // The length of the longest secret that starts at `pos`, or 0.
    std::size_t match_at(std::string_view text, std::size_t pos) const {
        for (const auto* secret : by_first_byte[static_cast<unsigned char>(text[pos])]) {
            if (text.compare(pos, secret->size(), *secret) == 0) return secret->size();
        }
        return 0;
    }

    // Masks text[0, scan_end) and returns where masking stopped (≥ scan_end when a match ran past it).
    std::size_t mask_into(std::string& out, std::string_view text, std::size_t scan_end) const {
        std::size_t copied = 0, pos = 0;
        while (pos < scan_end) {
            std::size_t length =
                by_first_byte[static_cast<unsigned char>(text[pos])].empty() ? 0 : match_at(text, pos);
            if (length == 0) {
                ++pos;
                continue;
            }
            out.append(text.substr(copied, pos - copied)).append(kMask);
            pos += length;
            copied = pos;
        }
        out.append(text.substr(copied, std::max(pos, scan_end) - copied));
        return std::max(pos, scan_end);
    }
};

namespace {

// The forms a secret takes once written into a URL or a JSON document.
std::vector<std::string> forms_of(std::string_view secret) {
    std::vector<std::string> forms{std::string(secret), pyurl::quote(secret), pyurl::quote(secret, ""),
                                   pyurl::quote_plus(secret)};
    for (bool ascii : {true, false}) {
        std::string json = pyjson::dumps(pyjson::Json(std::string(secret)), {.ensure_ascii = ascii});
        forms.push_back(json.substr(1, json.size() - 2));
    }
    return forms;
}

}  // namespace

SecretMasker::SecretMasker() : patterns_(std::make_shared<Patterns>()) {}

std::shared_ptr<const SecretMasker::Patterns> SecretMasker::snapshot() const {
    std::lock_guard lock(mutex_);
    return patterns_;
}

void SecretMasker::add_secret(std::string_view secret) {
    if (secret.empty()) return;
    std::lock_guard lock(mutex_);
    auto updated = std::make_shared<Patterns>(Patterns{patterns_->secrets, {}, 0});
    bool changed = false;
    for (auto& form : forms_of(secret)) {
        if (form.empty()) continue;
        if (std::find(updated->secrets.begin(), updated->secrets.end(), form) != updated->secrets.end())
            continue;
        updated->secrets.push_back(std::move(form));
        changed = true;
    }
    if (!changed) return;
    updated->index();
    patterns_ = std::move(updated);
}

void SecretMasker::add_secrets(const pyjson::Json& value, std::string_view name) {
    if (value.is_object()) {
        for (auto it = value.begin(); it != value.end(); ++it) add_secrets(it.value(), it.key());
    } else if (value.is_array()) {
        for (const auto& item : value) add_secrets(item, name);
    } else if (value.is_string()) {
        if (name.empty() || is_sensitive_name(name)) add_secret(value.get_ref<const std::string&>());
    }
}

std::string SecretMasker::mask(std::string_view text) const {
    auto patterns = snapshot();
    if (patterns->secrets.empty()) return std::string(text);
    std::string out;
    out.reserve(text.size());
    patterns->mask_into(out, text, text.size());
    return out;
}

pyjson::Json SecretMasker::redact(const pyjson::Json& value) const {
    pyjson::Json redacted = redact_sensitive_fields(value);
    auto mask_strings = [&](auto& self, pyjson::Json& node) -> void {
        if (node.is_string()) {
            node = mask(node.get_ref<const std::string&>());
        } else if (node.is_structured()) {
            for (auto& item : node) self(self, item);
        }
    };
    mask_strings(mask_strings, redacted);
    return redacted;
}

std::size_t SecretMasker::secret_count() const {
    return snapshot()->secrets.size();
}

std::size_t SecretMasker::longest_secret() const {
    return snapshot()->longest;
}

std::string StreamMasker::write(std::string_view chunk) {
    pending_.append(chunk);
    auto patterns = masker_.snapshot();
    std::size_t hold = patterns->longest > 0 ? patterns->longest - 1 : 0;
    if (pending_.size() <= hold) return {};
    std::string out;
    out.reserve(pending_.size());
    std::size_t done = patterns->mask_into(out, pending_, pending_.size() - hold);
    pending_.erase(0, done);
    return out;
}

std::string StreamMasker::finish() {
    std::string out = masker_.mask(pending_);
    pending_.clear();
    return out;
}

void mask_connection_secrets(SecretMasker& masker, const Connection& connection) {
    if (connection.password) masker.add_secret(*connection.password);
    auto extra = connection.parse_extra();
    if (extra.value.is_object()) {
        for (auto it = extra.value.begin(); it != extra.value.end(); ++it)
            masker.add_secrets(it.value(), it.key());
    }
}

void mask_variable_secret(SecretMasker& masker, std::string_view key, std::string_view value) {
    if (is_sensitive_name(key)) masker.add_secret(value);
}

SecretMasker& process_secret_masker() {
    static SecretMasker masker;
    return masker;
}

}  // namespace mayaflow
