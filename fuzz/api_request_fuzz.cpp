// HTTP requests to the REST API and the UI's routes, as the server hands them to the router (no
// socket): path and query decoding, routing, authentication headers, every handler's reading of its
// parameters and JSON body, and the answer. The input reads like a request:
//
//   POST /api/v1/dags/hello_mayaflow/dagRuns?x=1
//   content-type: application/json
//   authorization: Basic YWRtaW46YWRtaW4tcHc=
//
//   {"conf": {"a": 1}}
//
// The first line is the method and the target, then headers up to an empty line, then the body.
// Requests with an authorization or cookie header are signed in for real against the store (user
// admin, password admin-pw); the rest come from an admin. The store is a real SQLite database
// holding the example DAG hello_mayaflow with one run; the scheduler is a stand-in that refuses
// every command at once. Every answer must be a status from 100 to 599, and an error answer must be
// problem JSON.

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>

#include "engine/dagfile/dag_loader.h"
#include "engine/model/dag_json.h"
#include "engine/store/sqlite_store.h"
#include "fuzz/fuzz_support.h"
#include "operators/operator_registry.h"
#include "web/api_router.h"
#include "web/auth/password_hash.h"
#include "web/auth/store_authenticator.h"

using namespace mayaflow;

namespace {

// The scheduler's side of the command queue, refusing every command at once, so that a request that
// sends one (trigger, clear, mark …) gets its answer without waiting for a scheduler.
class RefusingCommandQueue : public CommandQueue {
  public:
    Result<long long> enqueue_command(const std::string&, const nlohmann::json&) override { return ++last_id_; }
    Result<std::vector<CommandRecord>> pending_commands() override { return std::vector<CommandRecord>{}; }
    Status finish_command(long long, bool, const nlohmann::json&) override { return Status(); }
    Result<std::optional<CommandRecord>> find_command(long long id) override {
        return std::optional<CommandRecord>(CommandRecord{.id = id,
                                                          .kind = "fuzz",
                                                          .payload = nlohmann::json::object(),
                                                          .state = "failed",
                                                          .result = {{"error", "no scheduler in the fuzz target"}}});
    }

  private:
    long long last_id_ = 0;
};

// Real sign-in for requests that carry credentials; an admin for the rest.
class FuzzAuthenticator : public Authenticator {
  public:
    explicit FuzzAuthenticator(StoreAuthenticator& accounts) : accounts_(accounts) {}
    std::variant<Principal, WebResponse> authenticate(const WebRequest& request) override {
        if (request.headers.contains("authorization") || request.headers.contains("cookie")) {
            return accounts_.authenticate(request);
        }
        return admin_.authenticate(request);
    }

  private:
    StoreAuthenticator& accounts_;
    FixedRoleAuthenticator admin_{Role::admin, "admin"};
};

constexpr int kIterations = 1000;  // cheap password hashes, as tests/web/auth_fixture.h's

// A fresh database with the example DAG and a run, and a router over it.
class Api {
  public:
    Api() {
        static std::atomic<int> counter{0};
        std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
        folder_ = base / ("mayaflow-api-fuzz-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(folder_);
        std::filesystem::create_directories(folder_ / "logs");
        store_ = std::move(SqliteStore::open(StoreOptions{.path = folder_ / "fuzz.db", .durability = Durability::normal}).value());
        Settings settings;
        settings.home = folder_;
        settings.database = folder_ / "fuzz.db";
        settings.logs_folder = folder_ / "logs";
        settings.dags_folder = std::filesystem::path(MAYAFLOW_SOURCE_DIR) / "dags";
        StoreAuthenticatorOptions options;
        options.decoy_iterations = kIterations;
        accounts_ = std::make_unique<StoreAuthenticator>(*store_, options);
        authenticator_ = std::make_unique<FuzzAuthenticator>(*accounts_);
        context_ = std::make_unique<ApiContext>(ApiContext{.store = *store_,
                                                           .runs = *store_,
                                                           .commands = commands_,
                                                           .connection_store = *store_,
                                                           .users = *store_,
                                                           .settings = settings,
                                                           .accounts = accounts_.get()});
        router_ = std::make_unique<ApiRouter>(*context_, *authenticator_);
        add_admin();
        add_example_dag(settings.dags_folder);
    }
    ~Api() {
        router_.reset();
        context_.reset();
        store_.reset();
        std::filesystem::remove_all(folder_);
    }

    WebResponse handle(const WebRequest& request) { return router_->handle(request); }

  private:
    void add_admin() {
        UserRow user;
        user.username = "admin";
        user.email = "admin@example.com";
        user.password_hash = hash_password("admin-pw", kIterations);
        user.roles = {"Admin"};
        user.created_on = user.changed_on = now_instant();
        FUZZ_CHECK(store_->create_user(user).ok());
    }

    void add_example_dag(const std::filesystem::path& dags) {
        auto file = dags / "hello_mayaflow.yaml";
        auto loaded = load_dag_file(file, DagLoadOptions{&builtin_operators(), dags});
        FUZZ_CHECK(loaded.dag.has_value());
        FUZZ_CHECK(store_->record_dag_file_parsed(file.string(), *loaded.dag, to_json(*loaded.dag).dump(), now_instant()).ok());
        DagRunRow run;
        run.pk = store_->next_run_pk().value();
        run.dag_id = loaded.dag->dag_id;
        run.run_id = "manual__2024-03-01T00:00:00+00:00";
        run.run_type = "manual";
        run.state = RunState::running;
        run.dag_version = 1;
        run.logical_date = Instant(std::chrono::hours(24 * 19783));
        run.run_after = run.queued_at = run.data_interval_start = run.data_interval_end = *run.logical_date;
        for (const auto& task : loaded.dag->tasks) {
            TaskInstanceRow row;
            row.task_id = task.task_id;
            row.state = TaskState::failed;
            row.try_number = row.max_tries = 1;
            row.start_date = row.end_date = now_instant();
            run.task_instances.push_back(row);
        }
        StateBatch batch;
        batch.new_runs.push_back(&run);
        FUZZ_CHECK(store_->write_batch(batch).ok());
    }

    std::filesystem::path folder_;
    std::unique_ptr<SqliteStore> store_;
    RefusingCommandQueue commands_;
    std::unique_ptr<StoreAuthenticator> accounts_;
    std::unique_ptr<FuzzAuthenticator> authenticator_;
    std::unique_ptr<ApiContext> context_;
    std::unique_ptr<ApiRouter> router_;
};

std::string_view next_line(std::string_view& text) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    return line;
}

std::optional<WebRequest> read_request(std::string_view text) {
    std::string_view first = next_line(text);
    auto space = first.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    WebRequest request;
    request.method = first.substr(0, space);
    request.target = first.substr(space + 1);
    request.peer = "10.0.0.1";
    while (!text.empty()) {
        std::string_view line = next_line(text);
        if (line.empty()) break;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string name(line.substr(0, colon));
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        std::string_view value = line.substr(colon + 1);
        while (value.starts_with(' ')) value.remove_prefix(1);
        request.headers[name] = value;
    }
    request.body = text;
    return request;
}

// Writes to the database pile up over a long run (variables, pools, users); a fresh one now and
// then keeps each request about as fast as the first.
constexpr int kRequestsPerDatabase = 20000;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static std::unique_ptr<Api> api;
    static int requests = 0;
    if (!api || ++requests % kRequestsPerDatabase == 0) {
        api.reset();
        api = std::make_unique<Api>();
    }
    auto request = read_request(fuzz::as_text(data, size));
    if (!request) return 0;
    WebResponse response = api->handle(*request);
    FUZZ_CHECK(response.status >= 100 && response.status <= 599);
    // An error is a problem (or text); /health's 503 is its usual JSON, each part's status in it.
    const std::string path = request->target.substr(0, request->target.find('?'));
    const bool health = path == "/health" || path == "/api/v1/health";
    if (response.status >= 400 && !response.stream && !(health && response.status == 503)) {
        FUZZ_CHECK(response.content_type == "application/problem+json" || response.content_type.starts_with("text/"));
    }
    if (response.stream) {
        // A server-sent event stream's first piece, as the server would send it at once.
        std::string out;
        (void)response.stream->next(out);
    }
    return 0;
}
