#include "scheduler/notification_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine/connections/secret_masker.h"
#include "engine/connections/secrets_lookup.h"
#include "engine/util/text.h"
#include "operators/notify/notifier_specs.h"
#include "operators/notify/notify_http.h"
#include "operators/operator_registry.h"

namespace mayaflow {
namespace {

std::string describe(const NotificationEvent& event) {
    if (event.task_id.empty()) return fmt::format("{} of run {} of DAG '{}'", to_string(event.kind), event.run_id, event.dag_id);
    return fmt::format("{} of task {} (try {}) of run {} of DAG '{}'", to_string(event.kind), event.task_id,
                       event.try_number, event.run_id, event.dag_id);
}

}  // namespace

NotificationService::NotificationService(NotificationServiceOptions options) : options_(std::move(options)) {
    thread_ = std::thread([this] { run(); });
}

NotificationService::~NotificationService() { stop(Duration::zero()); }

void NotificationService::notify(NotificationEvent event) {
    std::lock_guard lock(mutex_);
    if (stopping_) {
        ++counts_.dropped;
        return;
    }
    if (queue_.size() >= options_.max_queued) {
        spdlog::warn("notifications: {} are waiting; dropping the oldest, {}", queue_.size(), describe(queue_.front()));
        queue_.pop_front();
        ++counts_.dropped;
    }
    queue_.push_back(std::move(event));
    wake_.notify_one();
}

void NotificationService::set_base_url(std::string base_url) {
    std::lock_guard lock(mutex_);
    options_.base_url = std::move(base_url);
}

void NotificationService::stop(Duration grace) {
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            stopping_ = true;
            give_up_at_ = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(grace);
        }
        wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
}

NotificationService::Counts NotificationService::counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

void NotificationService::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        if (stopping_ && std::chrono::steady_clock::now() >= give_up_at_) {
            spdlog::warn("notifications: stopping with {} not sent", queue_.size());
            counts_.dropped += static_cast<int>(queue_.size());
            queue_.clear();
            return;
        }
        NotificationEvent event = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        deliver(event);
        lock.lock();
    }
}

void NotificationService::deliver(const NotificationEvent& event) {
    std::string base_url;
    {
        std::lock_guard lock(mutex_);
        base_url = options_.base_url;
    }
    auto mask = [&](const std::string& text) { return options_.masker ? options_.masker->mask(text) : text; };
    const std::string link = notification_link(base_url, event);
    const bool quotes_log = event.kind == NotificationKind::task_failure || event.kind == NotificationKind::task_retry;
    const std::vector<std::string> tail =
        quotes_log ? read_log_tail(event.log_file, kLogTailLines, options_.masker) : std::vector<std::string>{};
    notify::NotificationContent content;
    content.text = mask(default_notification_text(event, tail, link));
    content.body = default_notification_body(event, tail, link, content.text);

    tmpl::RunInfo info = event.run_info;
    if (options_.secrets && !info.connection && !info.variable) read_secrets_through(info, *options_.secrets);
    tmpl::Context context = tmpl::make_airflow_context(info);
    context.set("exception", tmpl::Value(event.message));
    context.set("reason", tmpl::Value(event.message));
    context.set("event", tmpl::Value(std::string(to_string(event.kind))));
    context.set("log_url", tmpl::Value(link));
    context.set("log_tail", tmpl::Value(join(tail, "\n")));

    HttpClient& http = options_.http ? *options_.http : notify::notify_http();
    for (const auto& call : event.calls) {
        Status sent = [&]() -> Status {
            const OperatorSpec* spec = builtin_operators().find_notifier(call.notifier);
            if (!spec) return make_error("unknown notifier '{}'", call.notifier);
            Task scratch;
            scratch.params = call.params;
            auto rendered = render_templated_params(*spec, scratch, context);
            if (!rendered) return rendered.error();
            for (auto& [name, value] : rendered->items()) {
                if (value.is_string()) value = mask(value.get<std::string>());
            }
            ConnectionSource* connections = options_.connections;
            if (!connections) connections = options_.secrets;
            return notify::send_notification(call.notifier, *rendered, content, connections, http);
        }();
        std::lock_guard lock(mutex_);
        if (sent) {
            ++counts_.sent;
            spdlog::info("notification sent: {} notifier for {}", call.notifier, describe(event));
        } else {
            ++counts_.failed;
            spdlog::warn("notification not sent: {} notifier for {} ({}:{}): {}", call.notifier, describe(event),
                         call.defined_at.file, call.defined_at.line, mask(sent.error().message));
        }
    }
}

}  // namespace mayaflow
