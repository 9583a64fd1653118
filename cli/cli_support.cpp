#include "cli/cli_support.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <thread>

#include "engine/dagfile/dag_folder.h"
#include "engine/dagfile/dag_loader.h"
#include "engine/util/file_lock.h"
#include "engine/util/utf8.h"
#include "operators/operator_registry.h"

namespace mayaflow::cli {

Settings settings_or_fail() {
    auto settings = load_settings(process_environment());
    if (!settings) throw CommandFailed{"configuration error: " + settings.error().message};
    return *settings;
}

std::unique_ptr<SqliteStore> open_store_for_daemon(const Settings& settings) {
    auto store = SqliteStore::open(StoreOptions{.path = settings.database, .read_only = false,
                                                .durability = settings.durability});
    if (!store) throw CommandFailed{store.error().message};
    return std::move(*store);
}

std::unique_ptr<SqliteStore> open_store_or_fail(const Settings& settings, bool read_only) {
    // A scheduler runs on the database, yet its write-ahead log or shared-memory index is gone
    // (deleted by hand or by a clean-up script): opening it now would start a new log beside the one
    // the scheduler still writes, and the two would overwrite each other's commits. The scheduler
    // notices within a quarter of a second and stops, writing its commits into the database file.
    // (Asked before SQLite opens the file: see FileLock::is_held.)
    if (std::filesystem::exists(settings.database) && FileLock::is_held(settings.database)) {
        for (const char* suffix : {"-wal", "-shm"}) {
            if (!std::filesystem::exists(settings.database.string() + suffix)) {
                throw CommandFailed{fmt::format(
                    "the database's {} file {}{} is missing while a scheduler runs on it; not opening the "
                    "database, so that no commit is lost. The scheduler stops on its own when it sees this; "
                    "run the command again once it has stopped (or restart it)",
                    suffix, settings.database.string(), suffix)};
            }
        }
    }
    auto store = SqliteStore::open(StoreOptions{.path = settings.database, .read_only = read_only,
                                                .durability = settings.durability});
    if (!store) throw CommandFailed{store.error().message};
    return std::move(*store);
}

namespace {

std::optional<Dag> find_in_folder(const std::string& dag_id, const std::filesystem::path& folder) {
    std::vector<std::string> broken;
    for (auto& loaded : load_dag_folder(folder, DagLoadOptions{&builtin_operators(), folder})) {
        if (loaded.result.dag && loaded.result.dag->dag_id == dag_id) return std::move(loaded.result.dag);
        if (!loaded.result.dag && loaded.file.stem() == dag_id) {
            throw CommandFailed{fmt::format("DAG '{}' does not load:\n{}", dag_id, format_errors(loaded.result.errors))};
        }
    }
    return std::nullopt;
}

}  // namespace

Dag load_dag_or_fail(const std::string& dag_id, const std::optional<std::string>& subdir) {
    if (subdir) {
        auto dag = find_in_folder(dag_id, *subdir);
        if (!dag) throw CommandFailed{fmt::format("no DAG with dag_id '{}' in {}", dag_id, *subdir)};
        return std::move(*dag);
    }
    auto settings = settings_or_fail();
    if (std::filesystem::exists(settings.database)) {
        auto store = open_store_or_fail(settings, true);
        auto record = store->find_dag(dag_id);
        if (!record) throw CommandFailed{record.error().message};
        if (*record) {
            const auto& fileloc = (*record)->fileloc;
            auto folder = std::filesystem::path(fileloc).parent_path();
            auto root = fileloc.starts_with(settings.dags_folder.string()) ? settings.dags_folder : folder;
            auto loaded = load_dag_file(fileloc, DagLoadOptions{&builtin_operators(), root});
            if (!loaded.dag) {
                throw CommandFailed{fmt::format("DAG '{}' does not load from {}:\n{}", dag_id, fileloc,
                                                format_errors(loaded.errors))};
            }
            return std::move(*loaded.dag);
        }
    }
    auto dag = find_in_folder(dag_id, settings.dags_folder);
    if (!dag) {
        throw CommandFailed{fmt::format("no DAG with dag_id '{}': `mayaflow dags list` shows the DAGs, or name the "
                                        "folder to look in with --subdir",
                                        dag_id)};
    }
    return std::move(*dag);
}

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                 OutputFormat format) {
    Listing listing{header, {}};
    for (const auto& row : rows) listing.add(std::vector<pyjson::Json>(row.begin(), row.end()));
    print_listing(listing, format);
}

constexpr auto kAnswerTimeout = std::chrono::seconds(30);

// Hands a command to the scheduler and, when one runs, waits for its answer. Without a running
// scheduler the command waits in the queue and runs when one starts.
namespace {

// The name of the first field of `value` (a command's payload) whose text is not UTF-8, if any.
std::optional<std::string> field_not_utf8(const nlohmann::json& value, const std::string& name) {
    if (value.is_string()) {
        if (!is_valid_utf8(value.get_ref<const std::string&>())) return name;
    } else if (value.is_object()) {
        for (const auto& [key, item] : value.items()) {
            if (!is_valid_utf8(key)) return name.empty() ? escape_invalid_utf8(key) : name + "." + escape_invalid_utf8(key);
            if (auto found = field_not_utf8(item, name.empty() ? key : name + "." + key)) return found;
        }
    } else if (value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i) {
            if (auto found = field_not_utf8(value[i], fmt::format("{}[{}]", name, i))) return found;
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<nlohmann::json> send_command(const std::string& kind, const nlohmann::json& payload) {
    if (auto field = field_not_utf8(payload, "")) {
        throw CommandFailed{fmt::format("the value of {} is not UTF-8 text; names, ids and conf must be UTF-8", *field), 2};
    }
    auto settings = settings_or_fail();
    // Asked before the store is open: is_held opens and closes the database file, which would drop
    // the POSIX locks SQLite holds on it in this process.
    const bool scheduler_running = FileLock::is_held(settings.database);
    auto store = open_store_or_fail(settings, false);
    auto id = store->enqueue_command(kind, payload);
    if (!id) throw CommandFailed{id.error().message};
    if (!scheduler_running) {
        std::cerr << "note: no scheduler is running on " << settings.database.string()
                  << "; the command waits and runs when `mayaflow scheduler` or `mayaflow standalone` starts\n";
        return std::nullopt;
    }
    auto deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
        auto command = store->find_command(*id);
        if (!command) throw CommandFailed{command.error().message};
        if (*command && (*command)->state == "done") return (*command)->result;
        if (*command && (*command)->state == "failed") {
            throw CommandFailed{(*command)->result.value("error", std::string("the scheduler refused the command"))};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw CommandFailed{"the scheduler did not answer within 30 s; the command stays queued"};
}

}  // namespace mayaflow::cli
