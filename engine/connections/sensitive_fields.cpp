#include "engine/connections/sensitive_fields.h"

#include <deque>
#include <string>
#include <vector>

#include "engine/connections/connection.h"
#include "engine/connections/python_url.h"

namespace mayaflow {
namespace {

constexpr int kMaxDepth = 5;

std::string_view trim(std::string_view text) {
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    auto first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// How a value is rewritten: as Airflow's redact() walks (sensitive keys looked for), as its
// _redact_all() (every string "***"), or copied as it is (past the depth redact() walks).
enum class Rewrite { redact, redact_all, copy };

}  // namespace

bool is_sensitive_name(std::string_view name) {
    std::string lowered = pyurl::python_lower(trim(name));
    for (auto word : kSensitiveFieldWords) {
        if (lowered.find(word) != std::string::npos) return true;
    }
    return false;
}

pyjson::Json redact_sensitive_fields(const pyjson::Json& value) {
    // Without recursion, copies included (nlohmann's copy recurses): what is past the five levels
    // redact() looks at is still copied, and may be of any depth.
    pyjson::Json result;
    struct Pending {
        const pyjson::Json* in;
        pyjson::Json* out;
        std::string_view name;
        int depth;
        Rewrite rewrite;
    };
    std::vector<Pending> pending{{&value, &result, {}, 0, Rewrite::redact}};
    while (!pending.empty()) {
        Pending next = pending.back();
        pending.pop_back();
        Rewrite rewrite = next.rewrite;
        if (rewrite == Rewrite::redact && next.depth > kMaxDepth) rewrite = Rewrite::copy;
        if (rewrite == Rewrite::redact && !next.name.empty() && is_sensitive_name(next.name))
            rewrite = Rewrite::redact_all;
        if (rewrite == Rewrite::redact_all && (next.depth > kMaxDepth || next.in->is_string())) {
            *next.out = "***";
            continue;
        }
        if (next.in->is_object()) {
            *next.out = pyjson::Json::object();
            for (auto it = next.in->begin(); it != next.in->end(); ++it) (*next.out)[it.key()] = nullptr;
            // Members first, then their addresses: the object no longer grows.
            for (auto it = next.in->begin(); it != next.in->end(); ++it)
                pending.push_back({&it.value(), &(*next.out)[it.key()], it.key(), next.depth + 1, rewrite});
        } else if (next.in->is_array()) {
            *next.out = pyjson::Json::array();
            for (std::size_t i = 0; i < next.in->size(); ++i) next.out->push_back(nullptr);
            for (std::size_t i = 0; i < next.in->size(); ++i)
                pending.push_back({&(*next.in)[i], &(*next.out)[i], {}, next.depth + 1, rewrite});
        } else {
            *next.out = *next.in;
        }
    }
    return result;
}

namespace {

// Text that may be a JSON object or array (only such text is worth parsing to look inside).
bool looks_like_json_container(std::string_view text) {
    text = trim(text);
    return text.starts_with('{') || text.starts_with('[');
}

}  // namespace

void collect_secrets(const pyjson::Json& value, std::string_view name, std::vector<std::string>& secrets) {
    // Without recursion: the depth of what comes in is bounded, but this walk need not rely on it.
    std::deque<pyjson::Json> inside_strings;  // JSON found in strings (a deque: its items never move)
    std::deque<std::string> inside_names;
    std::vector<std::pair<const pyjson::Json*, std::string_view>> pending{{&value, name}};
    while (!pending.empty()) {
        auto [node, key] = pending.back();
        pending.pop_back();
        const bool sensitive = !key.empty() && is_sensitive_name(key);
        if (node->is_object()) {
            for (auto it = node->begin(); it != node->end(); ++it)
                pending.emplace_back(&it.value(), it.key());
        } else if (node->is_array()) {
            for (const auto& item : *node) pending.emplace_back(&item, key);
        } else if (node->is_string()) {
            const auto& text = node->get_ref<const std::string&>();
            if (key.empty() || sensitive) secrets.push_back(text);
            if (sensitive && looks_like_json_container(text)) {
                if (auto inside = pyjson::loads(text); inside && inside->is_structured()) {
                    inside_strings.push_back(std::move(*inside));
                    inside_names.emplace_back(key);
                    pending.emplace_back(&inside_strings.back(), inside_names.back());
                }
            }
        } else if (node->is_number() && sensitive) {
            std::string text = pyjson::dumps(*node);
            if (text.size() >= kMinMaskedNumberLength) secrets.push_back(std::move(text));
        }
    }
}

Status collect_connection_secrets(const Connection& connection, std::vector<std::string>& secrets) {
    if (connection.password) secrets.push_back(*connection.password);
    if (!connection.extra || connection.extra->empty()) return Status::success();
    if (Status shallow = pyjson::check_nesting(*connection.extra); !shallow) {
        return make_error("the extra of connection '{}' cannot be read to mask its values: {}",
                          connection.conn_id, shallow.error().message);
    }
    auto extra = connection.parse_extra();
    if (extra.value.is_object()) {
        for (auto it = extra.value.begin(); it != extra.value.end(); ++it)
            collect_secrets(it.value(), it.key(), secrets);
    }
    return Status::success();
}

Status collect_variable_secrets(std::string_view key, std::string_view value,
                                std::vector<std::string>& secrets) {
    if (is_sensitive_name(key)) secrets.emplace_back(value);
    if (!looks_like_json_container(value)) return Status::success();
    if (Status shallow = pyjson::check_nesting(value); !shallow) {
        return make_error("variable '{}' cannot be read to mask the values it holds: {}", key,
                          shallow.error().message);
    }
    if (auto parsed = pyjson::loads(value); parsed && parsed->is_structured())
        collect_secrets(*parsed, key, secrets);
    return Status::success();
}

}  // namespace mayaflow
