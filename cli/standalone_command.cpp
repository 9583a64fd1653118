// `mayaflow standalone`: everything in one process on an embedded SQLite file — the DAG folder
// watcher, the store and the web server. The first thing a new user runs.

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "cli/cli_support.h"
#include "engine/model/dag_json.h"
#include "operators/operator_registry.h"
#include "scheduler/dag_processor.h"
#include "web/api_router.h"
#include "web/http_server.h"

namespace mayaflow::cli {
namespace {

// Records what the DAG processor finds in the store and says it in the log.
class StoreDagSink : public DagFileSink {
  public:
    explicit StoreDagSink(Store& store) : store_(store) {}

    void dag_loaded(const std::string& filename, const Dag& dag) override {
        auto status = store_.record_dag_file_parsed(filename, dag, to_json(dag).dump(), now_instant());
        if (!status) {
            spdlog::error("could not record DAG '{}' from {}: {}", dag.dag_id, filename, status.error().message);
            return;
        }
        spdlog::info("loaded DAG '{}' ({} tasks) from {}", dag.dag_id, dag.tasks.size(), filename);
    }

    void dag_failed(const std::string& filename, const std::vector<LoadError>& errors) override {
        std::string text = format_errors(errors);
        auto status = store_.record_dag_file_failed(filename, text, now_instant());
        if (!status) spdlog::error("could not record the import error of {}: {}", filename, status.error().message);
        spdlog::warn("broken DAG file {}:\n{}", filename, text);
    }

    void file_deleted(const std::string& filename) override {
        auto status = store_.record_dag_file_deleted(filename);
        if (!status) spdlog::error("could not record that {} is gone: {}", filename, status.error().message);
        spdlog::info("DAG file {} is gone: its DAG is paused and kept with its history", filename);
    }

  private:
    Store& store_;
};

struct StandaloneOptions {
    std::optional<std::string> dags_folder;
    std::optional<std::string> host;
    std::optional<int> port;
};

int wait_for_stop_signal() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    int received = 0;
    sigwait(&signals, &received);
    return received;
}

void run_standalone(const StandaloneOptions& options) {
    // Block the stop signals in every thread; the main thread waits for them with sigwait.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    Settings settings = settings_or_fail();
    if (options.dags_folder) settings.dags_folder = std::filesystem::absolute(*options.dags_folder).lexically_normal();
    if (options.host) settings.web_host = *options.host;
    if (options.port) settings.web_port = *options.port;
    spdlog::set_default_logger(spdlog::stderr_color_mt("mayaflow"));
    spdlog::set_level(spdlog::level::from_str(settings.log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

    std::error_code ec;
    std::filesystem::create_directories(settings.dags_folder, ec);
    if (!std::filesystem::is_directory(settings.dags_folder)) {
        throw CommandFailed{fmt::format("the DAG folder {} does not exist and cannot be created", settings.dags_folder.string())};
    }
    auto store = open_store_or_fail(settings, false);
    StoreDagSink sink(*store);
    DagProcessor processor(DagProcessorOptions{settings.dags_folder, settings.dag_scan_interval, &builtin_operators()}, sink);
    size_t parsed = processor.scan_once();

    ApiRouter router(*store);
    HttpServer server(HttpServerOptions{.host = settings.web_host, .port = settings.web_port},
                      [&router](const HttpRequest& request) { return router.handle(request); });
    auto port = server.start();
    if (!port) throw CommandFailed{port.error().message};
    processor.start();

    std::cout << fmt::format(
                     "mayaflow {} standalone is running\n"
                     "  DAG folder: {} ({} files loaded)\n"
                     "  database:   {}\n"
                     "  web UI:     http://{}:{}/\n"
                     "Press Ctrl+C to stop.\n",
                     MAYAFLOW_VERSION, settings.dags_folder.string(), parsed, settings.database.string(),
                     settings.web_host, *port)
              << std::flush;
    int signal = wait_for_stop_signal();
    spdlog::info("received {}, stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
    processor.stop();
    server.stop();
}

}  // namespace

void register_standalone_command(CLI::App& app) {
    static StandaloneOptions options;
    auto* command = app.add_subcommand(
        "standalone", "Run everything in one process: the DAG folder watcher, the scheduler and the web UI");
    command->add_option("--dags-folder", options.dags_folder, "The folder of DAG files (default: $MAYAFLOW_HOME/dags)");
    command->add_option("--host", options.host, "Address the web server listens on (default 127.0.0.1)");
    command->add_option("--port,-p", options.port, "Port of the web server (default 8080; 0 picks a free one)")
        ->check(CLI::Range(0, 65535));
    command->callback([] { run_standalone(options); });
}

}  // namespace mayaflow::cli
