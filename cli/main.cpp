// mayaflow: the command line. Each command group registers itself from its own file.

#include <CLI/CLI.hpp>

#include <iostream>
#include <string_view>

#include "cli/cli_support.h"
#include "engine/exec/task_supervisor.h"

int main(int argc, char** argv) {
    // The daemon's task supervisor (engine/exec/task_supervisor.h), started by the daemon itself.
    if (argc == 2 && std::string_view(argv[1]) == "_supervise") return mayaflow::run_task_supervisor(3);
    CLI::App app{"mayaflow: a workflow engine for small data teams (DAGs in YAML, Airflow's concepts)", "mayaflow"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("mayaflow ") + MAYAFLOW_VERSION);
    mayaflow::cli::register_standalone_command(app);
    mayaflow::cli::register_dags_commands(app);
    mayaflow::cli::register_tasks_commands(app);
    mayaflow::cli::register_schedule_commands(app);
    mayaflow::cli::register_db_commands(app);
    mayaflow::cli::register_run_commands(app);
    mayaflow::cli::register_backfill_commands(app);
    mayaflow::cli::register_pool_commands(app);
    mayaflow::cli::register_connections_commands(app);  // and rotate-secret-key
    mayaflow::cli::register_variables_commands(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // CLI11 has a code per kind of mistake; docs/cli.md promises 2 for every usage error.
        int code = app.exit(e);
        return code == 0 ? 0 : 2;
    } catch (const mayaflow::cli::CommandFailed& failed) {
        if (!failed.message.empty()) std::cerr << "error: " << failed.message << "\n";
        return failed.exit_code;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
