#pragma once
// What `connections …`, `variables …` and `rotate-secret-key` share: the store with its secret
// keys, the environment's connections and variables, and Airflow's four output formats.

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "cli/output_format.h"
#include "engine/config/settings.h"
#include "engine/connections/environment_secrets.h"
#include "engine/connections/python_json.h"
#include "engine/connections/secrets_repository.h"
#include "engine/store/sqlite_store.h"

namespace mayaflow::cli {

// The database's connections and variables with the key to open them, and the environment's.
struct Secrets {
    Settings settings;
    std::unique_ptr<SqliteStore> store;  // null when reading and no database exists yet
    std::unique_ptr<SecretsRepository> repository;
    EnvironmentSecrets environment;
};

// Opens the database (creating it and the key file when `for_writing`) and the environment.
Secrets open_secrets(bool for_writing);
SecretsRepository& repository_or_fail(Secrets& secrets);

// Runs `write(repository)` on secrets opened for writing. When `rotate-secret-key` committed between
// the reading of the key and the write (the store refuses the write: is_key_rotated), opens them
// again — reading the new key — and writes again, so nothing is ever sealed with a key that is gone.
template <class Write>
auto write_secrets(Write&& write) {
    constexpr int kTries = 5;
    for (int attempt = 1;; ++attempt) {
        auto secrets = open_secrets(true);
        auto result = write(repository_or_fail(secrets));
        if (result || !is_key_rotated(result.error()) || attempt == kTries) return result;
    }
}

// Airflow's `-o table|json|yaml|plain` (cli/output_format.h).
using RecordFormat = OutputFormat;
inline void add_record_format_option(CLI::App& command, RecordFormat& format) { add_output_option(command, format); }
// Prints records (objects with the same keys, in order) as Airflow's AirflowConsole does.
inline void print_records(const std::vector<pyjson::Json>& records, RecordFormat format) {
    print_listing(listing_of_records(records), format);
}

// Writes `text` to `file`, or to standard output for "-"; a file holding secrets is made private.
void write_output_file(const std::string& file, const std::string& text);

// Reads a whole file for an import; fails with `missing_message` when it does not exist.
std::string read_input_file(const std::string& file, const std::string& missing_message);

}  // namespace mayaflow::cli
