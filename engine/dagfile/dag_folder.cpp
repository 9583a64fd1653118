#include "engine/dagfile/dag_folder.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "engine/util/text.h"

namespace mayaflow {
namespace {

std::vector<std::string> read_ignore_patterns(const std::filesystem::path& folder) {
    std::vector<std::string> patterns;
    std::ifstream in(folder / ".mayaflowignore");
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty() || line.front() == '#') continue;
        patterns.push_back(line);
    }
    return patterns;
}

bool ignored(const std::string& relative, const std::vector<std::string>& patterns) {
    for (const auto& pattern : patterns) {
        if (glob_match(pattern, relative)) return true;
        // A pattern naming a folder ignores everything below it.
        std::string folder_pattern = pattern;
        if (!folder_pattern.empty() && folder_pattern.back() == '/') folder_pattern.pop_back();
        if (glob_match(folder_pattern + "/*", relative)) return true;
    }
    return false;
}

}  // namespace

std::vector<std::filesystem::path> list_dag_files(const std::filesystem::path& folder) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    std::error_code ec;
    auto patterns = read_ignore_patterns(folder);
    fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const auto& path = it->path();
        std::string name = path.filename().string();
        if (name.starts_with(".") || name.starts_with("_")) {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        std::string relative = fs::relative(path, folder, ec).generic_string();
        if (ignored(relative, patterns)) {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file(ec)) continue;
        auto extension = path.extension().string();
        if (extension == ".yaml" || extension == ".yml") files.push_back(path);
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<FolderLoadResult> load_dag_folder(const std::filesystem::path& folder, const DagLoadOptions& options) {
    std::vector<FolderLoadResult> results;
    std::map<std::string, std::string> owner_of_id;
    for (const auto& file : list_dag_files(folder)) {
        FolderLoadResult loaded{file, load_dag_file(file, options)};
        if (loaded.result.dag) {
            const auto& id = loaded.result.dag->dag_id;
            auto [it, inserted] = owner_of_id.emplace(id, file.string());
            if (!inserted) {
                loaded.result.errors.push_back(
                    LoadError{SourceLocation{file.string(), 1, 1}, "dag_id",
                              fmt::format("dag_id '{}' is already defined in {}; dag_ids must be unique", id, it->second)});
                loaded.result.dag.reset();
            }
        }
        results.push_back(std::move(loaded));
    }
    return results;
}

}  // namespace mayaflow
