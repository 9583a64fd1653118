#include "engine/dagfile/field_reader.h"

#include <fmt/format.h>

#include <charconv>

#include "engine/time/duration_text.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow {
namespace {

constexpr size_t kMaxFieldBytes = 200;

const char* kind_of(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Null: return "nothing";
        case YAML::NodeType::Scalar: return "a value";
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Map: return "a mapping";
        default: return "an undefined value";
    }
}

std::string shown_json(const nlohmann::json& value) { return shorten_message(dump_json(value), 60); }

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

// The deepest nesting of [ and { in JSON text, outside strings; nlohmann's parser does not recurse,
// but printing and destroying a value do, so depth is checked before parsing.
size_t json_nesting(std::string_view text) {
    size_t depth = 0;
    size_t deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

// The number of values in a JSON value, itself included; iterative, as the value may be large.
size_t count_nodes(const nlohmann::json& value) {
    size_t count = 0;
    std::vector<const nlohmann::json*> pending{&value};
    while (!pending.empty()) {
        const nlohmann::json* next = pending.back();
        pending.pop_back();
        ++count;
        if (next->is_structured()) {
            for (const auto& item : *next) pending.push_back(&item);
        }
    }
    return count;
}

std::string canonical_or_absolute(const std::filesystem::path& file) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(file, ec);
    if (!ec) return canonical.string();
    return std::filesystem::absolute(file, ec).lexically_normal().string();
}

}  // namespace

FieldReader::FieldReader(std::filesystem::path file, std::filesystem::path include_root,
                         std::vector<LoadError>& errors, std::vector<LoadError>& warnings)
    : file_(std::move(file)),
      errors_(errors),
      warnings_(warnings),
      includes_(file_.parent_path(), include_root.empty() ? file_.parent_path() : include_root) {
    reading_.push_back(Reading{canonical_or_absolute(file_), file_.string()});
}

SourceLocation FieldReader::where(const YAML::Node& node) const {
    SourceLocation location{reading_.back().shown_path, 0, 0};
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

// Where an error or warning is and what it says, without the field: the tasks a for_each makes from
// one line have fields of their own ("tasks[1] (app=...).sql") but the same fault.
static std::string repeat_key(const LoadError& said) {
    return fmt::format("{}:{}:{}:{}", said.where.line, said.where.column, said.where.file, said.message);
}

void FieldReader::error(SourceLocation location, std::string field, std::string message) {
    ++error_count_;
    LoadError said{std::move(location), shorten_message(field, kMaxFieldBytes), shorten_message(message, kMaxMessageBytes)};
    std::string key = repeat_key(said);
    if (auto listed = errors_listed_.find(key); listed != errors_listed_.end()) {
        ++error_repeats_[listed->second];
        return;
    }
    if (errors_.size() >= kMaxErrorsPerFile) return;
    errors_listed_.emplace(std::move(key), errors_.size());
    errors_.push_back(std::move(said));
}

void FieldReader::warn(SourceLocation location, std::string field, std::string message) {
    LoadError warning{std::move(location), shorten_message(field, kMaxFieldBytes),
                      shorten_message(message, kMaxMessageBytes)};
    // A for_each makes the same warning once per task: say it once.
    std::string key = repeat_key(warning);
    if (warnings_seen_.count(key)) return;
    if (warnings_.size() >= kMaxErrorsPerFile) {
        ++warnings_left_out_;
        return;
    }
    warnings_seen_.insert(std::move(key));
    warnings_.push_back(std::move(warning));
}

void FieldReader::finish() {
    size_t folded = 0;  // repeats of listed errors: counted, not listed
    for (const auto& [index, times] : error_repeats_) {
        errors_[index].message += fmt::format(" (and {} more time{}, for other tasks made from this line)", times,
                                              times == 1 ? "" : "s");
        folded += times;
    }
    if (error_count_ > errors_.size() + folded) {
        size_t more = error_count_ - errors_.size() - folded;
        std::string note = fmt::format("... and {} more error{} not listed (a file lists at most {}); fix these first",
                                       more, more == 1 ? "" : "s", kMaxErrorsPerFile);
        errors_.push_back(LoadError{SourceLocation{file_.string(), 0, 0}, "", std::move(note)});
    } else if (error_limit_reached()) {
        // Every error it met is listed (the same ones folded), but it stopped looking for more.
        errors_.push_back(LoadError{SourceLocation{file_.string(), 0, 0}, "",
                                    fmt::format("... the loader stopped looking after {} errors; fix these first",
                                                error_count_)});
    }
    if (warnings_left_out_ > 0) {
        warnings_.push_back(LoadError{SourceLocation{file_.string(), 0, 0}, "",
                                      fmt::format("... and {} more warning{} not listed", warnings_left_out_,
                                                  warnings_left_out_ == 1 ? "" : "s")});
    }
}

std::vector<YamlEntry> FieldReader::entries(const YAML::Node& map, const std::string& field) {
    std::vector<YamlEntry> result;
    if (!untagged(map, field)) return result;
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
                  fmt::format("duplicate key {}: each key may appear once", quote_name(key)));
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
            // Aliases let a few lines merge the same large mapping many times over: count the keys.
            if (!charge_nodes(source.size(), source, field)) return result;
            for (auto it = source.begin(); it != source.end(); ++it) {
                if (!it->first.IsScalar()) continue;
                std::string key = it->first.Scalar();
                if (seen.insert(key).second) result.push_back(YamlEntry{key, it->first, it->second});
            }
        }
    }
    return result;
}

bool FieldReader::has_standard_tag(const YAML::Node& node) {
    const std::string& tag = node.Tag();
    if (tag.empty() || tag == "?" || tag == "!") return true;
    // YAML's core types; !!binary, !!timestamp, !!set and the like mean nothing to mayaflow.
    static const std::set<std::string, std::less<>> core = {"str", "int", "float", "bool", "null", "map", "seq"};
    constexpr std::string_view kYamlTags = "tag:yaml.org,2002:";
    return tag.starts_with(kYamlTags) && core.count(std::string_view(tag).substr(kYamlTags.size())) > 0;
}

bool FieldReader::untagged(const YAML::Node& node, const std::string& field) {
    if (has_standard_tag(node)) return true;
    if (node.Tag() == "!include") {
        error(node, field,
              fmt::format("!include cannot stand for '{}': it reads a value (a parameter, a for_each list, params, "
                          "a description) from a file; write '{}' in the DAG file itself",
                          field, field));
    } else {
        error(node, field,
              fmt::format("unsupported tag {}: mayaflow knows !include and the standard tags", quote_name(node.Tag())));
    }
    return false;
}

std::optional<std::string> FieldReader::scalar_text(const YAML::Node& node, const std::string& field,
                                                    std::string_view expected) {
    if (node.Tag() == "!include") {
        auto value = include_as_json(node, field, 0);
        if (!value) return std::nullopt;
        if (value->is_string()) return value->get<std::string>();
        if (value->is_number() || value->is_boolean()) return value->dump();
        error(node, field, fmt::format("expected {}, but the included file holds {}", expected, shown_json(*value)));
        return std::nullopt;
    }
    if (!untagged(node, field)) return std::nullopt;
    if (!node.IsScalar()) {
        error(node, field, fmt::format("expected {}, got {}", expected, kind_of(node)));
        return std::nullopt;
    }
    return node.Scalar();
}

std::optional<std::string> FieldReader::string(const YAML::Node& node, const std::string& field) {
    return scalar_text(node, field, "a string");
}

std::optional<long long> FieldReader::integer(const YAML::Node& node, const std::string& field, long long min,
                                              long long max) {
    auto text = scalar_text(node, field, "a whole number");
    if (!text) return std::nullopt;
    long long value = 0;
    if (!parse_integer(*text, value)) {
        error(node, field, fmt::format("expected a whole number, got {}", quote_for_message(*text)));
        return std::nullopt;
    }
    if (value < min || value > max) {
        error(node, field, fmt::format("{} is out of range: it must be between {} and {}", value, min, max));
        return std::nullopt;
    }
    return value;
}

std::optional<bool> FieldReader::boolean(const YAML::Node& node, const std::string& field) {
    auto text = scalar_text(node, field, "true or false");
    if (!text) return std::nullopt;
    auto value = plain_scalar_to_json(*text);
    if (value.is_boolean()) return value.get<bool>();
    if (*text == "yes" || *text == "on") return true;
    if (*text == "no" || *text == "off") return false;
    error(node, field, fmt::format("expected true or false, got {}", quote_for_message(*text)));
    return std::nullopt;
}

std::optional<Duration> FieldReader::duration(const YAML::Node& node, const std::string& field) {
    auto text = scalar_text(node, field, "a duration such as 90s, 5m or 1h30m");
    if (!text) return std::nullopt;
    auto parsed = parse_duration(*text);
    if (!parsed) {
        error(node, field, parsed.error().message);
        return std::nullopt;
    }
    return *parsed;
}

std::optional<std::vector<std::string>> FieldReader::string_list(const YAML::Node& node,
                                                                 const std::string& field) {
    std::vector<std::string> items;
    if (node.Tag() == "!include") {
        auto value = include_as_json(node, field, 0);
        if (!value) return std::nullopt;
        if (value->is_string()) value = nlohmann::json::array({*value});
        bool ok = value->is_array();
        for (size_t i = 0; ok && i < value->size(); ++i) {
            ok = (*value)[i].is_string();
            if (ok) items.push_back((*value)[i].get<std::string>());
        }
        if (ok) return items;
        error(node, field, fmt::format("expected a list of strings, but the included file holds {}", shown_json(*value)));
        return std::nullopt;
    }
    if (!untagged(node, field)) return std::nullopt;
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
        auto item = scalar_text(node[i], fmt::format("{}[{}]", field, i), "a string");
        if (!item) {
            ok = false;
            continue;
        }
        items.push_back(std::move(*item));
    }
    if (!ok) return std::nullopt;
    return items;
}

std::optional<nlohmann::json> FieldReader::json(const YAML::Node& node, const std::string& field) {
    nodes_in_value_ = 0;
    return convert(node, field, 0);
}

bool FieldReader::over_node_budget() const {
    return nodes_in_value_ > kMaxNodesPerValue || nodes_in_dag_ > kMaxNodesPerDag;
}

bool FieldReader::charge_nodes(size_t count, const YAML::Node& node, const std::string& field) {
    const bool was_over = over_node_budget();
    nodes_in_value_ += count;
    nodes_in_dag_ += count;
    if (!over_node_budget()) return true;
    if (was_over) return false;  // said once already
    if (nodes_in_value_ > kMaxNodesPerValue) {
        error(node, field,
              fmt::format("value is too large: more than {} items (are aliases nested?)", kMaxNodesPerValue));
    } else {
        error(node, field,
              fmt::format("the DAG's values are too large: more than {} items in all (does a for_each copy a "
                          "large value into many tasks?)",
                          kMaxNodesPerDag));
    }
    return false;
}

std::optional<nlohmann::json> FieldReader::convert(const YAML::Node& node, const std::string& field, int depth) {
    if (!charge_nodes(1, node, field)) return std::nullopt;
    if (depth > kMaxValueDepth) {
        error(node, field, fmt::format("value is nested too deeply (more than {} levels)", kMaxValueDepth));
        return std::nullopt;
    }
    const std::string& tag = node.Tag();
    if (tag == "!include") return include_as_json(node, field, depth);
    switch (node.Type()) {
        case YAML::NodeType::Null: return nlohmann::json(nullptr);
        case YAML::NodeType::Scalar: {
            if (is_plain(node)) return plain_scalar_to_json(node.Scalar());
            if (tag == "!" || tag == "tag:yaml.org,2002:str") return nlohmann::json(node.Scalar());
            if (tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
                tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
                return plain_scalar_to_json(node.Scalar());
            }
            error(node, field,
                  fmt::format("unsupported tag {}: mayaflow knows !include and the standard tags", quote_name(tag)));
            return std::nullopt;
        }
        case YAML::NodeType::Sequence: {
            auto array = nlohmann::json::array();
            bool ok = true;
            for (size_t i = 0; i < node.size(); ++i) {
                auto item = convert(node[i], fmt::format("{}[{}]", field, i), depth + 1);
                if (!item) {
                    ok = false;
                    if (over_node_budget()) break;
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
                    if (over_node_budget()) break;
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

std::string FieldReader::include_chain(const std::string& next) const {
    std::string chain;
    for (const auto& reading : reading_) chain += escape_invalid_utf8(reading.shown_path) + " -> ";
    return chain + escape_invalid_utf8(next);
}

std::optional<nlohmann::json> FieldReader::include_as_json(const YAML::Node& node, const std::string& field,
                                                           int depth) {
    if (!node.IsScalar() || node.Scalar().empty()) {
        error(node, field, "!include takes a file name, e.g. !include tables.json");
        return std::nullopt;
    }
    const std::string& path = node.Scalar();
    std::string extension = std::filesystem::path(path).extension().string();
    bool is_data = extension == ".json" || extension == ".yaml" || extension == ".yml";
    if (is_data && static_cast<int>(reading_.size()) > kMaxIncludeDepth) {
        error(node, field,
              fmt::format("includes are nested too deeply (more than {} files): {}", kMaxIncludeDepth,
                          include_chain(path)));
        return std::nullopt;
    }
    auto file = includes_.read(path);
    if (!file) {
        error(node, field, file.error().message);
        return std::nullopt;
    }
    if (!is_data) return nlohmann::json((*file)->text);
    for (const auto& reading : reading_) {
        if (reading.canonical_path == (*file)->path) {
            error(node, field, fmt::format("include cycle: {}; a file may not include itself, directly or through "
                                           "other files",
                                           include_chain((*file)->path)));
            return std::nullopt;
        }
    }
    return parse_included_data(**file, node, field, depth);
}

std::optional<nlohmann::json> FieldReader::parse_included_data(IncludedFile& file, const YAML::Node& node,
                                                               const std::string& field, int depth) {
    if (file.data) {
        // A copy costs what a conversion would have: a large file copied into many tasks stays bounded.
        if (!charge_nodes(file.data_nodes, node, field)) return std::nullopt;
        return file.data;
    }
    if (file.data_failed) {
        error(node, field, fmt::format("included file {} could not be read as data (see the error above)",
                                       quote_for_message(node.Scalar())));
        return std::nullopt;
    }
    const std::string& path = node.Scalar();
    std::optional<nlohmann::json> data;
    if (file.path.ends_with(".json")) {
        if (static_cast<size_t>(depth) + json_nesting(file.text) > static_cast<size_t>(kMaxValueDepth)) {
            error(node, field, fmt::format("included file {} is nested too deeply (more than {} levels)",
                                           quote_for_message(path), kMaxValueDepth));
        } else {
            auto parsed = nlohmann::json::parse(file.text, nullptr, false);
            if (parsed.is_discarded()) {
                error(node, field, fmt::format("included file {} is not valid JSON", quote_for_message(path)));
            } else if (charge_nodes(count_nodes(parsed), node, field)) {
                data = std::move(parsed);
            }
        }
    } else {
        YAML::Node included;
        bool parsed = false;
        try {
            included = YAML::Load(file.text);
            parsed = true;
        } catch (const YAML::Exception& e) {
            error(SourceLocation{escape_invalid_utf8(file.path), e.mark.line >= 0 ? e.mark.line + 1 : 0,
                                 e.mark.column >= 0 ? e.mark.column + 1 : 0},
                  field, fmt::format("included file {} is not valid YAML: {}", quote_for_message(path), e.msg));
        }
        if (parsed) {
            reading_.push_back(Reading{file.path, file.path});
            data = convert(included, field, depth + 1);
            reading_.pop_back();
        }
    }
    if (data) {
        file.data = data;
        file.data_nodes = count_nodes(*data);
    } else {
        file.data_failed = true;
    }
    return data;
}

std::optional<std::string> FieldReader::read_include(const std::string& relative_path, SourceLocation location,
                                                     const std::string& field) {
    auto file = includes_.read(relative_path);
    if (!file) {
        error(std::move(location), field, file.error().message);
        return std::nullopt;
    }
    return (*file)->text;
}

}  // namespace mayaflow
