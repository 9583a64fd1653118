#include "engine/dagfile/field_reader.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "engine/time/duration_text.h"
#include "engine/util/text.h"

namespace mayaflow {
namespace {

constexpr size_t kMaxIncludeBytes = 4 * 1024 * 1024;
constexpr size_t kMaxConvertedNodes = 200'000;  // guards against alias bombs
constexpr int kMaxDepth = 64;

const char* kind_of(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Null: return "nothing";
        case YAML::NodeType::Scalar: return "a value";
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Map: return "a mapping";
        default: return "an undefined value";
    }
}

std::string shown(const YAML::Node& node) {
    if (node.IsScalar()) return quote_for_message(node.Scalar());
    return kind_of(node);
}

bool parse_integer(const std::string& text, long long& out) {
    std::string_view digits = text;
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return ec == std::errc() && end == digits.data() + digits.size() && !digits.empty();
}

}  // namespace

nlohmann::json plain_scalar_to_json(const std::string& text) {
    static const std::regex kNull("^(~|null|Null|NULL|)$");
    static const std::regex kTrue("^(true|True|TRUE)$");
    static const std::regex kFalse("^(false|False|FALSE)$");
    static const std::regex kInt("^[-+]?[0-9]+$");
    static const std::regex kHex("^0x[0-9a-fA-F]+$");
    static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
    if (std::regex_match(text, kNull)) return nullptr;
    if (std::regex_match(text, kTrue)) return true;
    if (std::regex_match(text, kFalse)) return false;
    if (std::regex_match(text, kInt)) {
        long long value = 0;
        if (parse_integer(text, value)) return value;
        return text;  // too large for 64 bits: keep the digits
    }
    if (std::regex_match(text, kHex)) {
        long long value = 0;
        auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), value, 16);
        if (ec == std::errc() && end == text.data() + text.size()) return value;
        return text;
    }
    if (std::regex_match(text, kFloat)) {
        try {
            return std::stod(text);
        } catch (const std::exception&) {
            return text;
        }
    }
    if (text == ".inf" || text == "+.inf" || text == ".Inf") return std::numeric_limits<double>::infinity();
    if (text == "-.inf" || text == "-.Inf") return -std::numeric_limits<double>::infinity();
    return text;
}

FieldReader::FieldReader(std::filesystem::path file, std::filesystem::path include_root,
                         std::vector<LoadError>& errors)
    : file_(std::move(file)), include_root_(std::move(include_root)), errors_(errors) {
    base_dir_ = file_.parent_path();
    if (include_root_.empty()) include_root_ = base_dir_;
}

SourceLocation FieldReader::where(const YAML::Node& node) const {
    SourceLocation location{file_.string(), 0, 0};
    if (node.IsDefined()) {
        auto mark = node.Mark();
        if (mark.line >= 0) {
            location.line = mark.line + 1;
            location.column = mark.column + 1;
        }
    }
    return location;
}

void FieldReader::error(const YAML::Node& node, std::string field, std::string message) {
    error(where(node), std::move(field), std::move(message));
}

void FieldReader::error(SourceLocation location, std::string field, std::string message) {
    errors_.push_back(LoadError{std::move(location), std::move(field), std::move(message)});
}

std::vector<YamlEntry> FieldReader::entries(const YAML::Node& map, const std::string& field) {
    std::vector<YamlEntry> result;
    if (!map.IsMap()) {
        error(map, field, fmt::format("expected a mapping of names to values, got {}", shown(map)));
        return result;
    }
    std::set<std::string> seen;
    std::vector<YAML::Node> merges;
    for (auto it = map.begin(); it != map.end(); ++it) {
        if (!it->first.IsScalar()) {
            error(it->first, field, "keys must be plain names, not lists or mappings");
            continue;
        }
        std::string key = it->first.Scalar();
        if (key == "<<" && is_plain(it->first)) {
            merges.push_back(it->second);
            continue;
        }
        if (!seen.insert(key).second) {
            error(it->first, field.empty() ? key : field + "." + key,
                  fmt::format("duplicate key '{}': each key may appear once", key));
            continue;
        }
        YAML::Node value = it->second;
        result.push_back(YamlEntry{key, it->first, value});
    }
    // Merge keys (<<: *defaults): entries the mapping does not set itself.
    for (const auto& merge : merges) {
        std::vector<YAML::Node> sources;
        if (merge.IsSequence()) {
            for (const auto& item : merge) sources.push_back(item);
        } else {
            sources.push_back(merge);
        }
        for (const auto& source : sources) {
            if (!source.IsMap()) {
                error(source, field, "'<<' must merge a mapping (or a list of mappings)");
                continue;
            }
            for (auto it = source.begin(); it != source.end(); ++it) {
                if (!it->first.IsScalar()) continue;
                std::string key = it->first.Scalar();
                if (seen.insert(key).second) result.push_back(YamlEntry{key, it->first, it->second});
            }
        }
    }
    return result;
}

std::optional<std::string> FieldReader::string(const YAML::Node& node, const std::string& field) {
    if (!node.IsScalar()) {
        error(node, field, fmt::format("expected a string, got {}", kind_of(node)));
        return std::nullopt;
    }
    return node.Scalar();
}

std::optional<long long> FieldReader::integer(const YAML::Node& node, const std::string& field, long long min,
                                              long long max) {
    long long value = 0;
    if (!node.IsScalar() || !parse_integer(node.Scalar(), value)) {
        error(node, field, fmt::format("expected a whole number, got {}", shown(node)));
        return std::nullopt;
    }
    if (value < min || value > max) {
        error(node, field, fmt::format("{} is out of range: it must be between {} and {}", value, min, max));
        return std::nullopt;
    }
    return value;
}

std::optional<bool> FieldReader::boolean(const YAML::Node& node, const std::string& field) {
    if (node.IsScalar()) {
        auto value = plain_scalar_to_json(node.Scalar());
        if (value.is_boolean()) return value.get<bool>();
        const auto& text = node.Scalar();
        if (text == "yes" || text == "on") return true;
        if (text == "no" || text == "off") return false;
    }
    error(node, field, fmt::format("expected true or false, got {}", shown(node)));
    return std::nullopt;
}

std::optional<Duration> FieldReader::duration(const YAML::Node& node, const std::string& field) {
    if (!node.IsScalar()) {
        error(node, field, fmt::format("expected a duration such as 90s, 5m or 1h30m, got {}", kind_of(node)));
        return std::nullopt;
    }
    auto parsed = parse_duration(node.Scalar());
    if (!parsed) {
        error(node, field, parsed.error().message);
        return std::nullopt;
    }
    return *parsed;
}

std::optional<std::vector<std::string>> FieldReader::string_list(const YAML::Node& node,
                                                                 const std::string& field) {
    std::vector<std::string> items;
    if (node.IsNull()) return items;
    if (node.IsScalar()) {
        items.push_back(node.Scalar());
        return items;
    }
    if (!node.IsSequence()) {
        error(node, field, fmt::format("expected a list of strings, got {}", kind_of(node)));
        return std::nullopt;
    }
    bool ok = true;
    for (size_t i = 0; i < node.size(); ++i) {
        if (!node[i].IsScalar()) {
            error(node[i], fmt::format("{}[{}]", field, i), fmt::format("expected a string, got {}", kind_of(node[i])));
            ok = false;
            continue;
        }
        items.push_back(node[i].Scalar());
    }
    if (!ok) return std::nullopt;
    return items;
}

std::optional<nlohmann::json> FieldReader::json(const YAML::Node& node, const std::string& field) {
    nodes_converted_ = 0;
    return convert(node, field, 0);
}

std::optional<nlohmann::json> FieldReader::convert(const YAML::Node& node, const std::string& field, int depth) {
    if (++nodes_converted_ > kMaxConvertedNodes) {
        if (nodes_converted_ == kMaxConvertedNodes + 1) {
            error(node, field, fmt::format("value is too large: more than {} items (are aliases nested?)",
                                           kMaxConvertedNodes));
        }
        return std::nullopt;
    }
    if (depth > kMaxDepth) {
        error(node, field, fmt::format("value is nested too deeply (more than {} levels)", kMaxDepth));
        return std::nullopt;
    }
    const std::string& tag = node.Tag();
    if (tag == "!include") return include_as_json(node, field);
    switch (node.Type()) {
        case YAML::NodeType::Null: return nlohmann::json(nullptr);
        case YAML::NodeType::Scalar: {
            if (is_plain(node)) return plain_scalar_to_json(node.Scalar());
            if (tag == "!" || tag == "tag:yaml.org,2002:str") return nlohmann::json(node.Scalar());
            if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
                tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
                return plain_scalar_to_json(node.Scalar());
            }
            error(node, field, fmt::format("unsupported tag '{}': mayaflow knows !include and the standard tags", tag));
            return std::nullopt;
        }
        case YAML::NodeType::Sequence: {
            auto array = nlohmann::json::array();
            bool ok = true;
            for (size_t i = 0; i < node.size(); ++i) {
                auto item = convert(node[i], fmt::format("{}[{}]", field, i), depth + 1);
                if (!item) {
                    ok = false;
                    continue;
                }
                array.push_back(std::move(*item));
            }
            if (!ok) return std::nullopt;
            return array;
        }
        case YAML::NodeType::Map: {
            auto object = nlohmann::json::object();
            bool ok = true;
            for (auto& entry : entries(node, field)) {
                auto value = convert(entry.value, field.empty() ? entry.key : field + "." + entry.key, depth + 1);
                if (!value) {
                    ok = false;
                    continue;
                }
                object[entry.key] = std::move(*value);
            }
            if (!ok) return std::nullopt;
            return object;
        }
        default: return nlohmann::json(nullptr);
    }
}

std::optional<nlohmann::json> FieldReader::include_as_json(const YAML::Node& node, const std::string& field) {
    if (!node.IsScalar() || node.Scalar().empty()) {
        error(node, field, "!include takes a file name, e.g. !include tables.json");
        return std::nullopt;
    }
    std::string path = node.Scalar();
    auto text = read_include(path, where(node), field);
    if (!text) return std::nullopt;
    std::string extension = std::filesystem::path(path).extension().string();
    if (extension == ".json") {
        auto parsed = nlohmann::json::parse(*text, nullptr, false);
        if (parsed.is_discarded()) {
            error(node, field, fmt::format("included file '{}' is not valid JSON", path));
            return std::nullopt;
        }
        return parsed;
    }
    if (extension == ".yaml" || extension == ".yml") {
        try {
            YAML::Node included = YAML::Load(*text);
            return convert(included, field, 1);
        } catch (const YAML::Exception& e) {
            error(node, field, fmt::format("included file '{}' is not valid YAML: line {}: {}", path,
                                           e.mark.line + 1, e.msg));
            return std::nullopt;
        }
    }
    return nlohmann::json(*text);
}

std::optional<std::string> FieldReader::read_include(const std::string& relative_path, SourceLocation location,
                                                     const std::string& field) {
    namespace fs = std::filesystem;
    fs::path requested(relative_path);
    if (requested.is_absolute()) {
        error(location, field, fmt::format("include '{}' must be a path relative to the DAG file", relative_path));
        return std::nullopt;
    }
    std::error_code ec;
    fs::path resolved = fs::weakly_canonical(base_dir_ / requested, ec);
    fs::path root = fs::weakly_canonical(include_root_, ec);
    auto [root_end, unused] = std::mismatch(root.begin(), root.end(), resolved.begin(), resolved.end());
    (void)unused;
    if (root_end != root.end()) {
        error(location, field,
              fmt::format("include '{}' is outside the DAG folder {}; keep included files inside it",
                          relative_path, root.string()));
        return std::nullopt;
    }
    if (!fs::is_regular_file(resolved, ec)) {
        error(location, field,
              fmt::format("cannot read include file '{}': {} does not exist or is not a file", relative_path,
                          resolved.string()));
        return std::nullopt;
    }
    auto size = fs::file_size(resolved, ec);
    if (ec || size > kMaxIncludeBytes) {
        error(location, field,
              fmt::format("include file '{}' is too large ({} bytes; the limit is {})", relative_path, size,
                          kMaxIncludeBytes));
        return std::nullopt;
    }
    std::ifstream in(resolved, std::ios::binary);
    if (!in) {
        error(location, field, fmt::format("cannot read include file '{}': permission denied?", relative_path));
        return std::nullopt;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    included_.push_back(resolved.string());
    std::string text = buffer.str();
    included_hash_.add(resolved.string());
    included_hash_.add(text);
    return text;
}

}  // namespace mayaflow
