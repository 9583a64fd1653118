#include "scheduler/notification_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/connections/secret_masker.h"
#include "engine/connections/secrets_lookup.h"
#include "engine/util/text.h"
#include "operators/notify/notifier_specs.h"
#include "operators/notify/notify_http.h"
#include "operators/notify/slack_webhook.h"
#include "operators/operator_registry.h"

namespace mayaflow {
namespace {

std::string describe(const NotificationEvent& event) {
    if (event.task_id.empty()) return fmt::format("{} of run {} of DAG '{}'", to_string(event.kind), event.run_id, event.dag_id);
    return fmt::format("{} of task {} (try {}) of run {} of DAG '{}'", to_string(event.kind), event.task_id,
                       event.try_number, event.run_id, event.dag_id);
}

// Where a notifier's messages go: they are sent one at a time per destination.
std::string destination_of(const NotifierCall& call) {
    for (const char* name : {"slack_webhook_conn_id", "http_conn_id"}) {
        auto it = call.params.find(name);
        if (it != call.params.end()) return call.notifier + " " + (it->is_string() ? it->get<std::string>() : it->dump());
    }
    return call.notifier;
}

// The log's last lines for a Slack message's {{ log_tail }}: escaped, and unable to end the code
// block they are put in.
std::string slack_log_excerpt(const std::vector<std::string>& tail) {
    std::vector<std::string> lines;
    for (const auto& line : tail) lines.push_back(notify::slack_code_line(line));
    return join(lines, "\n");
}

}  // namespace

NotificationService::NotificationService(NotificationServiceOptions options) : options_(std::move(options)) {
    const int senders = std::max(options_.senders, 1);
    for (int i = 0; i < senders; ++i) senders_.emplace_back([this] { run(); });
}

NotificationService::~NotificationService() { stop(Duration::zero()); }

void NotificationService::notify(NotificationEvent event) {
    auto shared = std::make_shared<const NotificationEvent>(std::move(event));
    std::lock_guard lock(mutex_);
    if (stopping_) {
        counts_.dropped += static_cast<int>(shared->calls.size());
        return;
    }
    for (size_t i = 0; i < shared->calls.size(); ++i) {
        if (queue_.size() >= options_.max_queued) {
            const Job& oldest = queue_.front();
            spdlog::warn("notifications: {} are waiting; dropping the oldest, {} notifier for {}", queue_.size(),
                         oldest.event->calls[oldest.call].notifier, describe(*oldest.event));
            queue_.pop_front();
            ++counts_.dropped;
        }
        queue_.push_back(Job{shared, i, destination_of(shared->calls[i])});
    }
    wake_.notify_all();
}

void NotificationService::set_base_url(std::string base_url) {
    std::lock_guard lock(mutex_);
    options_.base_url = std::move(base_url);
}

std::string NotificationService::base_url() const {
    std::lock_guard lock(mutex_);
    return options_.base_url;
}

void NotificationService::stop(Duration grace) {
    {
        std::unique_lock lock(mutex_);
        if (senders_.empty()) return;
        stopping_ = true;
        wake_.notify_all();
        const auto give_up_at = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(grace);
        const bool all_sent = wake_.wait_until(lock, give_up_at, [&] { return queue_.empty() && busy_.empty(); });
        if (!all_sent) {
            spdlog::warn("notifications: stopping with {} not sent ({} waiting, {} being sent)", queue_.size() + busy_.size(),
                         queue_.size(), busy_.size());
            counts_.dropped += static_cast<int>(queue_.size());
            queue_.clear();
        }
        abandoned_ = true;
        wake_.notify_all();
    }
    stopping_signal_->cancel("the daemon is stopping");
    for (auto& sender : senders_) sender.join();
    senders_.clear();
}

NotificationService::Counts NotificationService::counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

void NotificationService::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        auto job = queue_.end();
        wake_.wait(lock, [&] {
            if (abandoned_ || (stopping_ && queue_.empty())) return true;
            job = std::find_if(queue_.begin(), queue_.end(), [&](const Job& j) { return !busy_.contains(j.destination); });
            return job != queue_.end();
        });
        if (abandoned_ || job == queue_.end()) return;
        Job taken = std::move(*job);
        queue_.erase(job);
        busy_.insert(taken.destination);
        lock.unlock();
        const Delivered delivered = deliver_call(*taken.event, taken.event->calls[taken.call]);
        lock.lock();
        busy_.erase(taken.destination);
        switch (delivered) {
            case Delivered::sent: ++counts_.sent; break;
            case Delivered::failed: ++counts_.failed; break;
            case Delivered::stopped: ++counts_.dropped; break;
        }
        wake_.notify_all();
    }
}

void NotificationService::deliver(const NotificationEvent& event) {
    for (const auto& call : event.calls) {
        const Delivered delivered = deliver_call(event, call);
        std::lock_guard lock(mutex_);
        switch (delivered) {
            case Delivered::sent: ++counts_.sent; break;
            case Delivered::failed: ++counts_.failed; break;
            case Delivered::stopped: ++counts_.dropped; break;
        }
    }
}

NotificationService::Delivered NotificationService::deliver_call(const NotificationEvent& event, const NotifierCall& call) {
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.delivery_budget);
    const SecretMasker* masker = options_.masker;
    auto mask = [&](const std::string& text) { return masker ? masker->mask(text) : text; };
    const bool to_slack = call.notifier == "slack";
    const std::string link = notification_link(base_url(), event);
    const bool quotes_log = event.kind == NotificationKind::task_failure || event.kind == NotificationKind::task_retry;
    const std::vector<std::string> tail =
        quotes_log ? read_log_tail(event.log_file, kLogTailLines, masker) : std::vector<std::string>{};
    notify::NotificationContent content;
    content.text = mask(default_notification_text(event, tail, link));
    content.body = default_notification_body(event, tail, link, content.text);
    if (masker) content.body = masker->mask_strings(content.body);

    tmpl::RunInfo info = event.run_info;
    if (options_.secrets && !info.connection && !info.variable) read_secrets_through(info, *options_.secrets);
    tmpl::Context context = tmpl::make_airflow_context(info);
    // Slack reads <…> and & as its own markup: what a task printed or its error must not ping a
    // channel or make a link (https://api.slack.com/reference/surfaces/formatting#escaping).
    auto from_task = [&](const std::string& text) { return tmpl::Value(to_slack ? notify::slack_escape(text) : text); };
    context.set("exception", from_task(event.message));
    context.set("reason", from_task(event.message));
    context.set("event", tmpl::Value(std::string(to_string(event.kind))));
    context.set("log_url", tmpl::Value(link));
    context.set("log_tail", tmpl::Value(to_slack ? slack_log_excerpt(tail) : join(tail, "\n")));

    HttpClient& http = options_.http ? *options_.http : notify::notify_http();
    Status sent = [&]() -> Status {
        const OperatorSpec* spec = builtin_operators().find_notifier(call.notifier);
        if (!spec) return make_error("unknown notifier '{}'", call.notifier);
        Task scratch;
        scratch.params = call.params;
        auto rendered = render_templated_params(*spec, scratch, context);
        if (!rendered) return rendered.error();
        if (masker) {
            // Every string that goes out, however deep (Slack's blocks, a webhook's body), keys too;
            // not the headers, which are how a webhook is given its credentials.
            for (auto& [name, value] : rendered->items()) {
                if (name != "headers") value = masker->mask_strings(value);
            }
        }
        ConnectionSource* connections = options_.connections;
        if (!connections) connections = options_.secrets;
        return notify::send_notification(call.notifier, *rendered, content, connections, http, deadline,
                                         stopping_signal_);
    }();
    if (sent) {
        spdlog::info("notification sent: {} notifier for {}", call.notifier, describe(event));
        return Delivered::sent;
    }
    spdlog::warn("notification not sent: {} notifier for {} ({}:{}): {}", call.notifier, describe(event),
                 call.defined_at.file, call.defined_at.line, mask(sent.error().message));
    return stopping_signal_->cancelled() ? Delivered::stopped : Delivered::failed;
}

}  // namespace mayaflow
