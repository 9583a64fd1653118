#pragma once
// What the loader's attack tests share: a small operator catalog, a scratch DAG folder, and the
// checks every hostile file must pass (the load fails, with few and short errors in UTF-8).

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/dagfile/dag_loader.h"
#include "engine/util/utf8.h"

namespace mayaflow::test {

// `bash` (a templated command that may name a .sh file, a templated env, an integer count) and `empty`.
class HostileTestCatalog : public OperatorCatalog {
  public:
    HostileTestCatalog() {
        OperatorSpec shell;
        shell.name = "bash";
        shell.params = {
            ParamSpec{.name = "bash_command",
                      .type = ParamType::string,
                      .required = true,
                      .templated = true,
                      .template_ext = {".sh"}},
            ParamSpec{.name = "env", .type = ParamType::string_map, .templated = true},
            ParamSpec{.name = "count", .type = ParamType::integer},
            ParamSpec{.name = "label", .type = ParamType::string},
        };
        specs_.push_back(shell);
        OperatorSpec empty;
        empty.name = "empty";
        specs_.push_back(empty);
    }
    const OperatorSpec* find(std::string_view name) const override {
        for (const auto& spec : specs_) {
            if (spec.name == name) return &spec;
        }
        return nullptr;
    }
    std::vector<std::string> names() const override { return {"bash", "empty"}; }

  private:
    std::vector<OperatorSpec> specs_;
};

inline const OperatorCatalog& hostile_catalog() {
    static HostileTestCatalog instance;
    return instance;
}

// A fresh folder under the system's temporary folder, removed when the test ends.
class ScratchFolder {
  public:
    explicit ScratchFolder(const std::string& name) : path_(std::filesystem::temp_directory_path() / name) {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~ScratchFolder() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path write(const std::string& name, const std::string& text) const {
        auto file = path_ / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << text;
        return file;
    }
    DagLoadResult load(const std::string& name) const {
        return load_dag_file(path_ / name, DagLoadOptions{&hostile_catalog(), path_});
    }

  private:
    std::filesystem::path path_;
};

inline DagLoadResult load_text(const std::string& yaml, const std::string& name = "hostile.yaml") {
    return load_dag_text(yaml, std::filesystem::path("/tmp/mayaflow-hostile") / name,
                         DagLoadOptions{&hostile_catalog(), "/tmp/mayaflow-hostile"});
}

// A hostile file fails to load with few, short errors in UTF-8, one of which says `expected`.
inline void check_refused(const DagLoadResult& result, const std::string& expected) {
    std::string text = format_errors(result.errors);
    INFO(text.substr(0, 2000));
    CHECK_FALSE(result.dag.has_value());
    CHECK_FALSE(result.errors.empty());
    CHECK(result.errors.size() <= kMaxErrorsPerFile + 1);
    CHECK(is_valid_utf8(text));
    for (const auto& error : result.errors) CHECK(error.to_string().size() < 2 * kMaxMessageBytes);
    CHECK_THAT(text, Catch::Contains(expected));
}

}  // namespace mayaflow::test
