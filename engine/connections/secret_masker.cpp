#include "engine/connections/secret_masker.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "engine/connections/connection.h"
#include "engine/connections/python_url.h"
#include "engine/connections/sensitive_fields.h"

namespace mayaflow {

constexpr std::string_view kMask = "***";

struct SecretMasker::Patterns {
    std::vector<std::string> originals;  // as registered, without their URL and JSON forms
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

    // The first position at or after `from` where a secret may start but the text ends before it
    // could be told apart (text from there is a proper prefix of a secret), or text.size().
    std::size_t undecided_from(std::string_view text, std::size_t from) const {
        if (longest > 1 && text.size() >= longest) from = std::max(from, text.size() - (longest - 1));
        for (std::size_t pos = from; pos < text.size(); ++pos) {
            const std::string_view rest = text.substr(pos);
            for (const auto* secret : by_first_byte[static_cast<unsigned char>(text[pos])]) {
                if (secret->size() > rest.size() && secret->starts_with(rest)) return pos;
            }
        }
        return text.size();
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
    add_secret_list({std::string(secret)});
}

void SecretMasker::add_secret_list(const std::vector<std::string>& secrets) {
    std::lock_guard lock(mutex_);
    std::shared_ptr<Patterns> updated;
    for (const auto& secret : secrets) {
        if (secret.empty()) continue;
        const auto& known = updated ? updated->originals : patterns_->originals;
        if (std::find(known.begin(), known.end(), secret) != known.end()) continue;
        if (!updated)
            updated = std::make_shared<Patterns>(Patterns{patterns_->originals, patterns_->secrets, {}, 0});
        updated->originals.push_back(secret);
        for (auto& form : forms_of(secret)) {
            if (form.empty()) continue;
            if (std::find(updated->secrets.begin(), updated->secrets.end(), form) != updated->secrets.end())
                continue;
            updated->secrets.push_back(std::move(form));
        }
    }
    if (!updated) return;
    updated->index();
    patterns_ = std::move(updated);
}

std::vector<std::string> SecretMasker::secrets() const {
    return snapshot()->originals;
}

void SecretMasker::add_secrets(const pyjson::Json& value, std::string_view name) {
    std::vector<std::string> found;
    collect_secrets(value, name, found);
    add_secret_list(found);
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
    std::vector<pyjson::Json*> pending{&redacted};
    while (!pending.empty()) {
        pyjson::Json* node = pending.back();
        pending.pop_back();
        if (node->is_string()) {
            *node = mask(node->get_ref<const std::string&>());
        } else if (node->is_structured()) {
            for (auto& item : *node) pending.push_back(&item);
        }
    }
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
    if (patterns->secrets.empty()) return std::exchange(pending_, {});
    // Held back: only what may still turn out to be the start of a secret.
    const std::size_t undecided = patterns->undecided_from(pending_, 0);
    std::string out;
    out.reserve(pending_.size());
    std::size_t done = std::min(patterns->mask_into(out, pending_, undecided), pending_.size());
    pending_.erase(0, done);
    return out;
}

std::string StreamMasker::finish() {
    std::string out = masker_.mask(pending_);
    pending_.clear();
    return out;
}

Status mask_connection_secrets(SecretMasker& masker, const Connection& connection) {
    std::vector<std::string> found;
    Status collected = collect_connection_secrets(connection, found);
    masker.add_secret_list(found);
    return collected;
}

Status mask_variable_secret(SecretMasker& masker, std::string_view key, std::string_view value) {
    std::vector<std::string> found;
    Status collected = collect_variable_secrets(key, value, found);
    masker.add_secret_list(found);
    return collected;
}

SecretMasker& process_secret_masker() {
    static SecretMasker masker;
    return masker;
}

}  // namespace mayaflow
