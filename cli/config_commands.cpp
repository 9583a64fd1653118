// `mayaflow config get-value|list`: the settings in Airflow's sections (engine/config/
// settings_description.h), each with where its value came from; secrets shown as "< hidden >".

#include <fmt/format.h>

#include <iostream>

#include "cli/cli_support.h"
#include "cli/output_format.h"
#include "engine/config/settings_description.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow::cli {
namespace {

std::vector<SettingSection> described_settings() {
    auto environment = process_environment();
    auto settings = load_settings(environment);
    if (!settings) throw CommandFailed{"configuration error: " + settings.error().message};
    return describe_settings(*settings, environment);
}

std::vector<std::string> section_names(const std::vector<SettingSection>& sections) {
    std::vector<std::string> names;
    for (const auto& section : sections) names.push_back(section.name);
    return names;
}

const SettingSection& section_or_fail(const std::vector<SettingSection>& sections, const std::string& name) {
    if (const SettingSection* section = find_section(sections, name)) return *section;
    throw CommandFailed{fmt::format("The section [{}] is not found in config; the sections are {}{}",
                                    escape_invalid_utf8(name), join(section_names(sections)),
                                    did_you_mean(name, section_names(sections)))};
}

void get_value(const std::string& section_name, const std::string& option_name) {
    auto sections = described_settings();
    const SettingSection& section = section_or_fail(sections, section_name);
    if (const SettingOption* option = find_option(sections, section_name, option_name)) {
        std::cout << option->value << "\n";
        return;
    }
    std::vector<std::string> keys;
    for (const auto& option : section.options) keys.push_back(option.key);
    throw CommandFailed{fmt::format("The option [{}/{}] is not found in config; [{}] has {}{}", section_name,
                                    escape_invalid_utf8(option_name), section_name, join(keys),
                                    did_you_mean(option_name, keys))};
}

struct ListOptions {
    std::optional<std::string> section;
    OutputFormat format = OutputFormat::table;
    CLI::Option* output = nullptr;
    bool include_sources = false;
    bool include_descriptions = false;
    bool include_env_vars = false;
};

void list_settings(const ListOptions& options) {
    auto sections = described_settings();
    if (options.section) sections = {section_or_fail(sections, *options.section)};
    if (options.output->count()) {
        Listing listing{{"section", "key", "value", "source", "env_var"}, {}};
        for (const auto& section : sections) {
            for (const auto& option : section.options) {
                listing.add({section.name, option.key, option.value, option.source, option.variable});
            }
        }
        print_listing(listing, options.format);
        return;
    }
    // Airflow's default: the airflow.cfg layout, with comments on request.
    std::string text;
    for (const auto& section : sections) {
        if (!text.empty()) text += "\n";
        text += "[" + section.name + "]\n";
        for (const auto& option : section.options) {
            if (options.include_descriptions) text += "# " + option.description + "\n";
            if (options.include_env_vars && !option.variable.empty()) {
                text += "# Variable: " + option.variable + "\n";
            }
            text += option.key + " = " + cell_text(option.value) + "\n";
            if (options.include_sources) text += "# Source: " + option.source + "\n";
        }
    }
    std::cout << text;
}

}  // namespace

void register_config_commands(CLI::App& app) {
    auto* config = app.add_subcommand("config", "Show the configuration (in Airflow's sections)");
    config->require_subcommand(1);

    static std::string get_section, get_option;
    auto* get = config->add_subcommand("get-value", "Print the value of a configuration option");
    get->add_option("section", get_section, "The section, e.g. core")->required();
    get->add_option("option", get_option, "The option, e.g. dags_folder")->required();
    get->callback([] { get_value(get_section, get_option); });

    static ListOptions list_options;
    auto* list = config->add_subcommand("list", "List the configuration options with their values");
    list->add_option("--section", list_options.section, "Only this section");
    list_options.output = add_output_option(*list, list_options.format);
    list_options.output->description(
        "Output format: table, json, yaml or plain (default: the airflow.cfg layout, [section] and key = value)");
    list->add_flag("--include-sources", list_options.include_sources, "Say where each value came from");
    list->add_flag("--include-descriptions", list_options.include_descriptions, "Describe each option");
    list->add_flag("--include-env-vars", list_options.include_env_vars, "Name the environment variable of each option");
    list->callback([] { list_settings(list_options); });
}

}  // namespace mayaflow::cli
