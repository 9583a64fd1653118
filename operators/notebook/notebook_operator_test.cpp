#include "operators/notebook/notebook_operator.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/exec/exec_test_support.h"
#include "engine/exec/exit_file.h"
#include "engine/exec/process_probe.h"
#include "operators/notebook/papermill_parameters.h"
#include "operators/operator_registry.h"

// These run the real /usr/bin/jupyter nbconvert (Debian's jupyter-nbconvert and python3-ipykernel); a
// kernel takes a few seconds to start, so each test runs one or two notebooks. Run them alone with
// `operators_tests "[notebook]"`.

namespace mayaflow {
namespace {

using nlohmann::json;
using exec_test::eventually;
using exec_test::read_text;
using exec_test::Watchdog;
using namespace std::chrono_literals;

json code_cell(std::string source, std::vector<std::string> tags = {}) {
    return {{"cell_type", "code"},
            {"execution_count", nullptr},
            {"metadata", {{"tags", tags}}},
            {"outputs", json::array()},
            {"source", std::move(source)}};
}

json notebook_of(json cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) cells[i]["id"] = fmt::format("cell-{}", i + 1);  // nbformat 4.5
    return {{"nbformat", 4},
            {"nbformat_minor", 5},
            {"metadata", {{"kernelspec", {{"name", "python3"}, {"display_name", "Python 3"}, {"language", "python"}}}}},
            {"cells", std::move(cells)}};
}

// The stdout a cell printed in an executed notebook.
std::string printed(const json& cell) {
    std::string text;
    for (const auto& output : cell.value("outputs", json::array())) {
        if (output.value("output_type", "") == "stream") text += notebook::cell_source({{"source", output["text"]}});
    }
    return text;
}

// One notebook task: its DAG file at <home>/dags/report.yaml, notebooks in <home>/dags/notebooks, logs in
// <home>/logs, where <home> is `home_name` in a new temporary folder.
class NotebookRun {
  public:
    explicit NotebookRun(json params, const std::string& home_name = "mayaflow")
        : home(dir.path() / home_name) {
        std::filesystem::create_directories(dags() / "notebooks");
        std::filesystem::create_directories(home / "user");
        task.task_id = "chart";
        task.operator_name = "notebook";
        task.defined_at.file = (dags() / "report.yaml").string();
        for (const ParamSpec& param : notebook_operator_spec().params) {
            if (!params.contains(param.name) && !param.default_value.is_null()) params[param.name] = param.default_value;
        }
        task.params = std::move(params);
    }

    void write_notebook(const std::string& name, const json& notebook) {
        std::ofstream(dags() / "notebooks" / name) << notebook.dump(1);
    }

    TaskRun run() {
        tmpl::RunInfo info;
        info.dag_id = "household_budget";
        info.run_id = "scheduled__2024-03-01T00:00:00+00:00";
        info.logical_date = Instant{std::chrono::sys_days{std::chrono::year{2024} / 3 / 1}.time_since_epoch()};
        info.data_interval_start = *info.logical_date;
        info.data_interval_end = *info.logical_date + std::chrono::days(1);
        info.run_type = "scheduled";
        info.variable = [this](std::string_view key) -> std::optional<std::string> {
            const auto found = variables.find(std::string(key));
            return found == variables.end() ? std::nullopt : std::optional<std::string>(found->second);
        };
        return TaskRun{.task = task,
                       .run_info = info,
                       .try_number = 1,
                       .log_file = log_file(),
                       .execution_timeout = timeout,
                       .base_environment = {{"PATH", "/usr/bin:/bin"}, {"HOME", (home / "user").string()}},
                       .on_started = [this](const StartedProcess& process) {
                           std::lock_guard lock(mutex_);
                           started_.push_back(process);
                       }};
    }

    NotebookOptions options() const { return NotebookOptions{.kill_grace = 1s}; }

    std::filesystem::path dags() const { return home / "dags"; }
    std::filesystem::path log_file() const { return home / "logs" / "attempt=1.log"; }
    std::filesystem::path executed() const { return home / "logs" / "attempt=1.ipynb"; }
    std::string log() const { return read_text(log_file()); }
    std::string marker() const {
        return std::string(notebook::kKernelMarker) + "=" + exit_file_path(log_file()).string();
    }
    std::vector<StartedProcess> started() const {
        std::lock_guard lock(mutex_);
        return started_;
    }

    exec_test::TempDir dir;
    std::filesystem::path home;
    Task task;
    std::optional<Duration> timeout;
    std::map<std::string, std::string> variables;  // var.value.<key>

  private:
    mutable std::mutex mutex_;
    std::vector<StartedProcess> started_;
};

// Whether an ipykernel process started for this try is still alive.
bool kernel_alive(const NotebookRun& r) {
    for (const pid_t pid : notebook::processes_with_environment(r.marker())) {
        const std::string cmdline = read_text(fmt::format("/proc/{}/cmdline", pid));
        if (cmdline.find("ipykernel") != std::string::npos) return true;
    }
    return false;
}

TEST_CASE("notebook: parameters are injected and the executed copy is the result", "[notebook][nbconvert]") {
    Watchdog watchdog(120);
    NotebookRun r(json{{"input_nb", "notebooks/report.ipynb"},
                   {"parameters", {{"month", "{{ ds }}"}, {"limit", 42}, {"label", "caf\xC3\xA9 \"q\"\n2"},
                                   {"ratio", 0.5}, {"tags", {"a", 1, nullptr}}, {"flag", true}}}});
    r.write_notebook("report.ipynb",
                     notebook_of({code_cell("import os\nprint(os.getcwd())"),
                                  code_cell("month = 'none'\nlimit = 1\nlabel = ''\nratio = 0.0\ntags = []\nflag = False",
                                            {"parameters"}),
                                  code_cell("print(month, limit, repr(label), ratio, tags, flag)")}));
    NotebookOperator op(r.options());
    const OperatorResult result = op.execute(r.run());
    INFO(r.log());
    REQUIRE(result.outcome == TaskOutcome::success);
    CHECK(result.value == json{{"output_nb", r.executed().string()}});
    CHECK(result.message == "notebook executed");
    CHECK(r.started().size() == 1);

    const json executed = json::parse(read_text(r.executed()));
    REQUIRE(executed["cells"].size() == 4);
    CHECK(printed(executed["cells"][0]) == (r.dags() / "notebooks").string() + "\n");  // run in its own folder
    CHECK(executed["cells"][2]["metadata"]["tags"] == json::array({"injected-parameters"}));
    CHECK(printed(executed["cells"][3]) == "2024-03-01 42 'café \"q\"\\n2' 0.5 ['a', 1, None] True\n");
    CHECK(executed["metadata"]["papermill"]["parameters"]["month"] == "2024-03-01");
    // The prepared copy and nbconvert's configuration are gone; the input is untouched.
    CHECK_FALSE(std::filesystem::exists(r.home / "logs" / "attempt=1.prepared.ipynb"));
    CHECK_FALSE(std::filesystem::exists(r.home / "logs" / "attempt=1.nbconvert.py"));
    CHECK(json::parse(read_text(r.dags() / "notebooks" / "report.ipynb"))["cells"].size() == 3);
    CHECK_THAT(r.log(), Catch::Contains("[mayaflow] the executed notebook is " + r.executed().string()));
    CHECK(r.log().ends_with("[mayaflow] success: notebook executed\n"));
    CHECK_FALSE(kernel_alive(r));
}

TEST_CASE("notebook: a home folder whose path has glob characters", "[notebook][nbconvert]") {
    Watchdog watchdog(120);
    NotebookRun r(json{{"input_nb", "notebooks/in [a]*?.ipynb"}, {"parameters", {{"n", 3}}}}, "x[1]*?");
    r.write_notebook("in [a]*?.ipynb",
                     notebook_of({code_cell("n = 0", {"parameters"}), code_cell("print(n * 2)")}));
    const OperatorResult result = NotebookOperator(r.options()).execute(r.run());
    INFO(r.log());
    REQUIRE(result.outcome == TaskOutcome::success);
    const json executed = json::parse(read_text(r.executed()));
    CHECK(printed(executed["cells"][2]) == "6\n");
}

TEST_CASE("notebook: a parameter without template markup reaches the notebook byte for byte",
          "[notebook][nbconvert]") {
    Watchdog watchdog(120);
    NotebookRun r(
        json{{"input_nb", "notebooks/text.ipynb"},
             {"parameters",
              {{"literal", "a\r\nb\rc\n\n"}, {"braces", "{ x } }}"}, {"rendered", "{{ var.value.crlf }}"}}}});
    r.variables["crlf"] = "v\r\n";
    r.write_notebook("text.ipynb",
                     notebook_of({code_cell("print(repr(literal), repr(braces), repr(rendered))")}));
    const OperatorResult result = NotebookOperator(r.options()).execute(r.run());
    INFO(r.log());
    REQUIRE(result.outcome == TaskOutcome::success);
    const json executed = json::parse(read_text(r.executed()));
    CHECK(printed(executed["cells"][1]) == "'a\\r\\nb\\rc\\n\\n' '{ x } }}' 'v\\r\\n'\n");
    CHECK(executed["metadata"]["papermill"]["parameters"]["literal"] == "a\r\nb\rc\n\n");
}

TEST_CASE("notebook: a failing cell fails the task with its number, source and traceback", "[notebook][nbconvert]") {
    Watchdog watchdog(120);
    NotebookRun r(json{{"input_nb", "notebooks/fails.ipynb"}, {"output_nb", "out/{{ ds_nodash }}.ipynb"}});
    r.write_notebook("fails.ipynb", notebook_of({code_cell("x = 1", {"parameters"}),
                                                 code_cell("rows = []\nraise ValueError(f'no rows for {x}')"),
                                                 code_cell("open('after.txt', 'w').write('ran')")}));
    NotebookOperator op(r.options());
    const OperatorResult result = op.execute(r.run());
    const std::string log = r.log();
    INFO(log);
    CHECK(result.outcome == TaskOutcome::failed);
    // Cell 3 of the executed notebook: the injected parameters cell is cell 2.
    CHECK(result.message == "cell 3 failed: ValueError: no rows for 1");
    CHECK(result.exit_code == 1);
    CHECK(result.value.is_null());
    CHECK_THAT(log, Catch::Contains("----- source of cell 3 -----\nrows = []\nraise ValueError(f'no rows for {x}')\n"
                                    "----- traceback -----\n"));
    CHECK_THAT(log, Catch::Contains("ValueError: no rows for 1\n-----\n"));
    const std::size_t traceback = log.find("----- traceback -----");
    REQUIRE(traceback != std::string::npos);
    const std::string report = log.substr(traceback, log.find("\n-----\n", traceback) - traceback);
    CHECK(report.find('\x1b') == std::string::npos);  // no ANSI colours in the report
    const std::filesystem::path output = r.dags() / "out" / "20240301.ipynb";
    CHECK_THAT(log, Catch::Contains("the executed notebook, stopped at that cell, is " + output.string()));
    CHECK(log.ends_with("[mayaflow] failed: cell 3 failed: ValueError: no rows for 1\n"));
    // The executed notebook is kept, with the error; the cells after it did not run.
    const json executed = json::parse(read_text(output));
    CHECK(executed["cells"][2]["outputs"][0]["ename"] == "ValueError");
    CHECK(executed["cells"][3]["outputs"].empty());
    CHECK_FALSE(std::filesystem::exists(r.dags() / "notebooks" / "after.txt"));
    CHECK_FALSE(kernel_alive(r));
}

TEST_CASE("notebook: a cell running past cell_timeout fails the task", "[notebook][nbconvert]") {
    Watchdog watchdog(120);
    NotebookRun r(json{{"input_nb", "notebooks/slow.ipynb"}, {"cell_timeout", 2}});
    r.write_notebook("slow.ipynb", notebook_of({code_cell("print('start')"), code_cell("import time\ntime.sleep(60)")}));
    NotebookOperator op(r.options());
    const auto started = std::chrono::steady_clock::now();
    const OperatorResult result = op.execute(r.run());
    INFO(r.log());
    CHECK(result.outcome == TaskOutcome::failed);
    CHECK(result.message == "cell 3 timed out after 2s (cell_timeout)");
    CHECK_FALSE(result.timed_out);  // the task's execution_timeout is another thing
    CHECK((std::chrono::steady_clock::now() - started < 50s));
    CHECK(std::filesystem::exists(r.executed()));
    CHECK(eventually([&] { return !kernel_alive(r); }));
}

// Runs notebooks/forever.ipynb, whose cell never ends, until the try is stopped: by `stop` (called from
// another thread once the cell runs), or else by the execution timeout. Checks that nothing of the try is
// left (nbconvert's group, the kernel) and returns its result.
OperatorResult run_forever_notebook(NotebookRun& r, const std::function<void(NotebookOperator&)>& stop = {}) {
    r.write_notebook(
        "forever.ipynb",
        notebook_of(
            {code_cell("import time\nopen('started', 'w').write('yes')\nwhile True:\n    time.sleep(0.1)")}));
    NotebookOperator op(r.options());
    std::thread stopper([&] {
        if (stop &&
            eventually([&] { return std::filesystem::exists(r.dags() / "notebooks" / "started"); }, 60s)) {
            CHECK(kernel_alive(r));
            stop(op);
        }
    });
    const OperatorResult result = op.execute(r.run());
    stopper.join();
    INFO(r.log());
    REQUIRE(r.started().size() == 1);
    CHECK(exec_test::live_members(r.started()[0].pid).empty());
    CHECK_FALSE(kernel_alive(r));
    CHECK(notebook::processes_with_environment(r.marker()).empty());
    return result;
}

TEST_CASE("notebook: a notebook that never ends is cancelled with its kernel", "[notebook][nbconvert]") {
    Watchdog watchdog(120);
    NotebookRun r(json{{"input_nb", "notebooks/forever.ipynb"}});
    const OperatorResult result = run_forever_notebook(r, [](NotebookOperator& op) { op.cancel(); });
    CHECK(result.cancelled);
    CHECK(result.message == "cancelled");
}

TEST_CASE("notebook: execution_timeout ends nbconvert and its kernel", "[notebook][nbconvert]") {
    Watchdog watchdog(120);
    NotebookRun r(json{{"input_nb", "notebooks/forever.ipynb"}});
    r.timeout = 8s;
    const OperatorResult result = run_forever_notebook(r);
    CHECK(result.timed_out);
    CHECK(result.message == "timed out after 8s (execution_timeout)");
}

TEST_CASE("notebook: bad input fails with a clear message", "[notebook]") {
    Watchdog watchdog(120);
    SECTION("a missing notebook starts nothing") {
        NotebookRun r(json{{"input_nb", "notebooks/missing.ipynb"}});
        const OperatorResult result = NotebookOperator(r.options()).execute(r.run());
        CHECK(result.message == "notebook " + (r.dags() / "notebooks" / "missing.ipynb").string() + " does not exist");
        CHECK(r.started().empty());
        CHECK(r.log().ends_with("[mayaflow] failed: " + result.message + "\n"));
    }
    SECTION("malformed JSON") {
        NotebookRun r(json{{"input_nb", "notebooks/broken.ipynb"}});
        std::ofstream(r.dags() / "notebooks" / "broken.ipynb") << "{\"cells\": [";
        const OperatorResult result = NotebookOperator(r.options()).execute(r.run());
        CHECK_THAT(result.message, Catch::StartsWith("notebook " + (r.dags() / "notebooks" / "broken.ipynb").string() +
                                                     " is not valid JSON"));
        CHECK(r.started().empty());
    }
    SECTION("output_nb must be a notebook file") {
        NotebookRun r(json{{"input_nb", "notebooks/a.ipynb"}, {"output_nb", "/tmp/out.txt"}});
        r.write_notebook("a.ipynb", notebook_of(json::array()));
        const OperatorResult result = NotebookOperator(r.options()).execute(r.run());
        CHECK(result.message == "output_nb \"/tmp/out.txt\" must end in .ipynb (nbconvert adds the extension otherwise)");
    }
    SECTION("a template error") {
        NotebookRun r(json{{"input_nb", "notebooks/a.ipynb"}, {"parameters", {{"x", "{{ nope }}"}}}});
        const OperatorResult result = NotebookOperator(r.options()).execute(r.run());
        CHECK_THAT(result.message, Catch::StartsWith("template error in parameters.x: "));
    }
    SECTION("a parameter that renders to bytes that are not UTF-8 names the parameter, and starts nothing") {
        NotebookRun r(
            json{{"input_nb", "notebooks/a.ipynb"}, {"parameters", {{"p", "{{ var.value.badbytes }}"}}}});
        r.variables["badbytes"] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ\xF0";
        r.write_notebook("a.ipynb", notebook_of({code_cell("print(p)")}));
        const OperatorResult result = NotebookOperator(r.options()).execute(r.run());
        CHECK(result.outcome == TaskOutcome::failed);
        CHECK(result.message ==
              "parameters.p is not valid UTF-8 text: the byte at offset 46 (0xf0) is a sequence cut "
              "short; a notebook parameter is a Python str, so give it as UTF-8");
        CHECK(r.started().empty());
        CHECK(r.log().ends_with("[mayaflow] failed: " + result.message + "\n"));
    }
    SECTION("jupyter is not installed") {
        NotebookRun r(json{{"input_nb", "notebooks/a.ipynb"}});
        r.write_notebook("a.ipynb", notebook_of(json::array()));
        NotebookOptions options = r.options();
        options.jupyter = r.dir.path() / "no-jupyter";
        const OperatorResult result = NotebookOperator(options).execute(r.run());
        CHECK_THAT(result.message, Catch::EndsWith("no-jupyter is not installed; install the Debian packages "
                                                   "jupyter-nbconvert and python3-ipykernel (scripts/install-deps)"));
    }
}

TEST_CASE("notebook: a kernel that is not installed", "[notebook][nbconvert]") {
    Watchdog watchdog(120);
    NotebookRun r(json{{"input_nb", "notebooks/a.ipynb"}, {"kernel_name", "no_such_kernel"}});
    r.write_notebook("a.ipynb", notebook_of({code_cell("print(1)")}));
    const OperatorResult result = NotebookOperator(r.options()).execute(r.run());
    INFO(r.log());
    CHECK(result.outcome == TaskOutcome::failed);
    CHECK(result.message == "no Jupyter kernel named 'no_such_kernel' is installed (kernel_name); `jupyter kernelspec "
                            "list` shows the installed ones");
}

TEST_CASE("notebook: the spec, its parameter names check and the registry", "[notebook]") {
    const OperatorSpec spec = notebook_operator_spec();
    const ParamSpec* parameters = spec.find_param("parameters");
    REQUIRE(parameters);
    REQUIRE(parameters->check);
    CHECK_FALSE(parameters->check(json{{"month", 1}, {"_x2", "a"}}));
    const auto problem = parameters->check(json{{"ok", 1}, {"my-var", 2}});
    REQUIRE(problem);
    CHECK(problem->path == std::vector<json>{"my-var"});
    CHECK(problem->message ==
          "parameter name 'my-var' cannot be a Python variable: it holds '-'; the notebook gets "
          "each parameter as `name = value`, so use ASCII letters, digits and _ (not starting "
          "with a digit, not a keyword, not __like_this__)");
    for (const char* name :
         {"True", "class", "__builtins__", "\xF0\x9D\x90\x93\xF0\x9D\x90\xAB\xF0\x9D\x90\xAE\xF0\x9D\x90\x9E",
          "a\xC2\xA0"
          "b"}) {
        INFO(name);
        CHECK(parameters->check(json{{name, 1}}));
    }
    const ParamSpec* cell_timeout = spec.find_param("cell_timeout");
    CHECK(cell_timeout->default_value == 600);
    REQUIRE(cell_timeout->check);
    CHECK_FALSE(cell_timeout->check(0.5));
    CHECK(cell_timeout->check(0)->message ==
          "cell_timeout must be more than 0s (no cell could run in it); leave it out for 10m");
    CHECK(cell_timeout->check(-5.0));
    const ParamSpec* kernel_name = spec.find_param("kernel_name");
    CHECK(kernel_name->default_value == "python3");
    REQUIRE(kernel_name->check);
    CHECK_FALSE(kernel_name->check("python3"));
    CHECK_THAT(kernel_name->check("")->message, Catch::StartsWith("kernel_name is empty"));
    REQUIRE(builtin_operators().find("notebook"));
    CHECK(dynamic_cast<NotebookOperator*>(builtin_operators().create("notebook").get()));
}

}  // namespace
}  // namespace mayaflow
