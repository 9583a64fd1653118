#include "web/ui_assets.h"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "web/api/task_files.h"

namespace mayaflow {
namespace {

bool ends_with_lower(std::string_view text, std::string_view suffix) {
    if (text.size() < suffix.size()) return false;
    auto tail = text.substr(text.size() - suffix.size());
    for (std::size_t i = 0; i < suffix.size(); ++i) {
        char c = tail[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != suffix[i]) return false;
    }
    return true;
}

bool safe_segment(const std::string& segment) {
    if (segment.empty() || segment.front() == '.') return false;  // ".", "..", hidden files
    return segment.find_first_of(std::string_view("/\\\0", 3)) == std::string::npos;
}

// FNV-1a, 64 bits: an ETag for a file read from the development folder (the embedded files carry
// a SHA-256 prefix computed at build time).
std::string content_etag(std::string_view body) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (unsigned char c : body) {
        hash ^= c;
        hash *= 1099511628211ULL;
    }
    return fmt::format("\"dev-{:016x}-{}\"", hash, body.size());
}

// Whether an If-None-Match header value names `etag` (a list, weak or strong, or "*").
bool matches_etag(std::string_view header, std::string_view etag) {
    std::size_t start = 0;
    while (start <= header.size()) {
        auto comma = header.find(',', start);
        auto item = header.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (item.starts_with("W/")) item.remove_prefix(2);
        if (item == "*" || item == etag) return true;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return false;
}

}  // namespace

std::string_view ui_content_type(std::string_view path) {
    if (ends_with_lower(path, ".html") || ends_with_lower(path, ".htm")) return "text/html; charset=utf-8";
    if (ends_with_lower(path, ".js") || ends_with_lower(path, ".mjs")) return "text/javascript; charset=utf-8";
    if (ends_with_lower(path, ".css")) return "text/css; charset=utf-8";
    if (ends_with_lower(path, ".svg")) return "image/svg+xml";
    if (ends_with_lower(path, ".png")) return "image/png";
    if (ends_with_lower(path, ".ico")) return "image/x-icon";
    if (ends_with_lower(path, ".json")) return "application/json";
    if (ends_with_lower(path, ".woff2")) return "font/woff2";
    if (ends_with_lower(path, ".txt") || ends_with_lower(path, ".md")) return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

UiAssets::UiAssets(std::filesystem::path folder) : folder_(std::move(folder)) {}

UiAssets UiAssets::from_environment() {
    const char* folder = std::getenv("MAYAFLOW_UI_DIR");
    if (folder == nullptr || *folder == '\0') return UiAssets();
    std::fprintf(stderr, "mayaflow: serving the web UI from MAYAFLOW_UI_DIR=%s, not the embedded files\n", folder);
    return UiAssets(folder);
}

std::optional<UiAsset> UiAssets::find(const std::vector<std::string>& segments) const {
    if (segments.empty()) return std::nullopt;
    std::string path;
    for (const auto& segment : segments) {
        if (!safe_segment(segment)) return std::nullopt;
        path += (path.empty() ? "" : "/") + segment;
    }
    if (folder_.empty()) {
        for (const auto& asset : embedded_ui_assets()) {
            if (asset.path == path) {
                return UiAsset{std::string(asset.content_type), std::string(asset.etag), std::string(asset.body)};
            }
        }
        return std::nullopt;
    }
    auto opening = open_file_inside(folder_, folder_ / path);
    if (opening.outcome != FileOpening::Outcome::opened) return std::nullopt;
    auto body = opening.file->read(0, opening.file->size());
    if (!body) return std::nullopt;
    return UiAsset{std::string(ui_content_type(path)), content_etag(*body), std::move(*body)};
}

WebResponse ui_asset_response(const UiAsset& asset, const WebRequest& request) {
    WebResponse response;
    response.headers["ETag"] = asset.etag;
    response.headers["Cache-Control"] = "no-cache";
    auto if_none_match = request.headers.find("if-none-match");
    if (if_none_match != request.headers.end() && matches_etag(if_none_match->second, asset.etag)) {
        response.status = 304;
        response.content_type.clear();
        return response;
    }
    response.content_type = asset.content_type;
    response.body = asset.body;
    return response;
}

}  // namespace mayaflow
