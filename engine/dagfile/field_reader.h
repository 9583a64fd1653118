#pragma once
// FieldReader reads typed values out of a parsed YAML document and records a LoadError, with the
// file, line, column and field path, for every value that is not what it should be. It also
// resolves merge keys (<<), rejects duplicate keys, and loads `!include` files relative to the DAG
// file without letting a path escape the DAG folder.

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/dagfile/load_error.h"
#include "engine/time/instant.h"
#include "engine/util/hash.h"

namespace mayaflow {

struct YamlEntry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
    bool inherited = false;  // comes from default_args rather than the task itself
};

class FieldReader {
  public:
    FieldReader(std::filesystem::path file, std::filesystem::path include_root, std::vector<LoadError>& errors);

    const std::filesystem::path& file() const { return file_; }
    SourceLocation where(const YAML::Node& node) const;
    void error(const YAML::Node& node, std::string field, std::string message);
    void error(SourceLocation where, std::string field, std::string message);
    size_t error_count() const { return errors_.size(); }

    // A mapping's entries in order, with `<<` merges applied (explicit keys win) and duplicate
    // keys reported. A null value takes its key's location.
    std::vector<YamlEntry> entries(const YAML::Node& map, const std::string& field);

    std::optional<std::string> string(const YAML::Node& node, const std::string& field);
    std::optional<long long> integer(const YAML::Node& node, const std::string& field, long long min,
                                     long long max);
    std::optional<bool> boolean(const YAML::Node& node, const std::string& field);
    std::optional<Duration> duration(const YAML::Node& node, const std::string& field);
    // A list of strings; a single string counts as a list of one.
    std::optional<std::vector<std::string>> string_list(const YAML::Node& node, const std::string& field);
    // Any YAML value as JSON, with YAML 1.2 core-schema typing of plain scalars (quoted ones stay
    // strings) and `!include` resolved (.json/.yaml/.yml files as data, others as text).
    std::optional<nlohmann::json> json(const YAML::Node& node, const std::string& field);

    // The text of a file named relative to the DAG file; records an error and returns nullopt when
    // it is missing, unreadable, too big or outside the DAG folder.
    std::optional<std::string> read_include(const std::string& relative_path, SourceLocation where,
                                            const std::string& field);
    // Every file read through read_include, for the DAG's source hash.
    const std::vector<std::string>& included_files() const { return included_; }
    // A hash of every included file's path and text.
    const ContentHash& included_hash() const { return included_hash_; }

    static bool is_plain(const YAML::Node& node) { return node.Tag() == "?"; }

  private:
    std::optional<nlohmann::json> convert(const YAML::Node& node, const std::string& field, int depth);
    std::optional<nlohmann::json> include_as_json(const YAML::Node& node, const std::string& field);

    std::filesystem::path file_;
    std::filesystem::path base_dir_;
    std::filesystem::path include_root_;
    std::vector<LoadError>& errors_;
    std::vector<std::string> included_;
    ContentHash included_hash_;
    size_t nodes_converted_ = 0;
};

// YAML 1.2 core schema for a plain scalar: null, bool, int, float, or the string itself.
nlohmann::json plain_scalar_to_json(const std::string& text);

}  // namespace mayaflow
