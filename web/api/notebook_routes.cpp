// mayaflow's own: GET /mayaflow/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/notebook/{try}
// downloads the executed notebook of a `notebook` task's try — where the notebook operator wrote it
// (operators/notebook/notebook_operator.h: beside the try's log by default, else the task's
// output_nb) — with the same checks on the URL's ids as the log's (web/api/task_files.h).

#include <fmt/format.h>

#include <cctype>

#include "engine/model/dag_json.h"
#include "engine/model/log_path.h"
#include "engine/util/utf8.h"
#include "operators/notebook/notebook_operator.h"
#include "web/api/problem.h"
#include "web/api/routes.h"
#include "web/api/task_files.h"

namespace mayaflow {
namespace {

namespace fs = std::filesystem;

bool is_template(const std::string& text) {
    return text.find("{{") != std::string::npos || text.find("{%") != std::string::npos ||
           text.find("{#") != std::string::npos;
}

// A file name for Content-Disposition: the ids with anything but [A-Za-z0-9._-] as '_'.
std::string download_name(const TaskTry& found, const std::string& task_id) {
    std::string name = fmt::format("{}__{}__{}__attempt={}.ipynb", found.run.dag_id, found.run.run_id, task_id,
                                   found.try_number);
    for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_' && c != '=') c = '_';
    }
    return name;
}

WebResponse get_notebook(ApiContext& context, const ApiRequest& request) {
    auto found_or = find_task_try(context, request);
    if (failed(found_or)) return std::get<WebResponse>(found_or);
    const TaskTry& found = std::get<TaskTry>(found_or);
    const std::string& task_id = request.param("task_id");

    // The task as the run's DAG version defines it.
    auto stored = context.runs.dag_version_json(found.run.dag_id, found.run.dag_version);
    if (!stored) return store_unavailable(stored.error());
    std::optional<Dag> dag;
    if (*stored) {
        auto json = nlohmann::json::parse(**stored, nullptr, false);
        if (!json.is_discarded()) {
            auto parsed = dag_from_json(json);
            if (parsed) dag = std::move(*parsed);
        }
    }
    const Task* task = dag ? dag->find_task(task_id) : nullptr;
    if (!task) {
        return not_found(fmt::format("version {} of DAG '{}' (the run's) does not define task '{}', so its notebook "
                                     "cannot be found",
                                     found.run.dag_version, escape_invalid_utf8(found.run.dag_id),
                                     escape_invalid_utf8(task_id)));
    }
    if (task->operator_name != "notebook") {
        return not_found(fmt::format("task '{}' is a {} task, not a notebook task: only notebook tasks leave an "
                                     "executed notebook",
                                     escape_invalid_utf8(task_id), task->operator_name));
    }

    const fs::path log_file =
        task_log_path(context.settings.logs_folder, found.run.dag_id, found.run.run_id, task_id, found.try_number);
    const auto output_param = task->params.find("output_nb");
    const std::string output_nb =
        output_param != task->params.end() && output_param->is_string() ? output_param->get<std::string>() : "";
    const bool latest_try = found.try_number == found.task.try_number;
    FileOpening opening;
    if (output_nb.empty()) {
        auto path = executed_notebook_path("", "", log_file);
        if (!path) return not_found(path.error().message);
        opening = open_file_inside(context.settings.logs_folder, *path);
    } else {
        // output_nb names one file for every try (or a template rendered per try, whose result only
        // the latest try's answer records): only the latest try's notebook is known.
        if (!latest_try) {
            return not_found(fmt::format("task '{}' writes its notebook to output_nb \"{}\", which each try "
                                         "overwrites; only the latest try's ({}) is kept",
                                         escape_invalid_utf8(task_id), escape_invalid_utf8(output_nb),
                                         found.task.try_number));
        }
        fs::path path;
        if (found.task.result.is_object() && found.task.result.contains("output_nb") &&
            found.task.result["output_nb"].is_string()) {
            path = found.task.result["output_nb"].get<std::string>();
        } else if (!is_template(output_nb)) {
            auto resolved = executed_notebook_path(output_nb, task->defined_at.file, log_file);
            if (!resolved) return not_found(resolved.error().message);
            path = *resolved;
        } else {
            return not_found(fmt::format("task '{}' renders output_nb from the template \"{}\", and try {} recorded "
                                         "no notebook path (it has not succeeded)",
                                         escape_invalid_utf8(task_id), escape_invalid_utf8(output_nb),
                                         found.try_number));
        }
        if (path.extension() != ".ipynb") {
            return not_found(fmt::format("task '{}' recorded a notebook path that is not an .ipynb file",
                                         escape_invalid_utf8(task_id)));
        }
        // A path the DAG's author chose: anywhere, but a regular file.
        opening = open_file_inside("/", path);
    }
    switch (opening.outcome) {
        case FileOpening::Outcome::opened: break;
        case FileOpening::Outcome::missing:
            return not_found(fmt::format("try {} of task '{}' left no executed notebook (it may not have started "
                                         "nbconvert yet, or the file was removed)",
                                         found.try_number, escape_invalid_utf8(task_id)));
        case FileOpening::Outcome::outside:
        case FileOpening::Outcome::not_a_file:
            return not_found(fmt::format("the notebook of try {} of task '{}' is not a file inside the logs folder (a "
                                         "symlink points elsewhere), so it is not served",
                                         found.try_number, escape_invalid_utf8(task_id)));
        case FileOpening::Outcome::failed:
            return problem(500, fmt::format("cannot open the notebook of try {}: {}", found.try_number, opening.error));
    }
    auto bytes = opening.file->read(0, opening.file->size());
    if (!bytes) return problem(500, fmt::format("cannot read the notebook of try {}: {}", found.try_number, bytes.error().message));
    WebResponse response{200, "application/x-ipynb+json", std::move(*bytes), {}};
    response.headers["Content-Disposition"] = fmt::format("attachment; filename=\"{}\"", download_name(found, task_id));
    return response;
}

}  // namespace

void add_notebook_routes(RouteTable& table, ApiContext& context) {
    table.add("GET",
              "/api/v1/mayaflow/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/notebook/{task_try_number}",
              {Resource::task_log, Action::read}, [&context](const ApiRequest& request) { return get_notebook(context, request); });
}

}  // namespace mayaflow
