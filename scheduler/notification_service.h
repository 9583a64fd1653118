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
//
// No notification holds up the others: each may take options.delivery_budget in all (a Retry-After
// past it ends it at once, saying so), destinations are served side by side, and a stop ends every
// wait at once.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/http/http_client.h"
#include "operators/notify/notify_http.h"
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
    size_t max_queued = 10'000;  // notifications; beyond it the oldest waiting one is dropped, with a warning
    // How long one notification may take in all, its sends and the waits between them (Retry-After).
    Duration delivery_budget = notify::kDefaultDeliveryBudget;
    // How many notifications are sent at once. Each destination (a notifier and its connection) gets
    // one at a time, so a slow or rate-limited webhook delays only its own messages.
    int senders = 4;
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
    // Sends what is queued for at most `grace`, then ends the sends under way and drops the rest
    // (logging how many) and stops.
    void stop(Duration grace);

    // Sends one event's notifications now, one after the other, on the calling thread (tests).
    void deliver(const NotificationEvent& event);

    struct Counts {
        int sent = 0;
        int failed = 0;
        int dropped = 0;
    };
    Counts counts() const;

  private:
    // One notifier of one event: what a sender takes from the queue.
    struct Job {
        std::shared_ptr<const NotificationEvent> event;
        size_t call = 0;
        std::string destination;
    };
    enum class Delivered { sent, failed, stopped };

    void run();
    Delivered deliver_call(const NotificationEvent& event, const NotifierCall& call);
    std::string base_url() const;

    NotificationServiceOptions options_;
    std::shared_ptr<notify::CancelSignal> stopping_signal_ = std::make_shared<notify::CancelSignal>();
    mutable std::mutex mutex_;
    std::condition_variable wake_;  // a job queued or finished, a stop
    std::deque<Job> queue_;
    std::set<std::string> busy_;  // destinations with a send under way
    bool stopping_ = false;
    bool abandoned_ = false;  // the grace period is over: senders stop at once
    Counts counts_;
    std::vector<std::thread> senders_;
};

}  // namespace mayaflow
