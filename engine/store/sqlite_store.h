#pragma once
// SqliteStore keeps mayaflow's state in one SQLite file in WAL mode: one writer, any number of
// readers, migrations applied on open.

#include <filesystem>
#include <memory>
#include <mutex>

#include "engine/store/command_queue.h"
#include "engine/store/connection_store.h"
#include "engine/store/history_cleanup.h"
#include "engine/store/run_store.h"
#include "engine/store/sqlite.h"
#include "engine/store/store.h"
#include "engine/store/user_store.h"

namespace mayaflow {

enum class Durability {
    normal,  // synchronous=NORMAL: survives a crash of the process, may lose the last commits on power loss
    full,    // synchronous=FULL: survives a power loss too, at one more fsync per commit
};

struct StoreOptions {
    std::filesystem::path path;
    bool read_only = false;
    bool migrate = true;  // apply pending migrations when opening read-write
    Durability durability = Durability::full;
};

class SqliteStore : public Store, public RunStore, public CommandQueue, public ConnectionStore, public UserStore {
  public:
    static Result<std::unique_ptr<SqliteStore>> open(const StoreOptions& options);

    Status record_dag_file_parsed(const std::string& filename, const Dag& dag, const std::string& serialized,
                                  Instant now, const std::vector<std::string>& warnings = {}) override;
    Status record_dag_file_failed(const std::string& filename, const std::string& errors, Instant now) override;
    Status record_dag_file_deleted(const std::string& filename) override;

    Result<std::vector<DagRecord>> list_dags(bool include_inactive) override;
    Result<std::optional<DagRecord>> find_dag(const std::string& dag_id) override;
    Result<std::optional<DagVersionRecord>> latest_dag_version(const std::string& dag_id) override;
    Result<std::vector<ImportErrorRecord>> list_import_errors() override;
    Status set_paused(const std::string& dag_id, bool paused) override;
    Result<std::vector<DagWarningRecord>> list_dag_warnings(const std::string& dag_id) override;
    Result<std::string> api_signing_key() override;
    Status record_scheduler_heartbeat(const SchedulerHeartbeat& heartbeat) override;
    Result<std::optional<SchedulerHeartbeat>> latest_scheduler_heartbeat() override;
    Result<StateCounts> count_states() override;
    Result<std::vector<StateChange>> state_changes_since(long long after_seq, int max_batches) override;
    Result<long long> latest_state_seq() override;

    // RunStore, in sqlite_run_store.cpp.
    Status write_batch(StateBatch& batch) override;
    Result<long long> next_run_pk() override;
    Result<std::vector<DagRunRow>> load_unfinished_runs() override;
    Result<std::optional<std::pair<Instant, Instant>>> latest_automated_interval(const std::string& dag_id) override;
    Result<std::optional<DagRunRow>> find_conflicting_run(const std::string& dag_id, const std::string& run_id,
                                                          std::optional<Instant> logical_date) override;
    Result<std::vector<DagRunRow>> list_runs(const RunFilter& filter) override;
    Result<std::optional<DagRunRow>> find_run(const std::string& dag_id, const std::string& run_id,
                                              bool with_tasks) override;
    Result<std::vector<TaskCostTotal>> task_cost_totals(const std::string& dag_id, Instant from, Instant to) override;
    Result<std::vector<DagCostTotal>> dag_cost_totals(Instant from, Instant to) override;
    Result<TaskCostPage> costliest_tries(const TaskCostQuery& query) override;
    Result<std::optional<std::string>> dag_version_json(const std::string& dag_id, int version) override;
    Result<std::optional<PreviousTaskInstance>> previous_task_instance(const std::string& dag_id, Instant logical_date,
                                                                       const std::string& task_id,
                                                                       bool exclude_manual) override;
    Result<RunPage> query_runs(const RunQuery& query) override;
    Result<TaskInstancePage> query_task_instances(const TaskInstanceQuery& query) override;
    Result<std::vector<TaskTryRow>> list_task_tries(const std::string& dag_id, const std::string& run_id,
                                                    const std::string& task_id) override;
    Result<std::vector<RunStateCount>> count_runs_by_state(const std::vector<std::string>& dag_ids) override;
    Result<bool> set_run_note(const std::string& dag_id, const std::string& run_id,
                              const std::optional<std::string>& note) override;
    Result<bool> set_task_note(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                               const std::optional<std::string>& note) override;
    Result<std::vector<PoolRecord>> list_pools() override;
    Status set_pool(const PoolRecord& pool) override;
    Status delete_pool(const std::string& name) override;
    // Backfills, in sqlite_backfill_store.cpp.
    Result<long long> next_backfill_id() override;
    Result<std::vector<BackfillRow>> list_backfills(std::optional<std::string> dag_id, bool only_active) override;
    Result<std::optional<BackfillRow>> find_backfill(long long id) override;

    // CommandQueue, in sqlite_command_queue.cpp.
    Result<long long> enqueue_command(const std::string& kind, const nlohmann::json& payload) override;
    Result<std::vector<CommandRecord>> pending_commands() override;
    Status finish_command(long long id, bool ok, const nlohmann::json& result) override;
    Result<std::optional<CommandRecord>> find_command(long long id) override;

    // The schema version applied, and the migrations applied by this open (for `db migrate`).
    Result<int> schema_version();
    // SQLite's integrity check: "ok" or the problems it found.
    Result<std::string> integrity_check();
    // `db clean`: deletes (or counts) the history older than request.before, in transactions of
    // request.batch_size runs (engine/store/history_cleanup.h says what is kept); in
    // sqlite_history_cleanup.cpp.
    Result<CleanupResult> clean_history(const CleanupRequest& request);

    // ConnectionStore, in sqlite_connection_store.cpp.
    Result<std::vector<ConnectionRow>> list_connections() override;
    Result<std::optional<ConnectionRow>> find_connection(const std::string& conn_id) override;
    Result<std::vector<bool>> put_connections(const std::vector<ConnectionRow>& rows, bool replace_existing,
                                              const SealingKeys& keys) override;
    Result<bool> delete_connection(const std::string& conn_id) override;
    Result<std::vector<VariableRow>> list_variables() override;
    Result<std::optional<VariableRow>> find_variable(const std::string& key) override;
    Status put_variables(const std::vector<VariableRow>& rows, const SealingKeys& keys) override;
    Result<bool> delete_variable(const std::string& key) override;
    Result<int> reseal_secrets(const Resealer& reseal, const SealingKeys& keys) override;
    Result<std::int64_t> secrets_version() override;

    // UserStore, in sqlite_user_store.cpp.
    Result<std::vector<UserRow>> list_users() override;
    Result<long long> count_users() override;
    Result<std::optional<UserRow>> find_user(const std::string& username) override;
    Result<bool> create_user(const UserRow& user) override;
    Result<bool> update_user(const std::string& username, const UserRow& user) override;
    Result<bool> delete_user(const std::string& username) override;
    Status record_login(const std::string& username, bool succeeded, Instant now) override;
    Result<long long> create_token(const ApiTokenRow& token) override;
    Result<std::vector<ApiTokenRow>> list_tokens(const std::optional<std::string>& username) override;
    Result<std::optional<ApiTokenRow>> find_token(long long id) override;
    Result<std::optional<ApiTokenRow>> find_token_by_hash(const std::string& token_hash) override;
    Result<bool> revoke_token(long long id) override;
    Status record_token_use(long long id, Instant now) override;
    Status create_session(const SessionRow& session) override;
    Result<std::optional<SessionRow>> find_session(const std::string& session_hash, Instant now) override;
    Result<bool> delete_session(const std::string& session_hash) override;
    Result<std::int64_t> credentials_version() override;

  private:
    explicit SqliteStore(sqlite::Database db) : db_(std::move(db)) {}
    Status migrate();
    Result<std::vector<TaskInstanceRow>> load_task_instances(long long run_pk);
    Status write_backfill(const BackfillRow& backfill);  // inside write_batch's transaction
    Status append_state_event(const StateBatch& batch);  // likewise
    Status delete_run_rows(long long run_pk);            // likewise
    Status delete_dag_rows(const std::string& dag_id);   // likewise
    Status check_sealing_key(const SealingKeys& keys);   // inside a write transaction of secrets
    // The users' helpers, called with mutex_ held.
    Result<std::optional<UserRow>> find_user_locked(const std::string& username);
    Result<std::vector<std::string>> load_user_roles(long long user_id);
    Status write_user_roles(long long user_id, const std::vector<std::string>& roles);

    std::mutex mutex_;  // one connection, used by one thread at a time
    sqlite::Database db_;
    int batches_since_trim_ = 0;  // state events are trimmed every so many batches
};

// Applies pending migrations to the database at `path` and says what it did.
Result<std::vector<std::string>> migrate_database(const std::filesystem::path& path);

}  // namespace mayaflow
