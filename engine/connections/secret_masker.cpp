#include "engine/connections/secret_masker.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/connections/connection.h"
#include "engine/connections/python_url.h"
#include "engine/connections/secret_matcher.h"
#include "engine/connections/sensitive_fields.h"

namespace mayaflow {

constexpr std::string_view kMask = "***";
constexpr std::size_t kLongSecret = 128;

struct SecretMasker::Patterns {
    // As registered, without their URL and JSON forms, in the order they came.
    std::shared_ptr<const std::vector<std::string>> originals = std::make_shared<std::vector<std::string>>();
    std::unordered_set<std::string_view> known;  // views of *originals
    std::size_t form_count = 0;
    std::size_t left_out = 0;  // secrets past kMaxIndexedBytes
    SecretMatcher matcher;
};

namespace {

// quote()'s %XX escapes with lower-case hex digits (%2f for %2F), as other encoders write them.
std::string lower_case_escapes(std::string text) {
    for (std::size_t i = 0; i + 2 < text.size(); ++i) {
        if (text[i] != '%') continue;
        for (std::size_t digit = i + 1; digit <= i + 2; ++digit) {
            if (text[digit] >= 'A' && text[digit] <= 'F')
                text[digit] = static_cast<char>(text[digit] - 'A' + 'a');
        }
    }
    return text;
}

// The forms a secret takes once written into a URL or a JSON document. A long one (a private key)
// only as itself and JSON-escaped: such text goes into JSON documents, not URLs, and each form costs
// the automaton about 18 bytes of memory per byte.
std::vector<std::string> forms_of(std::string_view secret) {
    std::vector<std::string> forms{std::string(secret)};
    if (secret.size() <= kLongSecret) {
        forms.insert(forms.end(),
                     {pyurl::quote(secret), pyurl::quote(secret, ""), pyurl::quote_plus(secret)});
        for (std::size_t i = 1; i <= 3; ++i) forms.push_back(lower_case_escapes(forms[i]));
    }
    for (bool ascii : {true, false}) {
        std::string json = pyjson::dumps(pyjson::Json(std::string(secret)), {.ensure_ascii = ascii});
        forms.push_back(json.substr(1, json.size() - 2));
    }
    std::sort(forms.begin(), forms.end());
    forms.erase(std::unique(forms.begin(), forms.end()), forms.end());
    return forms;
}

// A snapshot of `originals` (deduplicated, empty ones dropped, order kept) with its automaton; the
// secrets whose forms would take the index past kMaxIndexedBytes are left out, and counted.
std::shared_ptr<const SecretMasker::Patterns> index(std::vector<std::string> originals) {
    auto patterns = std::make_shared<SecretMasker::Patterns>();
    std::unordered_set<std::string> seen;
    std::vector<std::string> unique;
    std::vector<std::string> forms;
    std::size_t indexed_bytes = 0;
    for (auto& secret : originals) {
        if (secret.empty() || !seen.insert(secret).second) continue;
        auto secret_forms = forms_of(secret);
        std::size_t bytes = 0;
        for (const auto& form : secret_forms) bytes += form.size();
        if (indexed_bytes + bytes > SecretMasker::kMaxIndexedBytes) {
            ++patterns->left_out;
            continue;
        }
        indexed_bytes += bytes;
        for (auto& form : secret_forms) forms.push_back(std::move(form));
        unique.push_back(std::move(secret));
    }
    auto shared = std::make_shared<const std::vector<std::string>>(std::move(unique));
    for (const auto& secret : *shared) patterns->known.insert(secret);
    patterns->originals = std::move(shared);
    patterns->matcher = SecretMatcher(std::move(forms));
    patterns->form_count = patterns->matcher.pattern_count();
    return patterns;
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
    // One writer at a time: two that each add to the same snapshot would lose one's secrets.
    std::lock_guard writing(writer_mutex_);
    auto current = snapshot();
    std::vector<std::string> added;
    for (const auto& secret : secrets) {
        if (!secret.empty() && !current->known.contains(secret)) added.push_back(secret);
    }
    if (added.empty()) return;
    std::vector<std::string> all(*current->originals);
    all.insert(all.end(), added.begin(), added.end());
    auto updated = index(std::move(all));
    std::lock_guard lock(mutex_);
    patterns_ = std::move(updated);
}

void SecretMasker::set_secrets(std::vector<std::string> secrets) {
    std::lock_guard writing(writer_mutex_);
    auto current = snapshot();
    // The same secrets (in the same order) keep the automaton in use: nothing to build.
    std::unordered_set<std::string_view> seen;
    std::size_t same = 0;
    bool differ = false;
    for (const auto& secret : secrets) {
        if (secret.empty() || !seen.insert(secret).second) continue;
        if (same >= current->originals->size() || (*current->originals)[same] != secret) {
            differ = true;
            break;
        }
        ++same;
    }
    if (!differ && same == current->originals->size() && current->left_out == 0) return;
    auto updated = index(std::move(secrets));
    std::lock_guard lock(mutex_);
    patterns_ = std::move(updated);
}

std::shared_ptr<const std::vector<std::string>> SecretMasker::secret_list() const {
    return snapshot()->originals;
}

std::vector<std::string> SecretMasker::secrets() const {
    return *snapshot()->originals;
}

void SecretMasker::add_secrets(const pyjson::Json& value, std::string_view name) {
    std::vector<std::string> found;
    collect_secrets(value, name, found);
    add_secret_list(found);
}

std::string SecretMasker::mask(std::string_view text) const {
    auto patterns = snapshot();
    std::string out;
    out.reserve(text.size());
    patterns->matcher.mask_into(out, text, kMask, false);
    return out;
}

nlohmann::json SecretMasker::mask_strings(const nlohmann::json& value) const {
    // Without recursion (a document may be deep): each container is rebuilt once its members are.
    struct Pending {
        const nlohmann::json* in;
        nlohmann::json* out;
    };
    nlohmann::json result;
    std::vector<Pending> pending{{&value, &result}};
    while (!pending.empty()) {
        const Pending next = pending.back();
        pending.pop_back();
        if (next.in->is_string()) {
            *next.out = mask(next.in->get_ref<const std::string&>());
        } else if (next.in->is_object()) {
            *next.out = nlohmann::json::object();
            // Two keys may mask to the same text: the later one keeps its value under a numbered key.
            std::vector<std::pair<std::string, const nlohmann::json*>> members;
            for (auto it = next.in->begin(); it != next.in->end(); ++it) {
                std::string key = mask(it.key());
                for (int n = 2; next.out->contains(key); ++n) key = fmt::format("{} ({})", mask(it.key()), n);
                (*next.out)[key] = nullptr;
                members.emplace_back(std::move(key), &it.value());
            }
            for (const auto& [key, member] : members) pending.push_back({member, &(*next.out)[key]});
        } else if (next.in->is_array()) {
            *next.out = nlohmann::json::array();
            for (std::size_t i = 0; i < next.in->size(); ++i) next.out->push_back(nullptr);
            for (std::size_t i = 0; i < next.in->size(); ++i) pending.push_back({&(*next.in)[i], &(*next.out)[i]});
        } else {
            *next.out = *next.in;
        }
    }
    return result;
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
    return snapshot()->form_count;
}

std::size_t SecretMasker::left_out_count() const {
    return snapshot()->left_out;
}

std::size_t SecretMasker::longest_secret() const {
    return snapshot()->matcher.longest();
}

std::string StreamMasker::write(std::string_view chunk) {
    pending_.append(chunk);
    auto patterns = masker_.snapshot();
    std::string out;
    out.reserve(pending_.size());
    // Held back: only what may still turn out to be the start of a secret.
    pending_.erase(0, patterns->matcher.mask_into(out, pending_, kMask, true));
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
