#include "scheduler/notifications.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "engine/connections/secret_masker.h"
#include "engine/http/http_message.h"
#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "engine/util/utf8.h"
#include "operators/notify/slack_webhook.h"

namespace mayaflow {
namespace {

constexpr off_t kTailBytes = 64 * 1024;

bool is_task_event(NotificationKind kind) {
    return kind == NotificationKind::task_failure || kind == NotificationKind::task_retry ||
           kind == NotificationKind::task_success;
}

std::string read_end_of_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::string text;
    const off_t size = ::lseek(fd, 0, SEEK_END);
    const off_t from = size > kTailBytes ? size - kTailBytes : 0;
    if (size > 0 && ::lseek(fd, from, SEEK_SET) == from) {
        text.resize(static_cast<size_t>(size - from));
        size_t got = 0;
        while (got < text.size()) {
            const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
            if (n <= 0) break;
            got += static_cast<size_t>(n);
        }
        text.resize(got);
        // A cut in the middle of a line: that first piece is no line of its own.
        if (from > 0) {
            const auto newline = text.find('\n');
            text.erase(0, newline == std::string::npos ? text.size() : newline + 1);
        }
    }
    ::close(fd);
    return text;
}

std::string event_title(const NotificationEvent& event) {
    switch (event.kind) {
        case NotificationKind::task_failure: return ":red_circle: Task failed";
        case NotificationKind::task_retry: return ":large_orange_circle: Task up for retry";
        case NotificationKind::task_success: return ":large_green_circle: Task succeeded";
        case NotificationKind::run_failure: return ":red_circle: DAG run failed";
        case NotificationKind::run_success: return ":large_green_circle: DAG run succeeded";
    }
    return "";
}

}  // namespace

std::string_view to_string(NotificationKind kind) {
    switch (kind) {
        case NotificationKind::task_failure: return "task_failure";
        case NotificationKind::task_retry: return "task_retry";
        case NotificationKind::task_success: return "task_success";
        case NotificationKind::run_failure: return "run_failure";
        case NotificationKind::run_success: return "run_success";
    }
    return "";
}

std::string notification_link(std::string_view base_url, const NotificationEvent& event) {
    std::string base(base_url);
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string link = fmt::format("{}/dags/{}/runs/{}", base, url_encode(event.dag_id), url_encode(event.run_id));
    if (is_task_event(event.kind)) {
        link += fmt::format("/tasks/{}/tries/{}/log", url_encode(event.task_id), event.try_number);
    }
    return link;
}

std::vector<std::string> read_log_tail(const std::filesystem::path& log_file, size_t lines, const SecretMasker* masker) {
    std::string text = read_end_of_file(log_file);
    if (masker) text = masker->mask(text);
    std::vector<std::string> all;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        all.push_back(std::move(line));
        start = end + 1;
    }
    while (!all.empty() && all.back().find_first_not_of(" \t") == std::string::npos) all.pop_back();
    std::vector<std::string> tail;
    for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
        std::string line = all[i].size() > kLogTailLineBytes ? shorten_message(all[i], kLogTailLineBytes)
                                                            : to_valid_utf8(all[i]);
        tail.push_back(std::move(line));
    }
    return tail;
}

std::string default_notification_text(const NotificationEvent& event, const std::vector<std::string>& log_tail,
                                      std::string_view link) {
    using notify::slack_escape;
    std::string text = event_title(event) + fmt::format(": DAG `{}`, run `{}`", slack_escape(event.dag_id),
                                                        slack_escape(event.run_id));
    if (is_task_event(event.kind)) {
        text += fmt::format(", task `{}`, try {} of {}", slack_escape(event.task_id), event.try_number, event.max_tries);
    }
    if (event.kind == NotificationKind::task_retry && event.next_try_at) {
        text += fmt::format("; next try at {}", format_iso8601(*event.next_try_at, TimeZone::utc()));
    }
    text += "\n";
    if (event.kind == NotificationKind::task_failure || event.kind == NotificationKind::task_retry) {
        text += "Error: " + (event.message.empty() ? std::string("(no message)") : slack_escape(event.message)) + "\n";
        if (!log_tail.empty()) {
            text += "Last lines of the log:\n```\n";
            for (const auto& line : log_tail) text += notify::slack_code_line(line) + "\n";
            text += "```\n";
        }
    } else if (event.kind == NotificationKind::run_failure) {
        text += "Reason: " + slack_escape(event.message);
        if (!event.failed_tasks.empty()) text += " (failed tasks: " + slack_escape(join(event.failed_tasks)) + ")";
        text += "\n";
    }
    text += (is_task_event(event.kind) ? "Log: " : "Run: ") + std::string(link);
    return text;
}

nlohmann::json default_notification_body(const NotificationEvent& event, const std::vector<std::string>& log_tail,
                                         std::string_view link, const std::string& text) {
    nlohmann::json body = {
        {"event", std::string(to_string(event.kind))},
        {"dag_id", event.dag_id},
        {"run_id", event.run_id},
        {"message", event.message},
        {"text", text},
    };
    if (is_task_event(event.kind)) {
        body["task_id"] = event.task_id;
        body["try_number"] = event.try_number;
        body["max_tries"] = event.max_tries;
        body["log_tail"] = log_tail;
        body["log_url"] = std::string(link);
    } else {
        body["run_url"] = std::string(link);
        if (event.kind == NotificationKind::run_failure) body["failed_tasks"] = event.failed_tasks;
    }
    if (event.next_try_at) body["next_try_at"] = format_iso8601(*event.next_try_at, TimeZone::utc());
    if (event.run_info.logical_date) {
        body["logical_date"] = format_iso8601(*event.run_info.logical_date, TimeZone::utc());
    }
    return body;
}

}  // namespace mayaflow
