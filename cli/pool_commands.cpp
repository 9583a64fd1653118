// `mayaflow pools list|set|delete`: the pools that limit how many tasks naming them run at once.

#include <fmt/format.h>

#include <iostream>

#include "cli/cli_support.h"

namespace mayaflow::cli {

void register_pool_commands(CLI::App& app) {
    auto* pools = app.add_subcommand("pools", "List, create, resize and delete pools");
    pools->require_subcommand(1);

    static OutputFormat list_format = OutputFormat::table;
    auto* list = pools->add_subcommand("list", "List the pools and their slots");
    add_output_option(*list, list_format);
    list->callback([] {
        auto settings = settings_or_fail();
        auto store = open_store_or_fail(settings, true);
        auto listed = store->list_pools();
        if (!listed) throw CommandFailed{listed.error().message};
        std::vector<std::vector<std::string>> rows;
        for (const auto& pool : *listed) rows.push_back({pool.name, std::to_string(pool.slots), pool.description});
        print_table({"pool", "slots", "description"}, rows, list_format);
    });

    static std::string set_name, set_description;
    static int set_slots = 0;
    auto* set = pools->add_subcommand("set", "Create a pool or change its slots (tasks name it with `pool:`)");
    set->add_option("name", set_name, "The pool's name")->required();
    set->add_option("slots", set_slots, "How many slots (a task takes `pool_slots`, default 1)")
        ->required()
        ->check(CLI::Range(0, 1'000'000));
    set->add_option("description", set_description, "What the pool is for");
    set->callback([] {
        auto answer = send_command("pool_set", {{"name", set_name}, {"slots", set_slots}, {"description", set_description}});
        if (answer) std::cout << fmt::format("Pool {} has {} slots\n", set_name, set_slots);
    });

    static std::string delete_name;
    auto* remove = pools->add_subcommand("delete", "Delete a pool (tasks that name it then fail until it exists again)");
    remove->add_option("name", delete_name, "The pool's name")->required();
    remove->callback([] {
        auto answer = send_command("pool_delete", {{"name", delete_name}});
        if (answer) std::cout << fmt::format("Pool {} deleted\n", delete_name);
    });
}

}  // namespace mayaflow::cli
