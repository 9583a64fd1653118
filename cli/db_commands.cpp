// `mayaflow db …`: create or upgrade the database, check its integrity.

#include <iostream>

#include "cli/cli_support.h"

namespace mayaflow::cli {

void register_db_commands(CLI::App& app) {
    auto* db = app.add_subcommand("db", "Manage mayaflow's database");
    db->require_subcommand(1);
    db->add_subcommand("migrate", "Create the database or apply pending migrations")->callback([] {
        auto settings = settings_or_fail();
        auto applied = migrate_database(settings.database);
        if (!applied) throw CommandFailed{applied.error().message};
        if (applied->empty()) {
            std::cout << "Database " << settings.database.string() << " is up to date\n";
        }
        for (const auto& name : *applied) std::cout << "Applied migration " << name << "\n";
    });
    db->add_subcommand("check", "Run SQLite's integrity check on the database")->callback([] {
        auto settings = settings_or_fail();
        auto store = open_store_or_fail(settings, true);
        auto result = store->integrity_check();
        if (!result) throw CommandFailed{result.error().message};
        if (*result != "ok") throw CommandFailed{"integrity check failed:\n" + *result};
        std::cout << "Database " << settings.database.string() << ": integrity check ok\n";
    });
}

}  // namespace mayaflow::cli
