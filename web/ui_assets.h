#pragma once
// The web UI's files (web/ui/: index.html, css/, js/), embedded into the binary at build time by
// cmake/EmbedUi.cmake and served without sign-in (they hold no data: every page asks the API). For
// development, MAYAFLOW_UI_DIR=<folder> serves the files from that folder instead, read at each
// request, so an edited script needs no rebuild.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "web/http_types.h"

namespace mayaflow {

// One file as the build embedded it; `etag` is quoted, ready for the ETag header.
struct EmbeddedUiAsset {
    std::string_view path;  // relative to web/ui/, with '/': "js/app.js"
    std::string_view content_type;
    std::string_view etag;
    std::string_view body;
};

// Generated from web/ui/ (cmake/EmbedUi.cmake), sorted by path.
const std::vector<EmbeddedUiAsset>& embedded_ui_assets();

// The content type a UI file is served with, from its name's extension (the same table as
// cmake/EmbedUi.cmake's).
std::string_view ui_content_type(std::string_view path);

struct UiAsset {
    std::string content_type;
    std::string etag;  // quoted
    std::string body;
};

// UiAssets finds the UI's files: the embedded ones, or those of a folder given for development.
class UiAssets {
  public:
    // `folder` empty: the embedded files.
    explicit UiAssets(std::filesystem::path folder = {});
    // From MAYAFLOW_UI_DIR when it is set and not empty, else the embedded files.
    static UiAssets from_environment();

    // `segments` is the asset's path below /ui/, split at '/' and percent-decoded. Nothing is found
    // for a segment that is empty, "." or "..", starts with '.', or holds '/', '\' or a NUL byte, so
    // no path leaves the UI's folder.
    std::optional<UiAsset> find(const std::vector<std::string>& segments) const;

    const std::filesystem::path& folder() const { return folder_; }

  private:
    std::filesystem::path folder_;
};

// The answer for an asset: 200 with ETag and `Cache-Control: no-cache` (the browser revalidates,
// so a new build is seen at once and an unchanged file costs a 304), or 304 when the request's
// If-None-Match holds the asset's ETag (or is `*`).
WebResponse ui_asset_response(const UiAsset& asset, const WebRequest& request);

}  // namespace mayaflow
