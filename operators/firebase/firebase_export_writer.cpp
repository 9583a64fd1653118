#include "operators/firebase/firebase_export_writer.h"

#include <fmt/format.h>

#include <set>

#include "engine/util/utf8.h"
#include "operators/firebase/firebase_keys.h"

namespace mayaflow::firebase {
namespace {

// One export's writes, run one after the other on the HTTP client's thread.
struct Writer : std::enable_shared_from_this<Writer> {
    std::shared_ptr<FirebaseDatabase> database;
    ExportWrite plan;
    WriteLog log;
    StopCheck stopping;
    std::function<void(Result<nlohmann::json>)> done;

    std::vector<std::string> parent;
    std::string name;     // the path's last key
    std::string staging;  // its staging sibling's key
    int writes = 0;
    long long bytes = 0;
    std::string swap;

    std::string shown(const std::vector<std::string>& path) const { return join_database_path(path); }
    std::vector<std::string> staging_path() const {
        auto path = parent;
        path.push_back(staging);
        return path;
    }

    void fail(const std::string& message) { done(make_error("{}", message)); }

    // Sends one write, then `next` — unless it failed or the try is stopping.
    void send(const std::string& method, const std::vector<std::string>& path, std::string body,
              std::function<void()> next, std::function<void(const std::string&)> on_error = nullptr) {
        if (stopping && stopping()) {
            const std::string message = "stopped before all of the export was written";
            if (on_error) return on_error(message);
            return fail(message);
        }
        ++writes;
        bytes += static_cast<long long>(body.size());
        auto self = shared_from_this();
        database->write(method, path, std::move(body), [self, next = std::move(next), on_error](Status status) {
            if (!status) {
                if (on_error) return on_error(status.error().message);
                return self->fail(status.error().message);
            }
            next();
        });
    }

    void finish() {
        done(nlohmann::json{{"write_mode", plan.put ? "put" : "patch"},
                            {"chunks", plan.chunks.size()},
                            {"writes", writes},
                            {"bytes", bytes},
                            {"swap", swap}});
    }

    void start() {
        if (!plan.put) return patch_chunk(0);
        if (plan.path.empty()) {
            if (plan.chunks.size() > 1) {
                return fail("write_mode put in more than one chunk needs a path below the root (the staging path is "
                            "its sibling); give a path, raise chunk_size, or use write_mode: patch");
            }
            swap = "single write";
            return send("PUT", plan.path, plan.chunks.empty() ? "null" : plan.chunks[0], [this, self = shared_from_this()] {
                finish();
            });
        }
        parent.assign(plan.path.begin(), plan.path.end() - 1);
        name = plan.path.back();
        staging = staging_key(name, plan.try_number);
        if (auto problem = key_problem(staging)) {
            return fail(fmt::format("the staging key {} {}: shorten the path's last key", staging, *problem));
        }
        // Staging paths earlier tries (or this one, before a restart) may have left.
        nlohmann::json leftovers = nlohmann::json::object();
        for (int t = 1; t <= plan.try_number; ++t) leftovers[staging_key(name, t)] = nullptr;
        send("PATCH", parent, dump_json(leftovers), [this, self = shared_from_this()] {
            if (plan.chunks.size() <= 1) {
                swap = "single write";
                return send("PUT", plan.path, plan.chunks.empty() ? "null" : plan.chunks[0], [this, self] { finish(); });
            }
            log(fmt::format("writing {} chunks to the staging path {}", plan.chunks.size(), shown(staging_path())));
            stage_chunk(0);
        });
    }

    void patch_chunk(std::size_t i) {
        if (i >= plan.chunks.size()) {
            swap = "none (patch)";
            return finish();
        }
        send("PATCH", plan.path, plan.chunks[i], [this, self = shared_from_this(), i] {
            log(fmt::format("chunk {} of {} written (PATCH {})", i + 1, plan.chunks.size(), shown(plan.path)));
            patch_chunk(i + 1);
        });
    }

    void stage_chunk(std::size_t i) {
        if (i >= plan.chunks.size()) return check_staging();
        send(i == 0 ? "PUT" : "PATCH", staging_path(), plan.chunks[i], [this, self = shared_from_this(), i] {
            log(fmt::format("chunk {} of {} staged", i + 1, plan.chunks.size()));
            stage_chunk(i + 1);
        });
    }

    void check_staging() {
        auto self = shared_from_this();
        database->read_shallow(staging_path(), [self](Result<nlohmann::json> shallow) {
            if (!shallow) return self->fail(shallow.error().message);
            std::set<std::string> found;
            if (shallow->is_object()) {
                for (const auto& [key, value] : shallow->items()) found.insert(key);
            }
            const std::set<std::string> expected(self->plan.keys.begin(), self->plan.keys.end());
            if (found != expected) {
                return self->fail(fmt::format("the staging path {} holds {} keys after the writes, not the {} "
                                              "written; the path was left as it was",
                                              self->shown(self->staging_path()), found.size(), expected.size()));
            }
            self->publish();
        });
    }

    void publish() {
        std::string whole = merge_chunks(plan.chunks);
        const std::string body = "{" + dump_json(nlohmann::json(name)) + ":" + whole + "," +
                                 dump_json(nlohmann::json(staging)) + ":null}";
        if (body.size() <= plan.max_write_bytes) {
            swap = "atomic (one multi-location PATCH at the parent)";
            log(fmt::format("swapping {} in: one multi-location PATCH at {} sets it and removes {}", shown(plan.path),
                            shown(parent), staging));
            return send("PATCH", parent, body, [this, self = shared_from_this()] { finish(); });
        }
        swap = "chunked publish";
        log(fmt::format("the export is {} bytes, more than max_write_bytes ({}): publishing {} in {} chunks; readers "
                        "may see part of the new tree until the last one",
                        whole.size(), plan.max_write_bytes, shown(plan.path), plan.chunks.size()));
        publish_chunk(0);
    }

    void publish_chunk(std::size_t i) {
        if (i >= plan.chunks.size()) {
            return send("PUT", staging_path(), "null", [this, self = shared_from_this()] { finish(); });
        }
        auto self = shared_from_this();
        send(i == 0 ? "PUT" : "PATCH", plan.path, plan.chunks[i], [this, self, i] { publish_chunk(i + 1); },
             [this, self](const std::string& error) { roll_back(error); });
    }

    // Publishing failed half-way: the path is deleted, so that no partial tree stays there.
    void roll_back(const std::string& error) {
        auto self = shared_from_this();
        log(fmt::format("publishing failed ({}); deleting {} so that no partial tree is left", error, shown(plan.path)));
        ++writes;
        database->write("PUT", plan.path, "null", [self, error](Status status) {
            if (!status) {
                return self->fail(fmt::format("{}; and deleting the partly published {} failed too ({}): the next "
                                              "try writes it whole",
                                              error, self->shown(self->plan.path), status.error().message));
            }
            self->fail(fmt::format("{}; {} was deleted, so no partial tree is left: the next try writes it whole",
                                   error, self->shown(self->plan.path)));
        });
    }
};

}  // namespace

std::string staging_key(const std::string& name, int try_number) {
    return fmt::format("{}__staging_{}", name, try_number);
}

std::string merge_chunks(const std::vector<std::string>& chunks) {
    std::string whole = "{";
    for (const std::string& chunk : chunks) {
        if (chunk.size() < 2) continue;
        if (whole.size() > 1) whole += ",";
        whole.append(chunk, 1, chunk.size() - 2);
    }
    return whole + "}";
}

void write_export(std::shared_ptr<FirebaseDatabase> database, ExportWrite plan, WriteLog log, StopCheck stopping,
                  std::function<void(Result<nlohmann::json>)> done) {
    auto writer = std::make_shared<Writer>();
    writer->database = std::move(database);
    writer->plan = std::move(plan);
    writer->log = std::move(log);
    writer->stopping = std::move(stopping);
    writer->done = std::move(done);
    writer->start();
}

}  // namespace mayaflow::firebase
