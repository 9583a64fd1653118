#include "operators/notebook/notebook_operator.h"

#include <unistd.h>

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <system_error>

#include "engine/exec/exit_file.h"
#include "engine/time/duration_text.h"
#include "engine/util/utf8.h"
#include "operators/notebook/executed_notebook.h"
#include "operators/notebook/papermill_parameters.h"

namespace mayaflow {

namespace {

namespace fs = std::filesystem;
using notebook::NbconvertRun;

const OperatorSpec& spec() {
    static const OperatorSpec notebook = notebook_operator_spec();
    return notebook;
}

constexpr double kDefaultCellTimeoutSeconds = 600;

// The first key of `parameters` that cannot be a Python name, for the DAG loader.
std::optional<ParamProblem> check_parameter_names(const nlohmann::json& parameters) {
    if (!parameters.is_object()) return std::nullopt;
    for (const auto& [name, value] : parameters.items()) {
        if (const std::optional<std::string> why = notebook::why_not_parameter_name(name)) {
            return ParamProblem{
                {nlohmann::json(name)},
                fmt::format("parameter name '{}' cannot be a Python variable: {}; the notebook gets "
                            "each parameter as `name = value`, so use ASCII letters, digits and _ "
                            "(not starting with a digit, not a keyword, not __like_this__)",
                            escape_invalid_utf8(name), *why)};
        }
    }
    return std::nullopt;
}

std::optional<ParamProblem> check_kernel_name(const nlohmann::json& kernel_name) {
    if (!kernel_name.is_string() || !kernel_name.get_ref<const std::string&>().empty()) return std::nullopt;
    return ParamProblem{
        {},
        "kernel_name is empty; name an installed Jupyter kernel (`jupyter kernelspec list` shows "
        "them), or leave it out for python3"};
}

std::optional<ParamProblem> check_cell_timeout(const nlohmann::json& seconds) {
    if (!seconds.is_number() || seconds.get<double>() > 0) return std::nullopt;
    return ParamProblem{{},
                        "cell_timeout must be more than 0s (no cell could run in it); leave it out for 10m"};
}

// What one try works with, from its rendered parameters.
struct TryFiles {
    fs::path input;
    fs::path output;
    fs::path prepared;
    fs::path config;
    std::string kernel_name;
    Duration cell_timeout{};
    long cell_timeout_seconds = 0;
};

// A relative path in the task's parameters starts from the folder of the DAG file that defines the task.
Result<fs::path> from_dag_folder(const std::string& dag_file, const std::string& path, std::string_view param) {
    if (path.empty()) return make_error("{} is empty", param);
    fs::path given(path);
    if (given.is_absolute()) return given.lexically_normal();
    if (dag_file.empty()) {
        return make_error("{} \"{}\" is relative, and the DAG file it would be relative to is not known; "
                          "give an absolute path",
                          param, escape_invalid_utf8(path));
    }
    std::error_code error;
    return (fs::absolute(fs::path(dag_file), error).parent_path() / given).lexically_normal();
}

std::string string_param(const nlohmann::json& params, const char* name, std::string fallback = {}) {
    const auto found = params.find(name);
    return found != params.end() && found->is_string() ? found->get<std::string>() : std::move(fallback);
}

Result<TryFiles> try_files(const TaskRun& run, const nlohmann::json& params) {
    TryFiles files;
    const auto input_text = params.find("input_nb");
    if (input_text == params.end() || !input_text->is_string()) {
        return make_error("input_nb must be a string: the path of the notebook to run");
    }
    Result<fs::path> input = from_dag_folder(run.task.defined_at.file, input_text->get<std::string>(), "input_nb");
    if (!input) return input.error();
    files.input = std::move(*input);

    Result<fs::path> output =
        executed_notebook_path(string_param(params, "output_nb"), run.task.defined_at.file, run.log_file);
    if (!output) return output.error();
    files.output = std::move(*output);
    if (files.output.extension() != ".ipynb") {
        return make_error("output_nb \"{}\" must end in .ipynb (nbconvert adds the extension otherwise)",
                          escape_invalid_utf8(files.output.string()));
    }
    if (files.output == files.input) {
        return make_error("output_nb is the input notebook {}; give the executed copy another name",
                          escape_invalid_utf8(files.input.string()));
    }
    files.prepared = fs::path(run.log_file).replace_extension(".prepared.ipynb");
    files.config = fs::path(run.log_file).replace_extension(".nbconvert.py");
    files.kernel_name = string_param(params, "kernel_name", "python3");
    if (files.kernel_name.empty()) return make_error("kernel_name is empty");

    double seconds = kDefaultCellTimeoutSeconds;
    if (const auto timeout = params.find("cell_timeout"); timeout != params.end() && timeout->is_number()) {
        seconds = timeout->get<double>();
    }
    if (!(seconds > 0)) return make_error("cell_timeout must be more than 0s");
    files.cell_timeout_seconds = static_cast<long>(std::min(std::ceil(seconds), 1e9));
    files.cell_timeout = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
    return files;
}

Status write_text(const fs::path& file, std::string_view text) {
    std::error_code error;
    fs::create_directories(file.parent_path(), error);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) return make_error("cannot write {}: {}", escape_invalid_utf8(file.string()), std::strerror(errno));
    return Status::success();
}

void remove_quietly(const fs::path& file) {
    std::error_code ignored;
    fs::remove(file, ignored);
}

// The entry of nbconvert's environment (and its kernel's) that names this try.
std::string kernel_marker(const TaskRun& run) {
    return fmt::format("{}={}", notebook::kKernelMarker, exit_file_path(run.log_file).string());
}

// The try's message when nbconvert failed before any cell ran (no kernel, a bad notebook): from the last
// line it printed.
std::string nbconvert_failure(const TaskRun& run, const ShellEnd& end, const TryFiles& files) {
    const std::optional<std::string> last = last_output_line(run.log_file, end.output_start);
    const std::string line = last ? *last : std::string();
    if (line.find("NoSuchKernel") != std::string::npos) {
        return fmt::format("no Jupyter kernel named '{}' is installed (kernel_name); `jupyter kernelspec list` "
                           "shows the installed ones",
                           files.kernel_name);
    }
    if (end.exit_code == 127 || end.exit_code == 126) {
        return fmt::format("cannot run {} (exit code {}); install jupyter-nbconvert and python3-ipykernel "
                           "(scripts/install-deps)",
                           files.prepared.empty() ? "jupyter" : "jupyter nbconvert", *end.exit_code);
    }
    return fmt::format("jupyter nbconvert failed with exit code {}{}{}", end.exit_code.value_or(-1),
                       line.empty() ? "" : ": ", line);
}

OperatorResult result_of(const ShellEnd& end, const TaskRun& run, const TryFiles& files) {
    if (std::optional<OperatorResult> unfinished = result_without_exit(end, run)) {
        // A notebook has two timeouts; say which one this was.
        if (unfinished->timed_out) unfinished->message += " (execution_timeout)";
        return *unfinished;
    }

    const std::string output = escape_invalid_utf8(files.output.string());
    if (*end.exit_code == 0) {
        Result<nlohmann::json> executed = notebook::read_notebook(files.output);
        if (!executed)
            return failed_result("jupyter nbconvert ended well but its output cannot be read: " +
                                 executed.error().message);
        (void)append_log_line(run, "the executed notebook is " + output);
        OperatorResult result{.outcome = TaskOutcome::success,
                              .value = {{"output_nb", files.output.string()}},
                              .message = "notebook executed",
                              .exit_code = 0};
        return result;
    }

    OperatorResult result = failed_result("");
    result.exit_code = end.exit_code;
    Result<nlohmann::json> executed = notebook::read_notebook(files.output);
    std::optional<notebook::CellFailure> failure;
    if (executed) failure = notebook::find_failure(*executed);
    if (!failure) {
        result.message = nbconvert_failure(run, end, files);
        return result;
    }
    const std::string timeout_text = format_duration(files.cell_timeout);
    result.message = notebook::failure_message(*failure, timeout_text);
    (void)append_log_line(run, notebook::failure_report(*failure, timeout_text));
    (void)append_log_line(run, "the executed notebook, stopped at that cell, is " + output);
    return result;
}

}  // namespace

Result<fs::path> executed_notebook_path(const std::string& output_nb, const std::string& dag_file,
                                       const fs::path& log_file) {
    if (output_nb.empty()) return fs::path(log_file).replace_extension(".ipynb");
    return from_dag_folder(dag_file, output_nb, "output_nb");
}

OperatorSpec notebook_operator_spec() {
    OperatorSpec spec;
    spec.name = "notebook";
    spec.description =
        "Runs a Jupyter notebook with nbconvert, parameters injected as papermill does; the executed copy is "
        "the result.";
    spec.params = {
        ParamSpec{.name = "input_nb",
                  .type = ParamType::string,
                  .required = true,
                  .templated = true,
                  .help = "the notebook to run (.ipynb); a relative path starts from the DAG file's folder"},
        ParamSpec{
            .name = "output_nb",
            .type = ParamType::string,
            .templated = true,
            .help = "where the executed notebook goes; beside the try's log (attempt=<n>.ipynb) when unset"},
        ParamSpec{.name = "parameters",
                  .type = ParamType::map,
                  .templated = true,
                  .check = check_parameter_names,
                  .help = "values injected into the notebook as papermill does, after its `parameters` cell"},
        ParamSpec{.name = "kernel_name",
                  .type = ParamType::string,
                  .default_value = "python3",
                  .check = check_kernel_name,
                  .help = "the Jupyter kernel that runs the cells"},
        ParamSpec{.name = "cell_timeout",
                  .type = ParamType::duration,
                  .default_value = kDefaultCellTimeoutSeconds,
                  .check = check_cell_timeout,
                  .help = "how long one cell may run; execution_timeout limits the whole run"},
    };
    return spec;
}

NotebookOperator::NotebookOperator(NotebookOptions options) : options_(std::move(options)) {}

void NotebookOperator::cancel() {
    cancel_.raise();
}

OperatorResult NotebookOperator::execute(const TaskRun& run) {
    if (cancel_.raised()) return logged_result(run, cancelled_result());
    Result<nlohmann::json> params = render_templated_params(spec(), run.task, make_task_context(run));
    if (!params) return logged_result(run, failed_result(params.error().message));
    Result<TryFiles> files = try_files(run, *params);
    if (!files) return logged_result(run, failed_result(files.error().message));

    Result<nlohmann::json> input = notebook::read_notebook(files->input);
    if (!input) return logged_result(run, failed_result(input.error().message));
    const nlohmann::json parameters = params->value("parameters", nlohmann::json::object());
    if (Status text = notebook::check_parameter_text(parameters); !text)
        return logged_result(run, failed_result(text.error().message));
    const nlohmann::json prepared = notebook::inject_parameters(std::move(*input), parameters);

    std::error_code error;
    if (!fs::is_regular_file(options_.jupyter, error)) {
        return logged_result(run, failed_result(fmt::format(
                                      "{} is not installed; install the Debian packages jupyter-nbconvert "
                                      "and python3-ipykernel (scripts/install-deps)",
                                      options_.jupyter.string())));
    }
    fs::create_directories(files->output.parent_path(), error);
    if (error) {
        return logged_result(
            run, failed_result(fmt::format("cannot make the folder of output_nb {}: {}",
                                           escape_invalid_utf8(files->output.parent_path().string()),
                                           error.message())));
    }
    remove_quietly(files->output);  // an earlier run's copy must not pass for this one's
    if (Status written = write_text(files->prepared, dump_json(prepared, 1)); !written) {
        return logged_result(run, failed_result(written.error().message));
    }
    if (Status written = write_text(files->config, notebook::nbconvert_config_text()); !written) {
        remove_quietly(files->prepared);
        return logged_result(run, failed_result(written.error().message));
    }
    (void)append_log_line(run, fmt::format("running notebook {} with kernel {}, parameters {}",
                                           escape_invalid_utf8(files->input.string()), files->kernel_name,
                                           dump_json(parameters)));

    ShellCommand command{.command = notebook::nbconvert_command(NbconvertRun{.jupyter = options_.jupyter,
                                                                              .prepared = files->prepared,
                                                                              .config = files->config,
                                                                              .output = files->output,
                                                                              .kernel_name = files->kernel_name,
                                                                              .cell_timeout_seconds =
                                                                                  files->cell_timeout_seconds}),
                         .env = run.base_environment,
                         .cwd = files->input.parent_path()};
    command.env.insert_or_assign(std::string(notebook::kOutputVariable), files->output.string());
    const std::string marker = kernel_marker(run);
    command.env.insert_or_assign(std::string(notebook::kKernelMarker), marker.substr(marker.find('=') + 1));
    // debugpy's warning about frozen modules, printed by every kernel start, is noise in the log.
    command.env.insert_or_assign("PYDEVD_DISABLE_FILE_VALIDATION", "1");

    Result<ShellEnd> end = run_shell_command(command, run, cancel_, options_.kill_grace);
    notebook::end_processes_with_environment(marker, options_.kill_grace);
    remove_quietly(files->prepared);
    remove_quietly(files->config);
    if (!end) return logged_result(run, failed_result(end.error().message));
    return logged_result(run, result_of(*end, run, *files));
}

OperatorResult NotebookOperator::resume(const TaskRun& run, const StartedProcess& recorded) {
    Result<ShellEnd> end = resume_shell_command(run, recorded, cancel_, options_.kill_grace);
    notebook::end_processes_with_environment(kernel_marker(run), options_.kill_grace);
    Result<nlohmann::json> params = render_templated_params(spec(), run.task, make_task_context(run));
    Result<TryFiles> files = params ? try_files(run, *params) : Result<TryFiles>(params.error());
    if (files) {
        remove_quietly(files->prepared);
        remove_quietly(files->config);
    }
    if (!end) return logged_result(run, failed_result(end.error().message));
    if (!files) return logged_result(run, failed_result(files.error().message));
    return logged_result(run, result_of(*end, run, *files));
}

}  // namespace mayaflow
