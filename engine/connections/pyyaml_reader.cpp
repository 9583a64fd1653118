#include "engine/connections/pyyaml_reader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <regex>
#include <string>
#include <unordered_map>
#include <vector>

#include <limits>
#include <map>
#include <mutex>

namespace mayaflow::pyyaml {
namespace {

// A plain scalar longer than this is text: no YAML 1.1 null, bool or number a connection file holds
// is that long, and std::regex recurses once per character it matches (a long run of digits would
// exhaust the stack).
constexpr std::size_t kLongestTypedScalar = 64;

// Each pattern compiled once (compiling one costs more than matching it).
bool matches(const std::string& text, const char* pattern) {
    static std::mutex mutex;
    static std::map<const char*, std::regex> compiled;
    const std::regex* regex;
    {
        std::lock_guard lock(mutex);
        auto found = compiled.find(pattern);
        if (found == compiled.end()) found = compiled.emplace(pattern, std::regex(pattern)).first;
        regex = &found->second;
    }
    return std::regex_match(text, *regex);
}

// YAML 1.1 int: 0b…, 0x…, 0… (octal), decimal, with '_' separators (sexagesimal is left as text).
std::optional<pyjson::Json> as_int(std::string text) {
    if (!matches(text, "[-+]?(?:0b[0-1_]+|0[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+)")) return std::nullopt;
    text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
    bool negative = text[0] == '-';
    if (text[0] == '-' || text[0] == '+') text.erase(0, 1);
    int base = 10;
    if (text.starts_with("0b"))
        base = 2, text.erase(0, 2);
    else if (text.starts_with("0x"))
        base = 16, text.erase(0, 2);
    else if (text.size() > 1 && text[0] == '0')
        base = 8, text.erase(0, 1);
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return pyjson::Json(negative ? -value : value);
}

std::optional<pyjson::Json> as_float(std::string text) {
    if (matches(text, "[-+]?\\.(?:inf|Inf|INF)")) {
        return pyjson::Json(text[0] == '-' ? -std::numeric_limits<double>::infinity()
                                           : std::numeric_limits<double>::infinity());
    }
    if (matches(text, "\\.(?:nan|NaN|NAN)")) return pyjson::Json(std::numeric_limits<double>::quiet_NaN());
    if (!matches(text,
                 "[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?")) {
        return std::nullopt;
    }
    text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
    try {
        return pyjson::Json(std::stod(text));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

pyjson::Json plain_scalar(const std::string& text) {
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
    if (text.size() > kLongestTypedScalar) return text;
    if (matches(text, "yes|Yes|YES|true|True|TRUE|on|On|ON")) return true;
    if (matches(text, "no|No|NO|false|False|FALSE|off|Off|OFF")) return false;
    if (auto number = as_int(text)) return *number;
    if (auto number = as_float(text)) return *number;
    return text;  // timestamps and sexagesimal numbers stay text: connection fields are text
}

// What one document may expand to. An alias is the node it names, not a copy, so a few lines
// (aliases of aliases, "billion laughs") can stand for more values than memory holds, and an alias
// inside its own anchor for an endless value: the conversion stops at these bounds instead.
constexpr std::size_t kMaxValues = 1'000'000;
constexpr std::size_t kMaxTextBytes = std::size_t{64} << 20;

// YAML nodes into JSON values without recursion on the values' depth (only complex keys recurse,
// each one level deeper), counting what the aliases expand to.
class JsonBuilder {
  public:
    Result<pyjson::Json> build(const YAML::Node& root, int depth = 0) {
        pyjson::Json result;
        struct Pending {
            YAML::Node node;
            pyjson::Json* target;
            int depth;  // how many arrays and objects hold it
        };
        std::vector<Pending> pending{{root, &result, depth}};
        while (!pending.empty()) {
            Pending next = std::move(pending.back());
            pending.pop_back();
            if (++values_ > kMaxValues) {
                return make_error(
                    "the document expands to more than {} values (through its aliases); mayaflow "
                    "reads at most that many",
                    kMaxValues);
            }
            const YAML::NodeType::value type = next.node.Type();
            if (type == YAML::NodeType::Scalar) {
                if (Status counted = count_text(next.node.Scalar().size()); !counted) return counted.error();
                *next.target = next.node.Tag() == "?" ? plain_scalar(next.node.Scalar())
                                                      : pyjson::Json(next.node.Scalar());
                continue;
            }
            if (type != YAML::NodeType::Sequence && type != YAML::NodeType::Map) {
                *next.target = nullptr;
                continue;
            }
            if (next.depth + 1 > pyjson::kMaxNesting) {
                return make_error(
                    "line {}: the document nests deeper than {} levels (or an alias refers to a node "
                    "that holds it); mayaflow reads at most {} levels",
                    next.node.Mark().line + 1, pyjson::kMaxNesting, pyjson::kMaxNesting);
            }
            // The container gets all its members first: pointers to them stay valid once it stops growing.
            std::vector<YAML::Node> members;
            if (type == YAML::NodeType::Sequence) {
                *next.target = pyjson::Json::array();
                for (const auto& item : next.node) {
                    next.target->push_back(nullptr);
                    members.push_back(item);
                }
                for (std::size_t i = 0; i < members.size(); ++i)
                    pending.push_back({members[i], &(*next.target)[i], next.depth + 1});
                continue;
            }
            *next.target = pyjson::Json::object();
            std::vector<std::string> keys;
            std::unordered_map<std::string, std::size_t> place;
            for (const auto& item : next.node) {
                auto key = build(item.first, next.depth + 1);
                if (!key) return key.error();
                std::string name = key->is_string() ? key->get<std::string>() : pyjson::dumps(*key);
                // As PyYAML: a key given twice keeps its first place and its last value.
                if (auto known = place.find(name); known != place.end()) {
                    members[known->second] = item.second;
                    continue;
                }
                place.emplace(name, keys.size());
                keys.push_back(std::move(name));
                members.push_back(item.second);
            }
            for (const auto& key : keys) (*next.target)[key] = nullptr;
            for (std::size_t i = 0; i < keys.size(); ++i)
                pending.push_back({members[i], &(*next.target)[keys[i]], next.depth + 1});
        }
        return result;
    }

  private:
    Status count_text(std::size_t bytes) {
        text_bytes_ += bytes;
        if (text_bytes_ > kMaxTextBytes) {
            return make_error(
                "the document expands to more than {} MiB of text (through its aliases); mayaflow "
                "reads at most that much",
                kMaxTextBytes >> 20);
        }
        return Status::success();
    }

    std::size_t values_ = 0;
    std::size_t text_bytes_ = 0;
};

}  // namespace

Result<std::vector<pyjson::KeyPlace>> top_level_keys(std::string_view text) {
    try {
        const YAML::Node root = YAML::Load(std::string(text));
        std::vector<pyjson::KeyPlace> keys;
        if (!root.IsMap()) return keys;
        JsonBuilder builder;
        for (const auto& item : root) {
            auto key = builder.build(item.first, 1);
            if (!key) return key.error();
            keys.push_back({key->is_string() ? key->get<std::string>() : pyjson::dumps(*key),
                            static_cast<std::size_t>(item.first.Mark().line + 1)});
        }
        return keys;
    } catch (const YAML::Exception& e) {
        return make_error("line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg);
    }
}

Result<pyjson::Json> safe_load(std::string_view text) {
    try {
        return JsonBuilder().build(YAML::Load(std::string(text)));
    } catch (const YAML::DeepRecursion& e) {
        return make_error(
            "line {}, column {}: the document nests deeper than {} levels; mayaflow reads at most {}",
            e.mark.line + 1, e.mark.column + 1, pyjson::kMaxNesting, pyjson::kMaxNesting);
    } catch (const YAML::Exception& e) {
        return make_error("line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg);
    }
}

}  // namespace mayaflow::pyyaml
