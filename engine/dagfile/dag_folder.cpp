#include "engine/dagfile/dag_folder.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow {
namespace {

namespace fs = std::filesystem;

// Whether some part of `relative` names a hidden (".x") or shared ("_x") file or folder.
bool has_hidden_or_shared_part(std::string_view relative) {
    size_t start = 0;
    while (start < relative.size()) {
        size_t end = relative.find('/', start);
        if (end == std::string_view::npos) end = relative.size();
        if (end > start && (relative[start] == '.' || relative[start] == '_')) return true;
        start = end + 1;
    }
    return false;
}

bool has_dag_file_extension(std::string_view name) { return name.ends_with(".yaml") || name.ends_with(".yml"); }

std::string describe(const fs::path& path, const std::error_code& ec) {
    return fmt::format("{}: {}", escape_invalid_utf8(path.string()), ec.message());
}

// `path` relative to `folder`, when it lies inside it ("" for the folder itself).
std::optional<std::string> relative_inside(const fs::path& folder, const fs::path& path) {
    std::string base = folder.string();
    std::string text = path.string();
    while (base.size() > 1 && base.back() == '/') base.pop_back();
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    if (text == base) return std::string();
    if (!text.starts_with(base) || text.size() <= base.size() || (base != "/" && text[base.size()] != '/')) {
        return std::nullopt;
    }
    return text.substr(base == "/" ? 1 : base.size() + 1);
}

}  // namespace

DagFileRules DagFileRules::read(const fs::path& folder) {
    DagFileRules rules;
    std::ifstream in(folder / kIgnoreFile);
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty() || line.front() == '#') continue;
        rules.ignore_patterns_.push_back(line);
    }
    return rules;
}

bool DagFileRules::ignored(std::string_view relative) const {
    for (const auto& pattern : ignore_patterns_) {
        if (glob_match(pattern, relative)) return true;
        // A pattern naming a folder ignores everything below it.
        std::string folder_pattern = pattern;
        if (!folder_pattern.empty() && folder_pattern.back() == '/') folder_pattern.pop_back();
        if (glob_match(folder_pattern + "/*", relative)) return true;
    }
    return false;
}

bool DagFileRules::skips_folder(std::string_view relative) const {
    return has_hidden_or_shared_part(relative) || ignored(relative);
}

bool DagFileRules::is_dag_file(std::string_view relative) const {
    return has_dag_file_extension(relative) && !has_hidden_or_shared_part(relative) && !ignored(relative);
}

namespace {

std::string describe_type(fs::file_type type) {
    switch (type) {
        case fs::file_type::fifo: return "a FIFO";
        case fs::file_type::socket: return "a socket";
        case fs::file_type::block:
        case fs::file_type::character: return "a device";
        case fs::file_type::not_found: return "a link to nothing";
        default: return "something else";
    }
}

}  // namespace

Result<DagFolderListing> list_dag_folder(const fs::path& folder, const DagFileRules& rules, const fs::path& subfolder,
                                         const std::function<void(const fs::path&)>& before_reading) {
    const fs::path& start = subfolder.empty() ? folder : subfolder;
    auto start_relative = relative_inside(folder, start);
    if (!start_relative) {
        return make_error("{} is not inside the DAG folder {}", escape_invalid_utf8(start.string()),
                          escape_invalid_utf8(folder.string()));
    }
    DagFolderListing listing;
    if (!start_relative->empty() && rules.skips_folder(*start_relative)) return listing;

    // One folder open at a time (a stack of paths, not of open iterators): the walk needs a single
    // descriptor however deep the tree is.
    std::vector<std::pair<fs::path, std::string>> pending{{start, *start_relative}};
    bool is_start = true;
    for (; !pending.empty(); is_start = false) {
        auto [directory, relative] = std::move(pending.back());
        pending.pop_back();
        if (before_reading) before_reading(directory);
        std::error_code ec;
        fs::directory_iterator it(directory, ec);
        std::vector<std::pair<fs::path, std::string>> subfolders;
        std::vector<fs::path> files;
        for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
            const auto& path = it->path();
            std::string name = path.filename().string();
            std::string entry_relative = relative.empty() ? name : relative + "/" + name;
            std::error_code type_ec;
            auto type = it->symlink_status(type_ec).type();
            if (type == fs::file_type::directory) {
                if (!rules.skips_folder(entry_relative)) subfolders.emplace_back(path, std::move(entry_relative));
                continue;
            }
            if (!rules.is_dag_file(entry_relative)) continue;
            if (type == fs::file_type::symlink) type = it->status(type_ec).type();  // a link to a file counts
            if (type == fs::file_type::regular) {
                files.push_back(path);
            } else {
                const std::string what = type_ec && type != fs::file_type::not_found
                                             ? fmt::format("a link that cannot be followed ({})", type_ec.message())
                                             : describe_type(type);
                listing.skipped.push_back(fmt::format("{} is {}, not a file: it is not read",
                                                      escape_invalid_utf8(path.string()), what));
            }
        }
        if (ec) {
            if (is_start) {
                return make_error("cannot read the DAG folder {}", describe(directory, ec));
            }
            listing.unreadable.push_back(directory);
            listing.problems.push_back(fmt::format("cannot read the folder {}", describe(directory, ec)));
            continue;
        }
        listing.folders.push_back(directory);
        listing.files.insert(listing.files.end(), files.begin(), files.end());
        for (auto& subfolder_entry : subfolders) pending.push_back(std::move(subfolder_entry));
    }
    std::sort(listing.files.begin(), listing.files.end());
    return listing;
}

Result<DagFolderListing> list_dag_folder(const fs::path& folder) {
    return list_dag_folder(folder, DagFileRules::read(folder));
}

std::vector<fs::path> list_dag_files(const fs::path& folder) {
    auto listing = list_dag_folder(folder);
    return listing ? std::move(listing->files) : std::vector<fs::path>{};
}

std::vector<FolderLoadResult> load_dag_folder(const fs::path& folder, const DagLoadOptions& options) {
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
