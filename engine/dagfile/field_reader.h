#pragma once
// FieldReader reads typed values out of a parsed YAML document and records a LoadError, with the
// file, line, column and field path, for every value that is not what it should be. It also
// resolves merge keys (<<), rejects duplicate keys, and loads `!include` files relative to the DAG
// file without letting a path escape the DAG folder or a file include itself. It keeps a file's
// errors few and short (kMaxErrorsPerFile, kMaxMessageBytes) and counts the rest.

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/dagfile/include_files.h"
#include "engine/dagfile/load_error.h"
#include "engine/dagfile/load_limits.h"
#include "engine/dagfile/plain_scalar.h"
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
    FieldReader(std::filesystem::path file, std::filesystem::path include_root, std::vector<LoadError>& errors,
                std::vector<LoadError>& warnings);

    const std::filesystem::path& file() const { return file_; }
    // Where a node is: in the DAG file, or in the included file being read when the node is one of its.
    SourceLocation where(const YAML::Node& node) const;
    void error(const YAML::Node& node, std::string field, std::string message);
    void error(SourceLocation where, std::string field, std::string message);
    // Every error found so far, listed or not.
    size_t error_count() const { return error_count_; }
    // True while errors are still listed: costly hints (did you mean ...) are only worth it then.
    bool listing_errors() const { return errors_.size() < kMaxErrorsPerFile; }
    // True once a file has many more errors than are listed: loops that make many tasks stop early.
    bool error_limit_reached() const { return error_count_ >= kErrorsBeforeGivingUp; }
    // A warning: the DAG loads, but something in it will probably not do what its author meant.
    void warn(SourceLocation where, std::string field, std::string message);
    // Adds the "... and N more errors" line when errors were left out; call once, at the end.
    void finish();

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
    // it is missing, unreadable, too big, not UTF-8 or outside the DAG folder. Each file is read once.
    std::optional<std::string> read_include(const std::string& relative_path, SourceLocation where,
                                            const std::string& field);
    // Every file the DAG file included (or tried to: a file refused for its content is listed too, so
    // that fixing it reloads the DAG), for the DAG processor to watch.
    const std::vector<std::string>& included_files() const { return includes_.paths(); }
    // A hash of every included file's path and text.
    const ContentHash& included_hash() const { return includes_.hash(); }

    static bool is_plain(const YAML::Node& node) { return node.Tag() == "?"; }
    // No tag, or one of YAML's own (`!!str`, a quoted scalar's `!`).
    static bool has_standard_tag(const YAML::Node& node);
    // True when `node` carries no tag mayaflow would have to act on; otherwise reports that a tag
    // (`!include` included) cannot be used for `field`, which is read as structure.
    bool untagged(const YAML::Node& node, const std::string& field);
    // The text of a scalar field: as written, or the included file's text (or its data when that is
    // a string, number or boolean) for `!include FILE`. Other tags and lists or mappings are errors
    // that say `expected` was wanted.
    std::optional<std::string> scalar_text(const YAML::Node& node, const std::string& field, std::string_view expected);

  private:
    // The first kMaxErrorsPerFile errors are listed; after a few times that many, there is no point
    // in looking for more.
    static constexpr size_t kErrorsBeforeGivingUp = 4 * kMaxErrorsPerFile;

    // Counts `count` more YAML nodes turned into values; false (with an error, said once) when that
    // is more than a value or the DAG may hold.
    bool charge_nodes(size_t count, const YAML::Node& node, const std::string& field);
    bool over_node_budget() const;
    std::optional<nlohmann::json> convert(const YAML::Node& node, const std::string& field, int depth);
    std::optional<nlohmann::json> include_as_json(const YAML::Node& node, const std::string& field, int depth);
    std::optional<nlohmann::json> parse_included_data(IncludedFile& file, const YAML::Node& node,
                                                      const std::string& field, int depth);
    std::string include_chain(const std::string& next) const;

    std::filesystem::path file_;
    std::vector<LoadError>& errors_;
    std::vector<LoadError>& warnings_;
    size_t error_count_ = 0;  // every error, listed or not, repeated or not
    size_t warnings_left_out_ = 0;
    std::set<std::string> warnings_seen_;
    // A listed error's place and message, and its index in errors_: the same error again (each task
    // a for_each makes from one line, or each use of an anchor) adds to its count, not to the list.
    std::map<std::string, size_t> errors_listed_;
    std::map<size_t, size_t> error_repeats_;  // index in errors_ -> times it came again
    IncludeFiles includes_;
    // The files whose data is being read, outermost (the DAG file) first: for locations, cycles and
    // the include depth.
    struct Reading {
        std::string canonical_path;
        std::string shown_path;  // as locations show it
    };
    std::vector<Reading> reading_;
    size_t nodes_in_value_ = 0;
    size_t nodes_in_dag_ = 0;
};

}  // namespace mayaflow
