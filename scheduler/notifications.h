#pragma once
// Notifications are what the scheduler tells the notifiers a DAG file names in on_failure_callback,
// on_retry_callback and on_success_callback (docs/notifications.md). The scheduler core makes a
// NotificationEvent as a transition that calls for one is decided, and hands it to a
// NotificationSink only after that transition is committed; the sink sends it on its own thread.
// Sending never blocks the scheduler's loop and never changes a task's state.
//
// This file holds the events and the default message: plain functions, tested without a network.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/dag.h"
#include "engine/template/airflow_context.h"

namespace mayaflow {

class SecretMasker;

enum class NotificationKind { task_failure, task_retry, task_success, run_failure, run_success };
// "task_failure", "task_retry", …: what a webhook's default body calls the event.
std::string_view to_string(NotificationKind kind);

struct NotificationEvent {
    NotificationKind kind = NotificationKind::task_failure;
    std::vector<NotifierCall> calls;
    std::string dag_id;
    std::string run_id;
    std::string task_id;  // "" for a run's events
    int try_number = 0;
    int max_tries = 0;
    // The try's error (its one-line message), or why a run ended: task_failure, timed_out,
    // all_tasks_deadlocked, success (Airflow's reasons).
    std::string message;
    std::filesystem::path log_file;      // the try's log; empty for a run's events
    std::optional<Instant> next_try_at;  // task_retry
    std::vector<std::string> failed_tasks;  // run_failure
    tmpl::RunInfo run_info;              // for the notifiers' templates
};

class NotificationSink {
  public:
    virtual ~NotificationSink() = default;
    // Takes the event to send later; must return at once.
    virtual void notify(NotificationEvent event) = 0;
};

// How many lines of a try's log a message quotes, and how much of each.
inline constexpr size_t kLogTailLines = 20;
inline constexpr size_t kLogTailLineBytes = 500;

// The link to the try's log in the web UI, <base_url>/dags/<dag>/runs/<run>/tasks/<task>/tries/<n>/log,
// or to the run, <base_url>/dags/<dag>/runs/<run>, for a run's events; each id percent-encoded.
std::string notification_link(std::string_view base_url, const NotificationEvent& event);

// The last `lines` lines of a log file (at most its last 64 KiB), each cut to kLogTailLineBytes,
// with secrets masked. Empty when the file is missing.
std::vector<std::string> read_log_tail(const std::filesystem::path& log_file, size_t lines, const SecretMasker* masker);

// mayaflow's message about an event, in Slack's mrkdwn: what happened to which DAG, run, task and
// try, the error, the log's last lines in a code block, and the link. Everything taken from the
// event is escaped for Slack (notify::slack_escape), so a log line cannot ping a channel or make a link.
std::string default_notification_text(const NotificationEvent& event, const std::vector<std::string>& log_tail,
                                      std::string_view link);

// A webhook's default body: the event as JSON, `text` included.
nlohmann::json default_notification_body(const NotificationEvent& event, const std::vector<std::string>& log_tail,
                                         std::string_view link, const std::string& text);

}  // namespace mayaflow
