#pragma once
// One BigQuery job from insert to end, asynchronously: jobs.insert under a job id fixed for the
// task's try (so a lost answer, a retried insert or a daemon restart re-attaches to the job already
// running instead of starting it twice: 409 "duplicate" → jobs.get), then jobs.get until DONE
// (every second at first, then less often, up to every 10 s), and jobs.cancel when asked. A job
// that ends with an errorResult fails with BigQuery's own words; its other errors go to the log.

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "engine/time/instant.h"
#include "operators/gcp/google_api.h"

namespace mayaflow::gcp {

// mayaflow_<dag>_<task>_<logical date>_<try>_<hash of the configuration>, in BigQuery's job id
// alphabet ([A-Za-z0-9_-]; other characters become '_') and at most 1,024 characters. The same
// try with the same configuration gets the same id; a changed configuration (a DAG fixed, then
// cleared) or the next try gets a new one. `salt` is added to the hash (force_rerun's
// randomness).
std::string bigquery_job_id(std::string_view dag_id, std::string_view task_id, Instant logical_date,
                            int try_number, const nlohmann::json& configuration, std::string_view salt = "");
// The same with another head than mayaflow_<dag>_<task> (bigquery_insert_job's job_id), and without
// the try number when `try_number` is empty (force_rerun: false — every try the same job).
std::string bigquery_job_id(std::string_view head, Instant logical_date, std::optional<int> try_number,
                            const nlohmann::json& configuration, std::string_view salt = "");

// The job in the Google Cloud console.
std::string bigquery_console_link(std::string_view project, std::string_view location, std::string_view job_id);

struct BigQueryJobEnd {
    enum class Outcome { succeeded, failed, cancelled } outcome = Outcome::failed;
    nlohmann::json job;  // the job as BigQuery last described it (status, statistics); null if never read
    std::string error;   // why it failed, in words
};

// How often a running job is looked at: `first` after the insert, then 1.5 times longer each time,
// up to `longest`.
struct BigQueryPolling {
    Duration first = std::chrono::seconds(1);
    Duration longest = std::chrono::seconds(10);
};

class BigQueryJob : public std::enable_shared_from_this<BigQueryJob> {
  public:
    using Log = std::function<void(const std::string& line)>;
    using Done = std::function<void(BigQueryJobEnd)>;

    // `base_url`: "https://bigquery.googleapis.com" or a stand-in's. `configuration`: a
    // JobConfiguration (query, load, copy or extract, plus labels, dryRun …).
    BigQueryJob(GoogleApi api, std::string base_url, std::string project, std::string location, std::string job_id,
                nlohmann::json configuration, Log log, BigQueryPolling polling = BigQueryPolling());

    // Whether to follow a job found under this id when the insert answers 409: "" to follow it, else
    // why not (the try then fails with that, and the job is left alone). Without one, every job
    // found is followed (the id is the try's own). Set before start().
    using Adopt = std::function<std::string(const nlohmann::json& job)>;
    void set_adopt_check(Adopt adopt) { adopt_ = std::move(adopt); }

    // Inserts the job, or re-attaches to it when it exists, and calls `done` once when it ends.
    void start(Done done);
    // Asks BigQuery to cancel the job; the job then ends `cancelled`. Any thread, any time, repeatable.
    void cancel();
    // Stops following the job, leaving it to run: `done` is not called, nothing more is sent.
    void stop_following();

    const std::string& job_id() const { return job_id_; }

  private:
    std::string jobs_url() const;
    void on_inserted(ApiAnswer answer);
    void poll();
    void fetch(std::function<void(ApiAnswer)> then);  // jobs.get
    void abandon();  // jobs.cancel, without waiting: the try ends anyway
    // jobs.cancel, once per job whoever asks (cancel() or abandon()), and only while it runs; `line`
    // goes to the log first.
    void send_cancel(const std::string& line, std::function<void(ApiAnswer)> then);
    std::string job_url(std::string_view action) const;  // the job's own URL: "" or "/cancel"
    void on_polled(ApiAnswer answer);
    void schedule_poll();
    void finish(BigQueryJobEnd end);
    bool finished() const;

    GoogleApi api_;
    std::string base_url_;
    std::string project_;
    std::string location_;
    std::string job_id_;
    nlohmann::json configuration_;
    Log log_;
    Adopt adopt_;
    BigQueryPolling polling_;
    Duration next_poll_;
    static constexpr int kUnreadableAnswersAskedAgain = 3;
    int unreadable_answers_ = 0;  // answers in a row without a state this reads (I/O thread only)
    std::atomic<bool> cancel_requested_{false};
    mutable std::mutex mutex_;
    Done done_;
    bool cancel_sent_ = false;
};

// The job's status as a failure message: "<reason>: <message>" of errorResult (empty when none).
std::string bigquery_job_error(const nlohmann::json& job);

}  // namespace mayaflow::gcp
