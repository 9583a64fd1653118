// `mayaflow variables set|get|delete|list|export|import`, with Airflow's flags, messages and file
// format (a JSON object of key → value; docs/connections.md#variables).

#include <fmt/format.h>

#include <iostream>
#include <set>

#include "cli/cli_support.h"
#include "cli/secrets_cli.h"
#include "engine/connections/python_json.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"

namespace mayaflow::cli {
namespace {

void check_key(const std::string& key) {
    if (Status valid = validate_variable_key(key); !valid) throw CommandFailed{valid.error().message, 2};
}

// Variable.get: the environment first, then the database.
std::optional<std::string> find_value(Secrets& secrets, const std::string& key) {
    if (auto from_environment = secrets.environment.find_variable(key)) return from_environment->value;
    if (!secrets.repository) return std::nullopt;
    auto stored = secrets.repository->find_variable(key);
    if (!stored) throw CommandFailed{stored.error().message};
    if (!*stored) return std::nullopt;
    return (*stored)->value;
}

void get_variable(const std::string& key, bool as_json, const std::optional<std::string>& fallback) {
    auto secrets = open_secrets(false);
    auto value = find_value(secrets, key);
    if (!value) {
        if (!fallback) throw CommandFailed{fmt::format("Variable {} does not exist", key)};
        std::cout << *fallback << "\n";
        return;
    }
    if (as_json) {
        auto parsed = pyjson::loads(*value);
        if (!parsed)
            throw CommandFailed{fmt::format("variable {} is not JSON: {}", key, parsed.error().message)};
        std::cout << pyjson::dumps(*parsed, {.ensure_ascii = false}) << "\n";
        return;
    }
    std::cout << *value << "\n";
}

void set_variable(const std::string& key, const std::string& value,
                  const std::optional<std::string>& description, bool serialize_json) {
    check_key(key);
    // Variable.set(serialize_json=True) stores json.dumps(value, indent=2): the text as a JSON string.
    std::string stored = serialize_json ? pyjson::dumps(pyjson::Json(value), {.indent = 2}) : value;
    auto written = write_secrets([&](SecretsRepository& repository) {
        return repository.put_variables({Variable{key, stored, description}});
    });
    if (!written) throw CommandFailed{written.error().message};
    std::cout << fmt::format("Variable {} created\n", key);
}

void delete_variable(const std::string& key) {
    auto secrets = open_secrets(false);
    auto deleted = repository_or_fail(secrets).delete_variable(key);
    if (!deleted) throw CommandFailed{deleted.error().message};
    if (!*deleted) {
        std::cerr << fmt::format("note: there was no variable {} in the database\n", key);
        return;
    }
    std::cout << fmt::format("Variable {} deleted\n", key);
}

void list_variables(RecordFormat format) {
    auto secrets = open_secrets(false);
    std::map<std::string, std::string> sources;
    if (secrets.repository) {
        auto stored = secrets.repository->list_variables();
        if (!stored) throw CommandFailed{stored.error().message};
        for (const auto& variable : *stored) sources[variable.key] = "database";
    }
    for (const auto& found : secrets.environment.list_variables())
        sources[found.variable.key] = "environment";
    std::vector<pyjson::Json> rows;
    for (const auto& [key, source] : sources) {
        pyjson::Json row = pyjson::Json::object();
        row["key"] = key;
        row["source"] = source;
        rows.push_back(std::move(row));
    }
    print_records(rows, format);
}

void export_variables(const std::string& file) {
    auto secrets = open_secrets(false);
    pyjson::Json all = pyjson::Json::object();
    if (secrets.repository) {
        auto stored = secrets.repository->list_variables();
        if (!stored) throw CommandFailed{stored.error().message};
        for (const auto& variable : *stored) {
            if (Status text = validate_variable_text(variable); !text) {
                throw CommandFailed{"nothing was exported: " + text.error().message +
                                    "; set it again with `mayaflow variables set`"};
            }
            // Airflow writes a value that is JSON text as the JSON it holds. JSON nested too deep to
            // read (stored before mayaflow refused it) is written as its text: imported again, it is
            // the same value.
            auto parsed = pyjson::loads(variable.value);
            if (!parsed && !pyjson::check_nesting(variable.value)) {
                std::cerr << fmt::format(
                    "warning: variable {} holds JSON nested deeper than {} levels; it is "
                    "exported as its text\n",
                    variable.key, pyjson::kMaxNesting);
            }
            all[variable.key] = parsed ? std::move(*parsed) : pyjson::Json(variable.value);
        }
    }
    write_output_file(file, pyjson::dumps(all, {.indent = 4, .sort_keys = true}));
    (file == "-" ? std::cerr : std::cout) << fmt::format("{} variables successfully exported to {}\n",
                                                         all.size(), file == "-" ? "<stdout>" : file);
}

void import_variables(const std::string& file, const std::string& action_on_existing) {
    auto text = read_input_file(file, "Missing variables file.");
    auto parsed = pyjson::loads(text);
    if (!parsed) throw CommandFailed{fmt::format("Invalid variables file: {}", parsed.error().message)};
    if (!parsed->is_object())
        throw CommandFailed{"Invalid variables file: it should hold one JSON object (key → value)."};
    auto secrets = open_secrets(true);
    auto& repository = repository_or_fail(secrets);
    std::set<std::string> existing;
    if (action_on_existing != "overwrite") {
        auto stored = repository.list_variables();
        if (!stored) throw CommandFailed{stored.error().message};
        for (const auto& variable : *stored) {
            if (parsed->contains(variable.key)) existing.insert(variable.key);
        }
    }
    auto python_list = [](const std::set<std::string>& keys) {
        std::vector<std::string> quoted;
        for (const auto& key : keys) quoted.push_back("'" + key + "'");
        return "[" + join(quoted) + "]";
    };
    if (action_on_existing == "fail" && !existing.empty()) {
        throw CommandFailed{fmt::format("Failed. These keys: {} already exists.", python_list(existing))};
    }
    std::vector<Variable> variables;
    std::set<std::string> skipped;
    for (auto it = parsed->begin(); it != parsed->end(); ++it) {
        if (action_on_existing == "skip" && existing.contains(it.key())) {
            skipped.insert(it.key());
            continue;
        }
        check_key(it.key());
        // Variable.set(k, v, serialize_json=not isinstance(v, str)).
        std::string value = it->is_string() ? it->get<std::string>() : pyjson::dumps(*it, {.indent = 2});
        variables.push_back(Variable{it.key(), std::move(value), std::nullopt});
    }
    auto written = write_secrets([&](SecretsRepository& writer) { return writer.put_variables(variables); });
    if (!written) throw CommandFailed{written.error().message};
    std::cout << fmt::format("{} of {} variables successfully updated.\n", variables.size(), parsed->size());
    if (!skipped.empty()) {
        std::cout << fmt::format(
            "The variables with these keys: {} were skipped because they already exists\n",
            python_list(skipped));
    }
}

}  // namespace

void register_variables_commands(CLI::App& app) {
    auto* variables =
        app.add_subcommand("variables", "Manage variables (Airflow's verbs, flags and file format)");
    variables->require_subcommand(1);

    static std::string get_key;
    static bool get_json = false;
    static std::optional<std::string> get_default;
    auto* get = variables->add_subcommand("get", "Get a variable (the environment's first)");
    get->add_option("key", get_key, "Variable key")->required();
    get->add_flag("-j,--json", get_json, "Deserialize JSON variable");
    get->add_option("-d,--default", get_default, "Default value returned if variable does not exist");
    get->callback([] { get_variable(get_key, get_json, get_default); });

    static std::string set_key, set_value;
    static std::optional<std::string> set_description;
    static bool set_json = false;
    auto* set = variables->add_subcommand("set", "Set a variable");
    set->add_option("key", set_key, "Variable key")->required();
    set->add_option("VALUE", set_value, "Variable value")->required();
    set->add_option("--description", set_description,
                    "Variable description, optional when setting a variable");
    set->add_flag("-j,--json", set_json, "Serialize JSON variable");
    set->callback([] { set_variable(set_key, set_value, set_description, set_json); });

    static std::string delete_key;
    auto* remove = variables->add_subcommand("delete", "Delete a variable");
    remove->add_option("key", delete_key, "Variable key")->required();
    remove->callback([] { delete_variable(delete_key); });

    static RecordFormat list_format = RecordFormat::table;
    auto* list =
        variables->add_subcommand("list", "List the variables of the database and of the environment");
    add_record_format_option(*list, list_format);
    list->callback([] { list_variables(list_format); });

    static std::string export_file;
    auto* exporter =
        variables->add_subcommand("export", "Export all variables to a JSON file (values in clear)");
    exporter->add_option("file", export_file, "Export all variables to JSON file, or - for standard output")
        ->required();
    exporter->callback([] { export_variables(export_file); });

    static std::string import_file;
    static std::string action = "overwrite";
    auto* importer = variables->add_subcommand("import", "Import variables from a JSON file");
    importer->add_option("file", import_file, "Import variables from JSON file")->required();
    importer
        ->add_option("-a,--action-on-existing-key", action,
                     "Action to take if we encounter a variable key that "
                     "already exists: overwrite (default), fail or skip")
        ->check(CLI::IsMember({"overwrite", "fail", "skip"}));
    importer->callback([] { import_variables(import_file, action); });
}

}  // namespace mayaflow::cli
