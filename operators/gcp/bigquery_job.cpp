#include "operators/gcp/bigquery_job.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/http/http_message.h"
#include "engine/time/iso8601.h"
#include "engine/time/time_zone.h"
#include "engine/util/hash.h"

namespace mayaflow::gcp {
namespace {

constexpr size_t kMaxJobIdLength = 1024;

std::string job_id_text(std::string_view text) {
    std::string out;
    for (char c : text) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                             c == '-';
        out += allowed ? c : '_';
    }
    return out;
}

std::string string_member(const nlohmann::json& object, const char* name) {
    if (!object.is_object()) return "";
    auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string bigquery_job_id(std::string_view head, Instant logical_date, std::optional<int> try_number,
                            const nlohmann::json& configuration, std::string_view salt) {
    ContentHash hash;
    hash.add(configuration.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    hash.add(salt);
    // 20240101T000000 (the logical date in UTC, as ts_nodash without the zone)
    std::string date = format_iso8601(logical_date, TimeZone::utc()).substr(0, 19);
    date.erase(std::remove_if(date.begin(), date.end(), [](char c) { return c == '-' || c == ':'; }), date.end());
    const std::string tail =
        try_number ? fmt::format("_{}_{}_{}", date, *try_number, hash.hex()) : fmt::format("_{}_{}", date, hash.hex());
    std::string text = job_id_text(head);
    // Ids of 250 characters each fit; longer heads are cut so the whole stays within BigQuery's limit.
    if (text.size() + tail.size() > kMaxJobIdLength) text.resize(kMaxJobIdLength - tail.size());
    return text + tail;
}

std::string bigquery_job_id(std::string_view dag_id, std::string_view task_id, Instant logical_date, int try_number,
                            const nlohmann::json& configuration, std::string_view salt) {
    return bigquery_job_id(fmt::format("mayaflow_{}_{}", dag_id, task_id), logical_date, try_number, configuration,
                           salt);
}

std::string bigquery_console_link(std::string_view project, std::string_view location, std::string_view job_id) {
    return fmt::format("https://console.cloud.google.com/bigquery?project={}&j=bq:{}:{}&page=queryresults",
                       url_encode(project), url_encode(location), url_encode(job_id));
}

std::string bigquery_job_error(const nlohmann::json& job) {
    if (!job.is_object() || !job.contains("status") || !job["status"].is_object()) return "";
    const auto& status = job["status"];
    if (!status.contains("errorResult") || !status["errorResult"].is_object()) return "";
    const auto& error = status["errorResult"];
    std::string reason = string_member(error, "reason");
    std::string message = string_member(error, "message");
    if (message.empty()) message = "the job failed without a message";
    return reason.empty() ? message : reason + ": " + message;
}

BigQueryJob::BigQueryJob(GoogleApi api, std::string base_url, std::string project, std::string location,
                         std::string job_id, nlohmann::json configuration, Log log, BigQueryPolling polling)
    : api_(std::move(api)),
      base_url_(std::move(base_url)),
      project_(std::move(project)),
      location_(std::move(location)),
      job_id_(std::move(job_id)),
      configuration_(std::move(configuration)),
      log_(std::move(log)),
      polling_(polling),
      next_poll_(polling.first) {}

std::string BigQueryJob::jobs_url() const {
    return fmt::format("{}/bigquery/v2/projects/{}/jobs", base_url_, url_encode(project_));
}

std::string BigQueryJob::job_url(std::string_view action) const {
    std::string url = fmt::format("{}/{}{}", jobs_url(), url_encode(job_id_), action);
    if (!location_.empty()) url += "?location=" + url_encode(location_);
    return url;
}

void BigQueryJob::start(Done done) {
    {
        std::lock_guard lock(mutex_);
        done_ = std::move(done);
    }
    if (cancel_requested_) {
        return finish(BigQueryJobEnd{.outcome = BigQueryJobEnd::Outcome::cancelled,
                                     .error = fmt::format("BigQuery job {} was cancelled before it started", job_id_)});
    }
    nlohmann::json reference = {{"projectId", project_}, {"jobId", job_id_}};
    if (!location_.empty()) reference["location"] = location_;
    nlohmann::json body = {{"jobReference", reference}, {"configuration", configuration_}};
    auto self = shared_from_this();
    // The job id is fixed, so the insert may be sent again safely: a second one answers 409.
    api_.call("POST", jobs_url(), body, fmt::format("jobs.insert of BigQuery job {}", job_id_),
              [self](ApiAnswer answer) { self->on_inserted(std::move(answer)); }, true);
}

void BigQueryJob::on_inserted(ApiAnswer answer) {
    if (!answer.ok() && answer.status == 409 && answer.reason == "duplicate") {
        // Inserted before: by an earlier send of this call whose answer was lost, or by this try
        // before the daemon restarted. Follow that job.
        if (!adopt_) {
            log_(fmt::format("BigQuery job {} exists already; following it", job_id_));
            return poll();
        }
        auto self = shared_from_this();
        return fetch([self](ApiAnswer found) {
            if (!found.ok()) return self->finish(BigQueryJobEnd{.error = found.error});
            if (std::string refused = self->adopt_(found.body); !refused.empty()) {
                return self->finish(BigQueryJobEnd{.error = std::move(refused)});  // not this try's job, nor its cost
            }
            self->log_(fmt::format("BigQuery job {} exists already; following it", self->job_id_));
            self->on_polled(std::move(found));
        });
    }
    if (!answer.ok()) return finish(BigQueryJobEnd{.error = answer.error});
    if (string_member(answer.body.value("status", nlohmann::json::object()), "state") == "DONE") {
        return on_polled(std::move(answer));
    }
    schedule_poll();
}

void BigQueryJob::schedule_poll() {
    if (finished()) return;
    auto self = shared_from_this();
    api_.http().run_after(next_poll_, [self] { self->poll(); });
    next_poll_ = std::min<Duration>(std::chrono::duration_cast<Duration>(next_poll_ * 3 / 2), polling_.longest);
}

void BigQueryJob::poll() {
    if (finished()) return;
    auto self = shared_from_this();
    fetch([self](ApiAnswer answer) { self->on_polled(std::move(answer)); });
}

void BigQueryJob::fetch(std::function<void(ApiAnswer)> then) {
    api_.call("GET", job_url(""), std::nullopt, fmt::format("jobs.get of BigQuery job {}", job_id_), std::move(then));
}

void BigQueryJob::on_polled(ApiAnswer answer) {
    if (!answer.ok()) {
        log_(answer.error);
        abandon();
        return finish(BigQueryJobEnd{.error = answer.error});
    }
    const nlohmann::json status = answer.body.value("status", nlohmann::json::object());
    const std::string state = string_member(status, "state");
    if (state != "DONE") {
        if (state != "PENDING" && state != "RUNNING") {
            const std::string problem = fmt::format("BigQuery described job {} with an unknown state {}", job_id_,
                                                    status.contains("state") ? status["state"].dump() : "(none)");
            // One garbled answer is asked again (jobs.get may be repeated); after a few, the job's
            // state cannot be read: as with an unreadable answer, it is cancelled so that the next
            // try cannot run the work twice.
            if (++unreadable_answers_ <= kUnreadableAnswersAskedAgain) {
                log_(problem + "; asking again");
                return schedule_poll();
            }
            abandon();
            return finish(BigQueryJobEnd{.error = problem});
        }
        unreadable_answers_ = 0;
        return schedule_poll();
    }
    if (status.contains("errors") && status["errors"].is_array()) {
        size_t shown = 0;
        for (const auto& error : status["errors"]) {
            if (++shown > 10) {
                log_(fmt::format("... and {} more errors", status["errors"].size() - 10));
                break;
            }
            log_(fmt::format("BigQuery: {}{}{}", string_member(error, "reason"),
                             string_member(error, "location").empty() ? "" : " at " + string_member(error, "location"),
                             ": " + string_member(error, "message")));
        }
    }
    std::string error = bigquery_job_error(answer.body);
    BigQueryJobEnd end{.job = answer.body};
    if (!error.empty()) {
        const bool stopped = cancel_requested_ && string_member(status["errorResult"], "reason") == "stopped";
        end.outcome = stopped ? BigQueryJobEnd::Outcome::cancelled : BigQueryJobEnd::Outcome::failed;
        end.error = fmt::format("BigQuery job {} failed: {}", job_id_, error);
    } else {
        end.outcome = BigQueryJobEnd::Outcome::succeeded;  // also when a cancel came after it ended
    }
    finish(std::move(end));
}

void BigQueryJob::cancel() {
    cancel_requested_ = true;
    auto self = shared_from_this();
    send_cancel(fmt::format("cancelling BigQuery job {}", job_id_), [self](ApiAnswer answer) {
        if (!answer.ok()) self->log_(answer.error);
        // Whatever BigQuery did with the request, the try ends now: a job that could not be
        // cancelled is said so in the log, and nothing waits on it.
        BigQueryJobEnd end{.outcome = BigQueryJobEnd::Outcome::cancelled,
                           .job = answer.ok() ? answer.body.value("job", nlohmann::json()) : nlohmann::json(),
                           .error = fmt::format("BigQuery job {} was cancelled", self->job_id_)};
        self->finish(std::move(end));
    });
}

void BigQueryJob::stop_following() {
    Done dropped;
    {
        std::lock_guard lock(mutex_);
        dropped.swap(done_);
    }
}

void BigQueryJob::abandon() {
    // The try ends without knowing how the job ends: BigQuery is asked to stop it, so that the next
    // try cannot find the work done twice (a load appended twice).
    auto self = shared_from_this();
    send_cancel(fmt::format("cancelling BigQuery job {}: its state cannot be read, and the next try must not run "
                            "the work twice",
                            job_id_),
                [self](ApiAnswer answer) {
                    if (!answer.ok()) self->log_(answer.error);
                });
}

void BigQueryJob::send_cancel(const std::string& line, std::function<void(ApiAnswer)> then) {
    {
        std::lock_guard lock(mutex_);
        if (cancel_sent_ || !done_) return;
        cancel_sent_ = true;
    }
    log_(line);
    api_.call("POST", job_url("/cancel"), std::nullopt, fmt::format("jobs.cancel of BigQuery job {}", job_id_),
              std::move(then), true);
}

bool BigQueryJob::finished() const {
    std::lock_guard lock(mutex_);
    return !done_;
}

void BigQueryJob::finish(BigQueryJobEnd end) {
    Done done;
    {
        std::lock_guard lock(mutex_);
        done.swap(done_);
    }
    if (done) done(std::move(end));
}

}  // namespace mayaflow::gcp
