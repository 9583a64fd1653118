#pragma once
// NotificationService sends the scheduler's notifications on a thread of its own: it renders each
// notifier's templated parameters (Airflow's context, plus `exception`, `reason`, `log_url`,
// `log_tail` and `event`), reads the try's last log lines, and posts through the notifiers of
// operators/notify. A notification that cannot be sent (no connection, a bad URL, an HTTP error, a
// timeout) is logged, with secrets masked, and that is all: it is not sent again and changes no state.
//
// What is guaranteed: an event is handed over only after the transition it reports was committed,
// and a restarted daemon does not make events for transitions committed before it stopped — so no
// event is sent twice because of a restart. An event still queued or being sent when the daemon
// dies (or after stop()'s grace period) is lost: delivery is at most once per event (the HTTP client
// sends a message again only when it certainly was not acted on: notify_http.h).

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "engine/http/http_client.h"
#include "scheduler/notifications.h"

namespace mayaflow {

class ConnectionSource;
class SecretMasker;
class SecretsLookup;

struct NotificationServiceOptions {
    std::string base_url = "http://127.0.0.1:8080";  // the web UI, for links (Settings::base_url)
    SecretsLookup* secrets = nullptr;  // connections for the notifiers, conn. and var. for templates
    ConnectionSource* connections = nullptr;  // the notifiers' connections when not `secrets` (tests)
    const SecretMasker* masker = nullptr;
    HttpClient* http = nullptr;  // null: notify::notify_http()
    size_t max_queued = 10'000;  // beyond it the oldest waiting event is dropped, with a warning
};

class NotificationService : public NotificationSink {
  public:
    explicit NotificationService(NotificationServiceOptions options);
    ~NotificationService() override;  // stop(0)
    NotificationService(const NotificationService&) = delete;
    NotificationService& operator=(const NotificationService&) = delete;

    void notify(NotificationEvent event) override;
    // The web server's port is known only once it listens.
    void set_base_url(std::string base_url);
    // Sends what is queued for at most `grace`, then drops the rest (logging how many) and stops.
    void stop(Duration grace);

    // Sends one event's notifications now, on the calling thread (the service's thread, and tests).
    void deliver(const NotificationEvent& event);

    struct Counts {
        int sent = 0;
        int failed = 0;
        int dropped = 0;
    };
    Counts counts() const;

  private:
    void run();

    NotificationServiceOptions options_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<NotificationEvent> queue_;
    bool stopping_ = false;
    std::chrono::steady_clock::time_point give_up_at_ = std::chrono::steady_clock::time_point::max();
    Counts counts_;
    std::thread thread_;
};

}  // namespace mayaflow
