// mayaflow: the command line. Each command group registers itself from its own file.

#include <CLI/CLI.hpp>

#include <iostream>
#include <string_view>

#include "cli/cli_support.h"
#include "engine/exec/task_supervisor.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace {

// A word where a command is expected that names none (`mayaflow dags lsit`): CLI11 would only say
// "A subcommand is required". Says which word, and the command it probably meant. Returns false
// when the words name commands (options and arguments are CLI11's to check).
bool report_unknown_command(CLI::App& app, int argc, char** argv) {
    CLI::App* current = &app;
    std::string path = "mayaflow";
    for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word.empty() || word.front() == '-') return false;
        auto subcommands = current->get_subcommands([](CLI::App*) { return true; });
        if (subcommands.empty()) return false;
        CLI::App* next = nullptr;
        std::vector<std::string> names;
        for (CLI::App* sub : subcommands) {
            names.push_back(sub->get_name());
            if (sub->check_name(word)) next = sub;
        }
        if (next) {
            current = next;
            path += " " + word;
            continue;
        }
        const std::string suggestion = mayaflow::closest_match(word, names);
        std::cerr << "error: " << path << " has no command '" << mayaflow::escape_invalid_utf8(word) << "'";
        if (!suggestion.empty()) std::cerr << "; did you mean '" << path << " " << suggestion << "'?";
        std::cerr << " (`" << path << " --help` lists them)\n";
        return true;
    }
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    // The daemon's task supervisor (engine/exec/task_supervisor.h), started by the daemon itself.
    if ((argc == 2 || argc == 3) && std::string_view(argv[1]) == "_supervise") {
        return mayaflow::run_task_supervisor(3, argc == 3 && std::string_view(argv[2]) == "json");
    }
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
    mayaflow::cli::register_stats_commands(app);
    mayaflow::cli::register_users_commands(app);
    mayaflow::cli::register_config_commands(app);
    mayaflow::cli::register_misc_commands(app);
    if (report_unknown_command(app, argc, argv)) return 2;
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
