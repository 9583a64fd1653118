#include "operators/notebook/nbconvert_run.h"

#include <dirent.h>
#include <unistd.h>

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>

#include "engine/exec/process_group.h"
#include "engine/exec/process_probe.h"

namespace mayaflow::notebook {

namespace {

// Runs the cells as papermill does: in the notebook's folder (the folder nbconvert runs in, not the
// prepared copy's), in order, until one fails or times out; the cells after it are not run. nbconvert
// itself writes nothing when a cell fails, so the notebook as it then is, with the cell's error output,
// is written here, and what stopped it is recorded in metadata.mayaflow for the operator to report.
// The kernel leads a session of its own, so the variables by which a restarted daemon finds the try's
// process (MAYAFLOW_EXIT_FILE) are taken out of its environment.
constexpr std::string_view kConfigText = R"PY(# Written by mayaflow for one try of a notebook task (docs/operators.md, "notebook").
import os
import sys

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

os.environ.pop("MAYAFLOW_EXIT_FILE", None)
os.environ.pop("MAYAFLOW_COMMAND", None)


class MayaflowExecutePreprocessor(ExecutePreprocessor):
    def preprocess(self, nb, resources=None, km=None):
        resources = resources if resources is not None else {}
        resources.setdefault("metadata", {})["path"] = os.getcwd()
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        try:
            return super().preprocess_cell(cell, resources, index)
        except Exception as error:
            self.nb.metadata["mayaflow"] = {
                "failed_cell": index,
                "timed_out": isinstance(error, TimeoutError),
                "error": f"{type(error).__name__}: {error}",
            }
            output = os.environ["MAYAFLOW_NOTEBOOK_OUTPUT"]
            nbformat.write(self.nb, output)
            print(f"[nbconvert] cell {index + 1} failed ({type(error).__name__}); wrote {output}", file=sys.stderr)
            raise SystemExit(1)


c.NotebookExporter.preprocessors = [MayaflowExecutePreprocessor]
)PY";

std::optional<std::string> read_small_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool holds_entry(std::string_view environment, std::string_view entry) {
    while (!environment.empty()) {
        const std::size_t end = environment.find('\0');
        if (environment.substr(0, end) == entry) return true;
        environment.remove_prefix(end == std::string_view::npos ? environment.size() : end + 1);
    }
    return false;
}

}  // namespace

std::string_view nbconvert_config_text() {
    return kConfigText;
}

std::string glob_escaped(std::string_view path) {
    std::string pattern;
    pattern.reserve(path.size());
    for (const char c : path) {
        if (c == '[' || c == '*' || c == '?') {
            pattern += '[';
            pattern += c;
            pattern += ']';
        } else {
            pattern += c;
        }
    }
    return pattern;
}

std::string shell_word(std::string_view word) {
    const bool safe = !word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                              "0123456789_@%+=:,./-") == std::string_view::npos;
    if (safe) return std::string(word);
    std::string quoted = "'";
    for (const char c : word) {
        if (c == '\'') quoted += "'\\''";
        else quoted += c;
    }
    return quoted + "'";
}

std::string nbconvert_command(const NbconvertRun& run) {
    const std::vector<std::string> words = {
        run.jupyter.string(),
        "nbconvert",
        "--config=" + run.config.string(),
        "--to",
        "notebook",
        glob_escaped(run.prepared.string()),
        "--output",
        run.output.string(),
        fmt::format("--ExecutePreprocessor.timeout={}", run.cell_timeout_seconds),
        "--ExecutePreprocessor.kernel_name=" + run.kernel_name,
    };
    std::string command;
    for (const std::string& word : words) {
        if (!command.empty()) command += ' ';
        command += shell_word(word);
    }
    return command;
}

std::vector<pid_t> processes_with_environment(std::string_view entry) {
    std::vector<pid_t> found;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return found;
    while (const dirent* item = ::readdir(proc)) {
        const std::string_view name(item->d_name);
        pid_t pid = 0;
        const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
        if (error != std::errc() || end != name.data() + name.size() || pid <= 1) continue;
        const std::optional<ProcStat> stat = read_proc_stat(pid);
        if (!stat || stat->ended()) continue;
        const std::optional<std::string> environment = read_small_file(fmt::format("/proc/{}/environ", pid));
        if (environment && holds_entry(*environment, entry)) found.push_back(pid);
    }
    ::closedir(proc);
    return found;
}

int end_processes_with_environment(std::string_view entry, Duration grace) {
    std::set<pid_t> groups;
    for (const pid_t pid : processes_with_environment(entry)) {
        const std::optional<ProcStat> stat = read_proc_stat(pid);
        if (stat && !stat->ended() && stat->process_group > 1 && stat->process_group != ::getpgrp()) {
            groups.insert(stat->process_group);
        }
    }
    for (const pid_t group : groups) (void)terminate_process_group(group, grace);
    return static_cast<int>(groups.size());
}

}  // namespace mayaflow::notebook
