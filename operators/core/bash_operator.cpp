#include "operators/core/bash_operator.h"

namespace mayaflow {

OperatorSpec bash_operator_spec() {
    OperatorSpec spec;
    spec.name = "bash";
    spec.description = "Runs a command with bash; exit code 0 is success, skip_on_exit_code is skipped.";
    spec.params = {
        ParamSpec{.name = "bash_command", .type = ParamType::string, .required = true, .templated = true,
                  .template_ext = {".sh", ".bash"}, .help = "the command, or a .sh file next to the DAG file"},
        ParamSpec{.name = "env", .type = ParamType::string_map, .templated = true,
                  .help = "environment variables for the command"},
        ParamSpec{.name = "append_env", .type = ParamType::boolean, .default_value = false,
                  .help = "with env: keep the daemon's environment and add env to it"},
        ParamSpec{.name = "cwd", .type = ParamType::string, .templated = true,
                  .help = "working directory; a fresh temporary directory when unset"},
        ParamSpec{.name = "skip_on_exit_code", .type = ParamType::integer_or_list,
                  .default_value = nlohmann::json::array({99}),
                  .help = "exit codes that mark the task skipped instead of failed"},
        ParamSpec{.name = "output_encoding", .type = ParamType::string, .default_value = "utf-8",
                  .allowed_values = {"utf-8", "latin-1"}, .help = "how to read the command's output"},
    };
    return spec;
}

}  // namespace mayaflow
