#include "operators/gcp/gcs_sensors.h"

#include <fmt/format.h>

#include "engine/http/http_message.h"
#include "engine/time/iso8601.h"
#include "engine/util/text.h"
#include "operators/gcp/bigquery_job_operator.h"
#include "operators/gcp/gcp_services.h"

namespace mayaflow::gcp {
namespace {

// What every poke of a Cloud Storage sensor needs: the API with the try's credentials, the storage
// endpoint (STORAGE_EMULATOR_HOST, the connection's storage_endpoint, or Google's) and the bucket.
// Calls in flight hold the poker, which may outlive the operator.
class GcsPoker : public Poker, public std::enable_shared_from_this<GcsPoker> {
  public:
    GcsPoker(GoogleApi api, std::string storage, std::string bucket)
        : api_(std::move(api)), storage_(std::move(storage)), bucket_(std::move(bucket)) {}

    void run_after(Duration delay, std::function<void()> action) override {
        api_.http().run_after(delay, std::move(action));
    }

  protected:
    std::string gs_url(std::string_view object) const { return fmt::format("gs://{}/{}", bucket_, object); }

    // objects.get of the object's metadata.
    void get_object(const std::string& object, GoogleApi::Callback done) {
        api_.call("GET",
                  fmt::format("{}/storage/v1/b/{}/o/{}", storage_, url_encode(bucket_), url_encode(object)),
                  std::nullopt, "objects.get of " + gs_url(object), std::move(done));
    }

    // objects.list with `query` (prefix=…, matchGlob=…), page after page: every name it lists.
    void list_objects(std::string query, std::vector<std::string> names, std::string page_token,
                      std::function<void(Result<std::vector<std::string>>)> done) {
        std::string url = fmt::format("{}/storage/v1/b/{}/o?{}", storage_, url_encode(bucket_), query);
        if (!page_token.empty()) url += "&pageToken=" + url_encode(page_token);
        auto self = shared_from_this();
        api_.call("GET", url, std::nullopt, fmt::format("objects.list of gs://{}", bucket_),
                  [self, query = std::move(query), names = std::move(names),
                   done = std::move(done)](ApiAnswer answer) mutable {
                      if (!answer.ok()) return done(make_error("{}", answer.error));
                      for (const auto& item : answer.body.value("items", nlohmann::json::array())) {
                          if (item.is_object() && item.contains("name") && item["name"].is_string()) {
                              names.push_back(item["name"].get<std::string>());
                          }
                      }
                      const std::string next = answer.body.value("nextPageToken", std::string());
                      if (next.empty()) return done(std::move(names));
                      self->list_objects(std::move(query), std::move(names), next, std::move(done));
                  });
    }

    GoogleApi api_;
    std::string storage_;
    std::string bucket_;
};

// gcs_object_sensor: an object by name, any object matching a glob, or any object under a prefix.
class ObjectPoker : public GcsPoker {
  public:
    enum class Match { object, glob, prefix };
    ObjectPoker(GoogleApi api, std::string storage, std::string bucket, Match match, std::string pattern)
        : GcsPoker(std::move(api), std::move(storage), std::move(bucket)),
          match_(match),
          pattern_(std::move(pattern)) {}

    std::string describe() const override {
        switch (match_) {
            case Match::object:
                return "object " + gs_url(pattern_);
            case Match::glob:
                return "objects matching " + gs_url(pattern_);
            case Match::prefix:
                return "objects under " + gs_url(pattern_);
        }
        return {};
    }

    void poke(std::function<void(Result<PokeAnswer>)> done) override {
        if (match_ == Match::object) {
            return get_object(pattern_, [done = std::move(done)](ApiAnswer answer) {
                if (answer.ok()) return done(PokeAnswer{.done = true});
                if (answer.status == 404)
                    return done(PokeAnswer{.done = false});  // as Airflow's blob.exists()
                done(make_error("{}", answer.error));
            });
        }
        const std::string query = (match_ == Match::glob ? "matchGlob=" : "prefix=") + url_encode(pattern_);
        list_objects(query, {}, "", [done = std::move(done)](Result<std::vector<std::string>> names) {
            if (!names) return done(names.error());
            if (names->empty()) return done(PokeAnswer{.done = false});
            done(PokeAnswer{.done = true, .value = *names});
        });
    }

  private:
    Match match_;
    std::string pattern_;
};

// gcs_object_update_sensor: the object's `updated` after `after`.
class UpdatePoker : public GcsPoker {
  public:
    UpdatePoker(GoogleApi api, std::string storage, std::string bucket, std::string object, Instant after)
        : GcsPoker(std::move(api), std::move(storage), std::move(bucket)),
          object_(std::move(object)),
          after_(after) {}

    std::string describe() const override {
        return fmt::format("an update of object {} after {}", gs_url(object_),
                           format_iso8601(after_, TimeZone::utc()));
    }

    void poke(std::function<void(Result<PokeAnswer>)> done) override {
        get_object(
            object_, [after = after_, url = gs_url(object_), done = std::move(done)](ApiAnswer answer) {
                if (answer.status == 404) {
                    // As Airflow's GCSHook.is_updated_after: an object that is not there is an error.
                    return done(make_error(
                        "object {} does not exist (to wait for it to appear, use gcs_object_sensor)", url));
                }
                if (!answer.ok()) return done(make_error("{}", answer.error));
                const std::string text = answer.body.value("updated", std::string());
                auto updated = parse_datetime(text, TimeZone::utc());
                if (!updated) {
                    return done(make_error("objects.get of {} gave no readable 'updated' time: {}", url,
                                           quote_for_message(text)));
                }
                done(PokeAnswer{.done = *updated > after});
            });
    }

  private:
    std::string object_;
    Instant after_;
};

// A poker of type P over the try's connection and bucket, made with `args`.
template <class P, class... Args>
Result<std::shared_ptr<Poker>> gcs_poker(GcpServices* services, const TaskRun& run,
                                         const nlohmann::json& params, Args&&... args) {
    auto connection = gcp_connection_of(run, params);
    if (!connection) return connection.error();
    const std::string bucket = params.value("bucket", std::string());
    if (bucket.empty() || bucket.find('/') != std::string::npos) {
        return make_error("bucket {} is not a bucket name (no gs://, no '/')", quote_for_message(bucket));
    }
    GcpServices& shared = services ? *services : GcpServices::shared();
    return std::shared_ptr<Poker>(std::make_shared<P>(
        shared.api_for(*connection), connection->endpoints.storage, bucket, std::forward<Args>(args)...));
}

OperatorSpec sensor_spec(std::string name, std::string description, std::vector<ParamSpec> own) {
    OperatorSpec spec;
    spec.name = std::move(name);
    spec.description = std::move(description);
    spec.params = gcp_common_params();
    spec.params.push_back({.name = "bucket",
                           .type = ParamType::string,
                           .required = true,
                           .templated = true,
                           .help = "The bucket, without gs://"});
    for (auto& param : own) spec.params.push_back(std::move(param));
    for (auto& param : sensor_params()) spec.params.push_back(std::move(param));
    return spec;
}

}  // namespace

OperatorSpec gcs_object_sensor_spec() {
    return sensor_spec(
        "gcs_object_sensor",
        "Waits for an object in Cloud Storage, for an object matching a glob, or under a prefix.",
        {{.name = "object",
          .type = ParamType::string,
          .templated = true,
          .help = "The object's name; a glob pattern with use_glob"},
         {.name = "prefix",
          .type = ParamType::string,
          .templated = true,
          .help = "Instead of object: any object whose name starts with it"},
         {.name = "use_glob",
          .type = ParamType::boolean,
          .default_value = false,
          .help = "object is a glob pattern (Cloud Storage's matchGlob: *, **, ?, [abc], {a,b})"}});
}

OperatorSpec gcs_object_update_sensor_spec() {
    return sensor_spec(
        "gcs_object_update_sensor",
        "Waits for an object in Cloud Storage to be updated after the run's data interval ends.",
        {{.name = "object", .type = ParamType::string, .required = true, .templated = true},
         {.name = "ts",
          .type = ParamType::string,
          .templated = true,
          .help = "The time the object must be updated after (default: the data interval's end)"}});
}

const OperatorSpec& GcsObjectSensor::spec() const {
    static const OperatorSpec spec = gcs_object_sensor_spec();
    return spec;
}

Result<std::shared_ptr<Poker>> GcsObjectSensor::make_poker(const TaskRun& run, const nlohmann::json& params) {
    const std::string object = params.value("object", std::string());
    const std::string prefix = params.value("prefix", std::string());
    const bool glob = params.value("use_glob", false);
    if (object.empty() == prefix.empty()) return make_error("give object or prefix (one of them)");
    if (!prefix.empty()) {
        if (glob) return make_error("use_glob makes object a glob pattern; with prefix it means nothing");
        return gcs_poker<ObjectPoker>(services_, run, params, ObjectPoker::Match::prefix, prefix);
    }
    return gcs_poker<ObjectPoker>(services_, run, params,
                                  glob ? ObjectPoker::Match::glob : ObjectPoker::Match::object, object);
}

const OperatorSpec& GcsObjectUpdateSensor::spec() const {
    static const OperatorSpec spec = gcs_object_update_sensor_spec();
    return spec;
}

Result<std::shared_ptr<Poker>> GcsObjectUpdateSensor::make_poker(const TaskRun& run,
                                                                 const nlohmann::json& params) {
    const std::string object = params.value("object", std::string());
    if (object.empty()) return make_error("object is empty: name the object to watch");
    Instant after = run.run_info.data_interval_end;
    if (const std::string ts = params.value("ts", std::string()); !ts.empty()) {
        auto parsed = parse_datetime(ts, TimeZone::utc());
        if (!parsed)
            return make_error("ts {} is not a time: {}", quote_for_message(ts), parsed.error().message);
        after = *parsed;
    }
    return gcs_poker<UpdatePoker>(services_, run, params, object, after);
}

}  // namespace mayaflow::gcp
