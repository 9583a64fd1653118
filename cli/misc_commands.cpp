// `mayaflow version` and `mayaflow cheat-sheet`: what Airflow users type to find their way.

#include <fmt/format.h>

#include <iostream>

#include "cli/cli_support.h"
#include "cli/output_format.h"

namespace mayaflow::cli {
namespace {

// Airflow's cheat sheet: every command with its one-line help, the commands of each group
// together, the commands without a group first ("Miscellaneous commands").
void print_cheat_sheet(CLI::App& app) {
    auto all = [](CLI::App*) { return true; };
    Listing miscellaneous{{"command", "help"}, {}};
    std::vector<std::pair<CLI::App*, Listing>> groups;
    for (CLI::App* command : app.get_subcommands(all)) {
        if (command->get_name().front() == '_') continue;
        auto subcommands = command->get_subcommands(all);
        if (subcommands.empty()) {
            miscellaneous.add({"mayaflow " + command->get_name(), command->get_description()});
            continue;
        }
        Listing group{{"command", "help"}, {}};
        for (CLI::App* sub : subcommands) {
            group.add({fmt::format("mayaflow {} {}", command->get_name(), sub->get_name()), sub->get_description()});
        }
        groups.emplace_back(command, std::move(group));
    }
    auto print_group = [](const std::string& title, const Listing& listing) {
        std::cout << title << "\n";
        std::size_t width = 0;
        for (const auto& row : listing.rows) width = std::max(width, display_width(row[0].get<std::string>()));
        for (const auto& row : listing.rows) {
            const auto& name = row[0].get<std::string>();
            std::cout << "  " << name << std::string(width - display_width(name), ' ') << "  " << cell_text(row[1])
                      << "\n";
        }
        std::cout << "\n";
    };
    print_group("Miscellaneous commands", miscellaneous);
    for (const auto& [command, listing] : groups) {
        print_group(fmt::format("{} ({})", command->get_name(), command->get_description()), listing);
    }
}

}  // namespace

void register_misc_commands(CLI::App& app) {
    app.add_subcommand("version", "Print mayaflow's version")->callback([] {
        std::cout << MAYAFLOW_VERSION << "\n";
    });
    app.add_subcommand("cheat-sheet", "Print every command with its one-line help")->callback([&app] {
        print_cheat_sheet(app);
    });
}

}  // namespace mayaflow::cli
