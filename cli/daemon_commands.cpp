// `mayaflow standalone` and `mayaflow scheduler`: the daemon. The DAG folder watcher feeds the
// scheduler loop, which runs the tasks on a thread pool; standalone also serves the web UI and API.

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>

#include "cli/cli_support.h"
#include "cli/standalone_admin.h"
#include "scheduler/notification_service.h"
#include "engine/connections/masking_log_sink.h"
#include "engine/connections/secret_key_file.h"
#include "engine/connections/secret_masker.h"
#include "engine/connections/secrets_lookup.h"
#include "engine/connections/secrets_repository.h"
#include "engine/model/dag_json.h"
#include "engine/time/duration_text.h"
#include "engine/exec/task_supervisor.h"
#include "engine/store/database_watch.h"
#include "engine/util/file_lock.h"
#include "engine/util/json_log_formatter.h"
#include "operators/operator_registry.h"
#include "scheduler/command_pump.h"
#include "scheduler/daemon_health.h"
#include "scheduler/dag_processor.h"
#include "scheduler/health_probes.h"
#include "scheduler/scheduler_loop.h"
#include "scheduler/thread_pool_executor.h"
#include "cli/web_service.h"

namespace mayaflow::cli {
namespace {

std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
    return name;
}

// The scheduler's copy of a DAG leaves out what only people read (docs, where each task was
// written): with a thousand DAGs in memory it is a third of the daemon's heap. A notebook task
// keeps its file: its relative input_nb and output_nb start from that file's folder when it runs.
Dag lean_copy(const Dag& dag) {
    Dag copy = dag;
    copy.doc_md.clear();
    copy.description.clear();
    for (auto& task : copy.tasks) {
        task.doc_md.clear();
        if (task.operator_name == "notebook") continue;
        task.defined_at.file.clear();
        task.defined_at.file.shrink_to_fit();
    }
    return copy;
}

// Records what the DAG processor finds in the store, hands loaded DAGs to the scheduler, and says
// it in the log.
class DaemonDagSink : public DagFileSink {
  public:
    DaemonDagSink(SqliteStore& store, SchedulerLoop& loop) : store_(store), loop_(loop) {}

    bool dag_loaded(const std::string& filename, const Dag& dag, const std::vector<LoadError>& warnings) override {
        std::vector<std::string> messages;
        for (const auto& warning : warnings) messages.push_back(warning.to_string());
        auto status = store_.record_dag_file_parsed(filename, dag, to_json(dag).dump(), now_instant(), messages);
        if (!status) {
            spdlog::error("could not record DAG '{}' from {}: {}; the file is read again soon", dag.dag_id, filename,
                          status.error().message);
            return false;
        }
        for (const auto& message : messages) spdlog::warn("DAG '{}': {}", dag.dag_id, message);
        auto record = store_.find_dag(dag.dag_id);
        if (!record) return false;
        if (!*record) return true;
        auto shared = std::make_shared<const Dag>(lean_copy(dag));
        int version = (*record)->latest_version;
        bool paused = (*record)->is_paused;
        loop_.post([shared, version, paused](SchedulerCore& core) { core.set_dag(shared, version, paused); });
        spdlog::info("loaded DAG '{}' version {} ({} tasks) from {}", dag.dag_id, version, dag.tasks.size(), filename);
        return true;
    }

    bool dag_failed(const std::string& filename, const std::vector<LoadError>& errors) override {
        std::string text = format_errors(errors);
        auto status = store_.record_dag_file_failed(filename, text, now_instant());
        if (!status) {
            spdlog::error("could not record the import error of {}: {}; the file is read again soon", filename,
                          status.error().message);
            return false;
        }
        spdlog::warn("broken DAG file {}:\n{}", filename, text);
        return true;
    }

    void file_deleted(const std::string& filename, const std::string& dag_id) override {
        // Which DAGs the file defined: the one the processor knows, else (a file from before a
        // restart) those the store has from it.
        std::vector<std::string> dag_ids;
        if (!dag_id.empty()) {
            dag_ids.push_back(dag_id);
        } else if (auto dags = store_.list_dags(false)) {
            for (const auto& dag : *dags) {
                if (dag.fileloc == filename) dag_ids.push_back(dag.dag_id);
            }
        }
        auto status = store_.record_dag_file_deleted(filename);
        if (!status) spdlog::error("could not record that {} is gone: {}", filename, status.error().message);
        for (const auto& id : dag_ids) loop_.post([id](SchedulerCore& core) { core.remove_dag(id); });
        spdlog::info("DAG file {} is gone: its DAG is deactivated (its pause state and history are kept)", filename);
    }

  private:
    SqliteStore& store_;
    SchedulerLoop& loop_;
};

// How often the daemon checks that its database file is still the one it opened and can be written.
constexpr auto kStoreCheckInterval = std::chrono::milliseconds(250);
// How often the scheduler records its heartbeat in the store (for /health in another process), and
// checks that the logs folder takes files.
constexpr auto kHeartbeatInterval = std::chrono::seconds(5);
// How often, while the scheduler cannot commit, writing the heartbeat checks whether the store can again.
constexpr auto kHeartbeatRetryInterval = std::chrono::seconds(1);
// On stop, how long notifications already decided may go on being sent.
constexpr auto kNotificationGrace = std::chrono::seconds(5);
// Set when the database file was deleted or replaced: the daemon stops and exits with an error.
std::atomic<bool> g_database_lost{false};

// Records in `health` whether the database can be written; when the file the daemon opened is no
// longer the one at its path, says so and asks the daemon to stop. Returns false when stopping.
bool check_database(const DatabaseWatch& watch, DaemonHealth& health) {
    auto finding = watch.check();
    if (finding.kind == DatabaseWatch::Finding::Kind::fine) {
        health.set_store_problem(std::nullopt);
        return true;
    }
    auto previous = health.snapshot().store_problem;
    health.set_store_problem(finding.message);
    if (previous != finding.message) spdlog::error("{}", finding.message);
    if (finding.kind != DatabaseWatch::Finding::Kind::lost) return true;
    if (!g_database_lost.exchange(true)) {
        spdlog::critical("the daemon stops: its database file is gone or replaced");
        ::kill(::getpid(), SIGTERM);
    }
    return false;
}

// The DAG files the store knows of: those of its active DAGs and of its import errors.
std::vector<std::string> files_in_store(Store& store) {
    std::vector<std::string> files;
    if (auto dags = store.list_dags(false)) {
        for (const auto& dag : *dags) files.push_back(dag.fileloc);
    }
    if (auto errors = store.list_import_errors()) {
        for (const auto& error : *errors) files.push_back(error.filename);
    }
    return files;
}

// dag_id -> the file it was last loaded from, for each active DAG of the store.
std::map<std::string, std::string> dag_owners_in_store(Store& store) {
    std::map<std::string, std::string> owners;
    if (auto dags = store.list_dags(false)) {
        for (const auto& dag : *dags) owners[dag.dag_id] = dag.fileloc;
    }
    return owners;
}

struct DaemonOptions {
    bool with_web = true;
    std::optional<std::string> dags_folder;
    std::optional<std::string> host;
    std::optional<int> port;
};

// How many tries may run at once under the open-file limit: the web server keeps up to half of it
// for connections, the daemon itself about kBaseDescriptors (the database, the watches, the
// supervisor's socket), and each running try up to kDescriptorsPerTry while it is watched (its
// worker's inotify instance and cancel flag, its process, a look at a file). With more tries than
// that, the workers could hold every descriptor while each waits for one more: the parallelism is
// lowered to what fits, and the daemon says so.
constexpr rlim_t kBaseDescriptors = 48;
constexpr rlim_t kDescriptorsPerTry = 4;

int parallelism_for_descriptors(int parallelism) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return parallelism;
    const rlim_t ours = limit.rlim_cur / 2;
    const int fits = static_cast<int>(
        std::max<rlim_t>(1, ours > kBaseDescriptors ? (ours - kBaseDescriptors) / kDescriptorsPerTry : 1));
    if (parallelism <= fits) return parallelism;
    const auto wanted = 2 * (kBaseDescriptors + kDescriptorsPerTry * static_cast<rlim_t>(parallelism));
    spdlog::warn("the open-file limit is {} descriptors, too few for parallelism {}: running at most {} task{} at "
                 "once. Raise the limit to at least {} (`ulimit -n`, LimitNOFILE= in a systemd unit) for {}",
                 limit.rlim_cur, parallelism, fits, fits == 1 ? "" : "s", wanted, parallelism);
    return fits;
}

std::string_view stop_signal_name(int signal) {
    return signal == SIGINT ? "SIGINT" : signal == SIGHUP ? "SIGHUP" : "SIGTERM";
}

// Waits for SIGINT, SIGTERM or SIGHUP (blocked in every thread) until `deadline`; 0 when none came.
int wait_for_stop_signal(std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);  // a closed terminal or ssh session: a stop like the others, drained
    if (!deadline) {
        int received = 0;
        sigwait(&signals, &received);
        return received;
    }
    auto left = std::max(*deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero());
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(left);
    timespec timeout{static_cast<time_t>(seconds.count()),
                     static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(left - seconds).count())};
    int received = sigtimedwait(&signals, nullptr, &timeout);
    return received < 0 ? 0 : received;
}

// SIGTERM drains: no new tries start; running ones get the grace period to finish; then they are
// ended and go back to be tried again after a restart (without using up a retry). A second
// signal ends the grace period at once. Deferred tries are not waited for: their remote work (a
// BigQuery job) goes on without the daemon, and the next daemon follows it again.
void drain(SchedulerLoop& loop, Duration grace_period) {
    loop.call<bool>([](SchedulerCore& core) {
        core.start_draining();
        return true;
    });
    auto running = [&loop] {
        return loop.call<int>([](SchedulerCore& core) { return core.running_tries() - core.deferred_tries(); });
    };
    int left = running();
    if (left > 0) {
        spdlog::info("waiting up to {} for {} running task tries to finish (a second Ctrl+C or SIGTERM stops them now)",
                     format_duration(grace_period), left);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(grace_period);
    while (left > 0 && std::chrono::steady_clock::now() < deadline) {
        auto step = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
        if (wait_for_stop_signal(step) != 0) break;
        left = running();
    }
    if (left > 0) {
        spdlog::warn("ending {} task tries still running; they run again when the scheduler starts", left);
        loop.call<bool>([](SchedulerCore& core) {
            core.interrupt_running_tries();
            return true;
        });
        // Ending a try sends SIGTERM to its process group, then SIGKILL; its report comes back as it ends.
        auto stop_by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (running() > 0 && std::chrono::steady_clock::now() < stop_by) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    const int deferred = loop.call<int>([](SchedulerCore& core) { return core.deferred_tries(); });
    if (deferred > 0) {
        spdlog::info("leaving {} deferred task tries to their remote work; they are followed again when the scheduler "
                     "starts",
                     deferred);
    }
}

// Blocks the stop signals in every thread (the main thread waits for them with sigwait).
void block_stop_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);  // a closed terminal or ssh session: a stop like the others, drained
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
}

// Every line a daemon logs goes through the secrets masker, then out as text (coloured on a terminal)
// or as JSON lines (log_format: json).
void configure_daemon_logging(const Settings& settings) {
    const bool json = settings.log_format == "json";
    spdlog::sink_ptr out = json ? spdlog::sink_ptr(std::make_shared<spdlog::sinks::stderr_sink_mt>())
                                : spdlog::sink_ptr(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("mayaflow", std::make_shared<MaskingLogSink>(out, process_secret_masker())));
    spdlog::set_level(spdlog::level::from_str(settings.log_level));
    if (json) {
        spdlog::set_formatter(std::make_unique<JsonLogFormatter>());
    } else {
        spdlog::set_pattern(kTextLogPattern);
    }
}

// `mayaflow webserver`: the API and the UI without the scheduler, against the database a scheduler
// (`mayaflow scheduler`, on this machine) works on. Changes go to that scheduler through the command
// queue; /health reads its heartbeat from the store.
void run_webserver(const DaemonOptions& options) {
    block_stop_signals();
    Settings settings = settings_or_fail();
    if (options.host) settings.web_host = *options.host;
    if (options.port) settings.web_port = *options.port;
    configure_daemon_logging(settings);
    std::error_code ec;
    std::filesystem::create_directories(settings.database.parent_path(), ec);
    // The key is the scheduler's to make; without one, connections and variables answer 503.
    std::optional<SecretKeyring> keyring;
    if (auto loaded = load_secret_keyring(process_environment(), settings.home, false)) {
        keyring = std::move(*loaded);
    } else {
        spdlog::warn("connections and variables are not served: {}", loaded.error().message);
    }
    // Users are made with `mayaflow users create` (only `standalone` makes an admin by itself).
    WebService web(WebServiceOptions{.settings = settings, .keyring = std::move(keyring), .auth_required = api_auth_required()});
    std::cout << fmt::format("mayaflow {} webserver is running\n  database:   {}\n  web UI:     http://{}:{}/\n"
                             "Press Ctrl+C to stop.\n",
                             MAYAFLOW_VERSION, settings.database.string(), settings.web_host, web.port())
              << std::flush;
    int signal = wait_for_stop_signal();
    spdlog::info("received {}, stopping", stop_signal_name(signal));
    web.stop();
}

void run_daemon(const DaemonOptions& options) {
    block_stop_signals();

    Settings settings = settings_or_fail();
    if (options.dags_folder) settings.dags_folder = std::filesystem::absolute(*options.dags_folder).lexically_normal();
    if (options.host) settings.web_host = *options.host;
    if (options.port) settings.web_port = *options.port;
    configure_daemon_logging(settings);

    std::error_code ec;
    std::filesystem::create_directories(settings.dags_folder, ec);
    if (!std::filesystem::is_directory(settings.dags_folder)) {
        throw CommandFailed{fmt::format("the DAG folder {} does not exist and cannot be created", settings.dags_folder.string())};
    }
    std::filesystem::create_directories(settings.database.parent_path(), ec);
    // The lock is on the database file itself: a lock file beside it could be deleted from under us.
    auto locking = FileLock::try_acquire(settings.database);
    if (!locking) {
        throw CommandFailed{fmt::format("{}; the database must be a file this user can write (or set MAYAFLOW_DATABASE "
                                        "or MAYAFLOW_HOME to another place)",
                                        locking.error().message)};
    }
    auto& lock = *locking;
    if (!lock) {
        throw CommandFailed{fmt::format("another mayaflow scheduler is running on {} (it holds a lock on that file); "
                                        "stop it first, or give this one another database",
                                        settings.database.string())};
    }
    auto database_watch = DatabaseWatch::watch(settings.database, lock->fd());
    if (!database_watch) throw CommandFailed{database_watch.error().message};
    auto store = open_store_for_daemon(settings);
    DaemonHealth health;
    // Who may sign in is settled before anything starts: the first start makes the admin user.
    const bool auth_required = options.with_web && api_auth_required();
    const std::string sign_in_lines = auth_required ? ensure_standalone_admin(*store, settings.home) : "";

    // The secret key is made at first start when neither MAYAFLOW_SECRET_KEY nor the key file has one.
    auto keyring = load_keyring_for_store(*store, process_environment(), settings.home, true);
    if (!keyring) throw CommandFailed{keyring.error().message};
    SecretsRepository repository(*store, std::move(*keyring));
    SecretsLookup secrets(EnvironmentSecrets(process_environment()), &repository, &process_secret_masker());
    if (Status registered = secrets.register_every_secret(); !registered) spdlog::error("{}", registered.error().message);

    SystemClock clock;
    auto supervisor = TaskSupervisor::start(std::filesystem::read_symlink("/proc/self/exe"), settings.log_format == "json");
    if (!supervisor) throw CommandFailed{supervisor.error().message};
    const int parallelism = parallelism_for_descriptors(settings.parallelism);
    ThreadPoolExecutor executor(builtin_operators(), parallelism, supervisor->get(),
                                TaskSecrets{&secrets, &process_secret_masker()});
    // As many tries again wait in the executor, to start the moment a worker frees.
    SchedulerOptions scheduler_options{.parallelism = parallelism,
                                       .queue_ahead = parallelism,
                                       .logs_folder = settings.logs_folder};
    auto pools = store->list_pools();
    if (!pools) throw CommandFailed{pools.error().message};
    scheduler_options.pools.clear();
    for (const auto& pool : *pools) scheduler_options.pools[pool.name] = pool.slots;
    SchedulerCore core(clock, *store, executor, scheduler_options);
    NotificationService notifications(NotificationServiceOptions{
        .base_url = settings.base_url.empty() ? fmt::format("http://{}:{}", settings.web_host, settings.web_port)
                                              : settings.base_url,
        .secrets = &secrets,
        .masker = &process_secret_masker()});
    core.set_notification_sink(&notifications);
    SchedulerLoop loop(core, executor);
    loop.post([](SchedulerCore& scheduler) {
        auto recovered = scheduler.recover();
        if (!recovered) spdlog::error("recovery after restart failed: {}", recovered.error().message);
    });
    loop.set_turn_observer([&health, &core](const Status& committed) {
        if (committed) {
            health.turn_committed(now_instant(), core.last_turn_wrote());
        } else {
            health.turn_failed(committed.error().message);
        }
    });
    CommandPump commands(*store, *store, *store);
    // Commands wait for the DAG folder's first look: a trigger queued while no scheduler ran names a
    // DAG the scheduler only knows once its file is loaded again. `folder` is set once the processor
    // exists; `commands_open` is touched only on the scheduler's thread, and is set by work posted
    // after the first look's DAGs, so they are in the scheduler before the first command.
    std::atomic<const DagProcessor*> folder{nullptr};
    bool commands_open = false;
    bool opening = false;
    auto pump_commands = [&commands, &commands_open](SchedulerCore& core) {
        if (commands_open) commands.pump(core);
    };
    auto next_store_check = std::chrono::steady_clock::now();
    HealthProbes probes([&store](const SchedulerHeartbeat& beat) { return store->record_scheduler_heartbeat(beat); },
                        health, SchedulerHeartbeat{host_name(), ::getpid(), now_instant(), now_instant()},
                        HealthProbes::Options{.logs_folder = settings.logs_folder,
                                              .interval = kHeartbeatInterval,
                                              .retry_interval = kHeartbeatRetryInterval});
    loop.set_idle_hook(
        [&commands, &health, &database_watch, &next_store_check, &probes, &folder, &commands_open, &opening, &loop,
         &pump_commands](SchedulerCore& scheduler) {
            auto now = std::chrono::steady_clock::now();
            if (now >= next_store_check) {
                next_store_check = now + kStoreCheckInterval;
                if (!check_database(*database_watch, health)) return;
            }
            probes.run_due(now);
            if (!commands_open && !opening) {
                const DagProcessor* processor = folder.load();
                if (processor && !processor->status().loading) {
                    opening = true;
                    loop.post([&commands_open](SchedulerCore&) { commands_open = true; });
                }
            }
            pump_commands(scheduler);
        },
        std::chrono::milliseconds(100));
    // When the scheduler cannot commit at all any more, the daemon stops as on SIGTERM.
    loop.set_fatal_hook([](const std::string&) { ::kill(::getpid(), SIGTERM); });

    DaemonDagSink sink(*store, loop);
    DagProcessor processor(DagProcessorOptions{settings.dags_folder, settings.dag_scan_interval, &builtin_operators()}, sink);
    processor.remember_files(files_in_store(*store));
    processor.remember_dag_owners(dag_owners_in_store(*store));
    folder.store(&processor);
    loop.start();

    // The port first, the DAG folder in the background: /health answers at once, however many
    // DAG files there are to load.
    std::unique_ptr<WebService> web;
    int port = 0;
    if (options.with_web) {
        try {
            web = std::make_unique<WebService>(WebServiceOptions{
                .settings = settings,
                .keyring = repository.keyring(),
                .health = &health,
                .dag_folder_status = [&processor] { return processor.status(); },
                .wake_scheduler = [&loop, &pump_commands] { loop.post(pump_commands); },
                .auth_required = auth_required});
        } catch (const CommandFailed&) {
            loop.stop();
            executor.shutdown();
            throw;
        }
        port = web->port();
        if (settings.base_url.empty()) notifications.set_base_url(fmt::format("http://{}:{}", settings.web_host, port));
    }
    processor.start();

    std::cout << fmt::format("mayaflow {} {} is running\n  DAG folder: {} (loading in the background)\n  database:   {}\n",
                             MAYAFLOW_VERSION, options.with_web ? "standalone" : "scheduler",
                             settings.dags_folder.string(), settings.database.string());
    if (options.with_web) {
        std::cout << sign_in_lines;
        std::cout << fmt::format("  web UI:     http://{}:{}/\n", settings.web_host, port);
    }
    std::cout << "Press Ctrl+C to stop.\n" << std::flush;

    int signal = wait_for_stop_signal();
    if (g_database_lost) {
        spdlog::critical("stopping: no new tasks start");
    } else {
        spdlog::info("received {}, stopping: no new tasks start", stop_signal_name(signal));
    }
    processor.stop();
    drain(loop, settings.shutdown_grace_period);
    loop.stop();
    (void)core.run_turn();  // commits the last reports
    executor.shutdown();
    notifications.stop(kNotificationGrace);
    if (web) web->stop();
    if (g_database_lost) throw CommandFailed{"stopped because the database file was lost (see the log above)"};
    if (auto fatal = loop.fatal_error()) throw CommandFailed{*fatal};
}

}  // namespace

void register_standalone_command(CLI::App& app) {
    static DaemonOptions standalone;
    auto* command = app.add_subcommand(
        "standalone", "Run everything in one process: the DAG folder watcher, the scheduler and the web UI");
    command->add_option("--dags-folder", standalone.dags_folder, "The folder of DAG files (default: $MAYAFLOW_HOME/dags)");
    command->add_option("--host", standalone.host, "Address the web server listens on (default 127.0.0.1)");
    command->add_option("--port,-p", standalone.port, "Port of the web server (default 8080; 0 picks a free one)")
        ->check(CLI::Range(0, 65535));
    command->callback([] { run_daemon(standalone); });

    static DaemonOptions scheduler{.with_web = false};
    auto* scheduler_command = app.add_subcommand("scheduler", "Run the DAG folder watcher and the scheduler, without the web server");
    scheduler_command->add_option("--dags-folder", scheduler.dags_folder, "The folder of DAG files (default: $MAYAFLOW_HOME/dags)");
    scheduler_command->callback([] { run_daemon(scheduler); });

    static DaemonOptions webserver;
    auto* webserver_command = app.add_subcommand(
        "webserver", "Run the web UI and the REST API without the scheduler, against the same database");
    webserver_command->add_option("--host", webserver.host, "Address the web server listens on (default 127.0.0.1)");
    webserver_command->add_option("--port,-p", webserver.port, "Port of the web server (default 8080; 0 picks a free one)")
        ->check(CLI::Range(0, 65535));
    webserver_command->callback([] { run_webserver(webserver); });
}

}  // namespace mayaflow::cli
