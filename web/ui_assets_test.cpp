#include "web/ui_assets.h"

#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "tests/web/api_fixture.h"

namespace mayaflow {
namespace {

using testing::ApiFixture;
using testing::check_problem;

const EmbeddedUiAsset* embedded(std::string_view path) {
    for (const auto& asset : embedded_ui_assets()) {
        if (asset.path == path) return &asset;
    }
    return nullptr;
}

std::string read_source(const std::string& relative) {
    std::ifstream in(std::string(MAYAFLOW_SOURCE_DIR) + "/web/ui/" + relative, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_CASE("the build embeds web/ui's files byte for byte, with its content type and an ETag", "[web]") {
    for (const std::string path : {"index.html", "css/app.css", "favicon.svg"}) {
        INFO(path);
        const auto* asset = embedded(path);
        REQUIRE(asset != nullptr);
        CHECK(asset->body == read_source(path));
        CHECK(asset->etag.size() > 10);
        CHECK(asset->etag.front() == '"');
        CHECK(asset->etag.back() == '"');
        CHECK(asset->content_type == ui_content_type(path));
    }
    CHECK(embedded("index.html")->content_type == "text/html; charset=utf-8");
    CHECK(embedded("css/app.css")->content_type == "text/css; charset=utf-8");
    CHECK(embedded("favicon.svg")->content_type == "image/svg+xml");
}

TEST_CASE("the UI's JavaScript is embedded as one bundle: js/app.js with every module and page in it", "[web]") {
    const auto* bundle = embedded("js/app.js");
    REQUIRE(bundle != nullptr);
    CHECK(bundle->content_type == "text/javascript; charset=utf-8");
    CHECK(bundle->etag != embedded("index.html")->etag);
    // Nothing left to fetch: no import statement and no import() (every page is in the file).
    CHECK(bundle->body.find("import(") == std::string::npos);
    CHECK(bundle->body.find("from\"./") == std::string::npos);
    CHECK(bundle->body.find("from \"./") == std::string::npos);
    // A string of each module's own, from the shell to the last page.
    for (const std::string marker : {"mayaflow/session",          // app.js
                                     "X-Requested-With",          // api.js
                                     "mayaflow/dagSummaries",     // pages/dags.js
                                     "mayaflow/standins",         // app.js
                                     "BroadcastChannel",          // live_shared.js
                                     "/graph",                    // pages/dag.js
                                     "Runs by state",             // pages/dags.js
                                     "connections/export",        // pages/connections.js
                                     "mayaflow/cost"}) {          // pages/cost.js
        INFO(marker);
        CHECK(bundle->body.find(marker) != std::string::npos);
    }
    for (const auto& asset : embedded_ui_assets()) {
        INFO(asset.path);
        CHECK((asset.path == "js/app.js" || !asset.path.ends_with(".js")));
    }
}

TEST_CASE("/ and /home are the UI's page and need no sign-in; /ui/ serves its files", "[web]") {
    ApiFixture fixture;
    for (const std::string target : {"/", "/home"}) {
        INFO(target);
        auto page = fixture.call("GET", target);
        CHECK(page.status == 200);
        CHECK(page.content_type == "text/html; charset=utf-8");
        CHECK(page.body == read_source("index.html"));
        CHECK(page.headers["ETag"] == embedded("index.html")->etag);
        CHECK(page.headers["Cache-Control"] == "no-cache");
        CHECK_THAT(page.headers["Content-Security-Policy"], Catch::Contains("default-src 'self'"));
    }
    auto script = fixture.call("GET", "/ui/js/app.js");
    CHECK(script.status == 200);
    CHECK(script.content_type == "text/javascript; charset=utf-8");
    CHECK(script.body == embedded("js/app.js")->body);
    // The modules are in the bundle, not served one by one.
    check_problem(fixture.call("GET", "/ui/js/pages/login.js"), 404, "Not Found");
    CHECK(fixture.call("GET", "/ui/css/app.css").content_type == "text/css; charset=utf-8");
    CHECK(fixture.call("HEAD", "/ui/css/app.css").status == 200);

    // The routes are open to anyone: no credentials are asked for.
    for (const auto& route : fixture.router->routes().routes()) {
        if (route.pattern == "/" || route.pattern == "/home" || route.pattern.starts_with("/ui/")) {
            INFO(route.pattern);
            CHECK(route.access.resource == Resource::anyone);
        }
    }
}

TEST_CASE("a UI file asked with its ETag in If-None-Match is 304 without a body", "[web]") {
    ApiFixture fixture;
    auto first = fixture.call("GET", "/ui/css/app.css");
    REQUIRE(first.status == 200);
    const std::string etag = first.headers["ETag"];
    for (const std::string& header : std::vector<std::string>{etag, "W/" + etag, "\"other\", " + etag, "*"}) {
        INFO(header);
        auto again = fixture.call("GET", "/ui/css/app.css", "", {{"if-none-match", header}});
        CHECK(again.status == 304);
        CHECK(again.body.empty());
        CHECK(again.headers["ETag"] == etag);
    }
    auto changed = fixture.call("GET", "/ui/css/app.css", "", {{"if-none-match", "\"something-else\""}});
    CHECK(changed.status == 200);
    CHECK(changed.body == first.body);
    // Another file's ETag does not match this one.
    auto other = fixture.call("GET", "/ui/js/app.js", "", {{"if-none-match", etag}});
    CHECK(other.status == 200);
}

TEST_CASE("an unknown UI file is a 404 problem, and no path leaves the UI's files", "[web]") {
    ApiFixture fixture;
    check_problem(fixture.call("GET", "/ui/js/nothing.js"), 404, "Not Found");
    check_problem(fixture.call("GET", "/ui/nothing"), 404, "Not Found");
    for (const std::string target : {"/ui/../CMakeLists.txt", "/ui/%2e%2e/CMakeLists.txt", "/ui/js/..%2f..%2fapi_router.cpp",
                                     "/ui/%2e%2e%2f%2e%2e%2fCMakeLists.txt", "/ui/js/%2e%2e/index.html",
                                     "/ui/..%5cindex.html", "/ui/.hidden", "/ui/js/app.js%00.txt", "/ui/%2fetc%2fpasswd"}) {
        INFO(target);
        auto response = fixture.call("GET", target);
        CHECK(response.status == 404);
        CHECK(response.body.find("mayaflow") == std::string::npos);  // no file's text, only the problem
    }
}

TEST_CASE("UiAssets refuses unsafe segments and reads a development folder when given one", "[web]") {
    auto folder = std::filesystem::temp_directory_path() / ("mayaflow-ui-dir-" + std::to_string(::getpid()));
    std::filesystem::remove_all(folder);
    std::filesystem::create_directories(folder / "js");
    std::ofstream(folder / "index.html") << "<p>dev</p>";
    std::ofstream(folder / "js" / "app.js") << "export const x = 1;";
    std::ofstream(folder.parent_path() / "mayaflow-ui-secret.txt") << "secret";
    std::filesystem::create_symlink(folder.parent_path() / "mayaflow-ui-secret.txt", folder / "link.txt");

    UiAssets dev(folder);
    auto page = dev.find({"index.html"});
    REQUIRE(page);
    CHECK(page->body == "<p>dev</p>");
    CHECK(page->content_type == "text/html; charset=utf-8");
    auto script = dev.find({"js", "app.js"});
    REQUIRE(script);
    CHECK(script->content_type == "text/javascript; charset=utf-8");
    auto before = script->etag;
    std::ofstream(folder / "js" / "app.js") << "export const x = 2;";
    CHECK(dev.find({"js", "app.js"})->etag != before);  // an edit is seen at the next request

    CHECK_FALSE(dev.find({"link.txt"}));  // a symlink out of the folder
    CHECK_FALSE(dev.find({"..", "mayaflow-ui-secret.txt"}));
    CHECK_FALSE(dev.find({"js", "..", "..", "mayaflow-ui-secret.txt"}));
    CHECK_FALSE(dev.find({"../mayaflow-ui-secret.txt"}));
    CHECK_FALSE(dev.find({std::string("index.html\0x", 12)}));
    CHECK_FALSE(dev.find({""}));
    CHECK_FALSE(dev.find({}));
    CHECK_FALSE(dev.find({"js"}));  // a folder is not a file

    UiAssets embedded_files;
    CHECK(embedded_files.find({"index.html"}));
    CHECK_FALSE(embedded_files.find({".", "index.html"}));
    CHECK_FALSE(embedded_files.find({"js", "..", "index.html"}));
    std::filesystem::remove_all(folder);
    std::filesystem::remove(folder.parent_path() / "mayaflow-ui-secret.txt");
}

TEST_CASE("MAYAFLOW_UI_DIR makes the daemon serve the UI from that folder", "[web]") {
    auto folder = std::filesystem::temp_directory_path() / ("mayaflow-ui-env-" + std::to_string(::getpid()));
    std::filesystem::remove_all(folder);
    std::filesystem::create_directories(folder);
    std::ofstream(folder / "index.html") << "<p>from the folder</p>";
    ::setenv("MAYAFLOW_UI_DIR", folder.c_str(), 1);
    ApiFixture fixture;
    ::unsetenv("MAYAFLOW_UI_DIR");
    auto page = fixture.call("GET", "/");
    CHECK(page.status == 200);
    CHECK(page.body == "<p>from the folder</p>");
    check_problem(fixture.call("GET", "/ui/js/app.js"), 404, "Not Found");
    std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace mayaflow
