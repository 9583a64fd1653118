#pragma once
// How a notebook try runs Jupyter's nbconvert: the command line, the configuration file that makes
// nbconvert stop at a failing cell and still write the executed notebook (with the error), and the
// clean-up of kernels that nbconvert leaves behind when it is killed.
//
// Jupyter starts each kernel in a session of its own (jupyter_client's launcher), so a kernel is not in
// the process group of the task that ends a cancelled or timed-out try; it is found by a variable of
// its starting environment instead (kKernelMarker) and its own group is ended too.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/time/instant.h"

namespace mayaflow::notebook {

// Debian's jupyter (jupyter-nbconvert, python3-ipykernel); scripts/install-deps installs it.
inline constexpr std::string_view kJupyterProgram = "/usr/bin/jupyter";

// The variable, in nbconvert's environment and so its kernel's, that names the try (its exit file).
inline constexpr std::string_view kKernelMarker = "MAYAFLOW_NOTEBOOK_TRY";
// The variable that tells the configuration where to write the notebook when a cell fails.
inline constexpr std::string_view kOutputVariable = "MAYAFLOW_NOTEBOOK_OUTPUT";

// The files of one run of nbconvert.
struct NbconvertRun {
    std::filesystem::path jupyter{std::string(kJupyterProgram)};
    std::filesystem::path prepared;  // the notebook with its parameters injected
    std::filesystem::path config;    // nbconvert_config_text(), written beside it
    std::filesystem::path output;    // the executed notebook (absolute, ending in .ipynb)
    std::string kernel_name;
    long cell_timeout_seconds = 600;
};

// The Python configuration file given to nbconvert with --config (see the .cpp for what it does).
std::string_view nbconvert_config_text();

// The shell command: jupyter nbconvert --config=… --to notebook <prepared, glob_escaped()> --output <output>
// --ExecutePreprocessor.timeout=<s> --ExecutePreprocessor.kernel_name=<k>, each word quoted as needed.
std::string nbconvert_command(const NbconvertRun& run);

// `path` as a pattern that Python's glob matches only to itself (as glob.escape() makes it: [ * ? each
// in brackets). nbconvert globs the names of its input notebooks, so a MAYAFLOW_HOME or a run id with
// such characters would otherwise name no file, or another one.
std::string glob_escaped(std::string_view path);

// `word` as one word for bash: as it is when it holds only safe characters, else in single quotes.
std::string shell_word(std::string_view word);

// The live processes whose starting environment holds `entry` ("NAME=value").
std::vector<pid_t> processes_with_environment(std::string_view entry);

// Ends the process groups of the live processes whose environment holds `entry` (kernels whose nbconvert
// was killed): SIGTERM, SIGKILL after `grace`. Never this process's own group. Returns how many groups.
int end_processes_with_environment(std::string_view entry, Duration grace);

}  // namespace mayaflow::notebook
