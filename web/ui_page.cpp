#include "web/ui_page.h"

#include <fmt/format.h>

namespace mayaflow {

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string render_index_page(const std::vector<DagRecord>& dags, const std::vector<ImportErrorRecord>& errors) {
    std::string html = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mayaflow</title>
<meta http-equiv="refresh" content="5">
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2433}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #dde}
.errors{background:#fff0f0;border:1px solid #e99;padding:1rem;margin-bottom:1.5rem}
pre{white-space:pre-wrap;margin:.3rem 0 .8rem}
</style></head><body>
<h1>mayaflow</h1>
)";
    if (!errors.empty()) {
        html += fmt::format("<section class=\"errors\" id=\"import-errors\"><h2>Broken DAG files ({})</h2>\n", errors.size());
        for (const auto& error : errors) {
            html += fmt::format("<div><strong>{}</strong><pre>{}</pre></div>\n", html_escape(error.filename),
                                html_escape(error.stack_trace));
        }
        html += "</section>\n";
    }
    html += fmt::format("<h2>DAGs ({})</h2>\n<table id=\"dags\"><thead><tr><th>DAG</th><th>Schedule</th><th>Owner</th>"
                        "<th>Tags</th><th>Paused</th><th>File</th></tr></thead><tbody>\n",
                        dags.size());
    for (const auto& dag : dags) {
        std::string tags;
        for (const auto& tag : dag.tags) tags += (tags.empty() ? "" : ", ") + tag;
        html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                            html_escape(dag.dag_id), html_escape(dag.schedule.value_or("manual only")),
                            html_escape(dag.owners), html_escape(tags), dag.is_paused ? "yes" : "no",
                            html_escape(dag.fileloc));
    }
    html += "</tbody></table>\n<p>The full UI (runs, grid, graph, logs) is on its way; the REST API lives under "
            "<a href=\"/api/v1/dags\">/api/v1</a>.</p>\n</body></html>\n";
    return html;
}

}  // namespace mayaflow
