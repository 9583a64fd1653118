#include "engine/dagfile/include_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "engine/dagfile/load_limits.h"
#include "engine/dagfile/text_encoding.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow {
namespace {

// A file name as written in the DAG file, for messages: quoted, short, valid UTF-8.
std::string named(std::string_view relative_path) {
    return "'" + shorten_message(relative_path, 200) + "'";
}

bool is_inside(const std::filesystem::path& root, const std::filesystem::path& path) {
    auto [root_end, unused] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
    (void)unused;
    return root_end == root.end();
}

}  // namespace

Result<std::string> read_file_at_most(const std::filesystem::path& file, std::size_t max_bytes) {
    std::error_code ec;
    auto size = std::filesystem::file_size(file, ec);
    if (ec) return make_error("cannot read the file: {}", ec.message());
    if (size > max_bytes) return make_error("the file is {} bytes; the limit is {} bytes", size, max_bytes);
    std::ifstream in(file, std::ios::binary);
    if (!in) return make_error("cannot open the file for reading (permission denied?)");
    std::string text(static_cast<std::size_t>(size) + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) return make_error("cannot read the file: input error");
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > size)
        return make_error("the file grew while it was being read; the limit is {} bytes", max_bytes);
    return text;
}

IncludeFiles::IncludeFiles(std::filesystem::path base_dir, std::filesystem::path root)
    : base_dir_(base_dir.empty() ? std::filesystem::path(".") : std::move(base_dir)) {
    // A DAG file named without a folder ("x.yaml") has an empty parent: that is the current folder,
    // and an empty root must not let every path through.
    if (root.empty()) root = ".";
    std::error_code ec;
    root_ = std::filesystem::weakly_canonical(root, ec);
    if (ec || root_.empty()) root_ = std::filesystem::absolute(root, ec).lexically_normal();
}

Result<IncludedFile*> IncludeFiles::read(std::string_view relative_path) {
    namespace fs = std::filesystem;
    fs::path requested{std::string(relative_path)};
    if (requested.is_absolute()) {
        return make_error("include {} must be a path relative to the DAG file", named(relative_path));
    }
    std::error_code ec;
    fs::path resolved = fs::weakly_canonical(base_dir_ / requested, ec);
    if (ec) return make_error("cannot read include file {}: {}", named(relative_path), ec.message());
    if (!is_inside(root_, resolved)) {
        return make_error("include {} is outside the DAG folder {}; keep included files inside it",
                          named(relative_path), escape_invalid_utf8(root_.string()));
    }
    const std::string key = resolved.string();
    if (auto found = files_.find(key); found != files_.end()) return found->second.get();
    if (auto refused = refused_.find(key); refused != refused_.end()) {
        return make_error("include file {} {}", named(relative_path), refused->second.message);
    }
    return load(resolved, relative_path);
}

Result<IncludedFile*> IncludeFiles::load(const std::filesystem::path& resolved,
                                         std::string_view relative_path) {
    namespace fs = std::filesystem;
    const std::string key = resolved.string();
    const std::string shown_path = escape_invalid_utf8(key);
    std::error_code ec;
    if (!fs::is_regular_file(resolved, ec)) {
        return make_error("cannot read include file {}: {} does not exist or is not a file",
                          named(relative_path), shown_path);
    }
    paths_.push_back(key);
    auto refuse = [&](std::string reason) -> Error {
        Error error{fmt::format("include file {} {}", named(relative_path), reason)};
        refused_.emplace(key, Error{std::move(reason)});
        return error;
    };
    auto size = fs::file_size(resolved, ec);
    if (ec) return refuse(fmt::format("cannot be read: {}", ec.message()));
    if (size > kMaxIncludeFileBytes) {
        return refuse(fmt::format("is too large ({} bytes; the limit is {})", size, kMaxIncludeFileBytes));
    }
    if (bytes_read_ + size > kMaxIncludedBytesPerDag) {
        return refuse(
            fmt::format("would bring the files this DAG includes to {} bytes; the limit is {} bytes "
                        "in all",
                        bytes_read_ + size, kMaxIncludedBytesPerDag));
    }
    auto text = read_file_at_most(resolved, kMaxIncludeFileBytes);
    if (!text) return refuse(fmt::format("cannot be read: {}", text.error().message));
    if (auto bad = find_non_utf8(*text)) {
        return refuse(fmt::format("is not UTF-8: {}:{}:{} has {}; save it as UTF-8", shown_path, bad->line,
                                  bad->column, describe(*bad)));
    }
    bytes_read_ += text->size();
    hash_.add(key);
    hash_.add(*text);
    auto file = std::make_unique<IncludedFile>();
    file->path = key;
    file->text = std::move(*text);
    IncludedFile* pointer = file.get();
    files_.emplace(key, std::move(file));
    return pointer;
}

}  // namespace mayaflow
