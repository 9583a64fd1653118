// mayaflow's event stream for the web UI: `GET /api/v1/mayaflow/events` answers with server-sent
// events, one per change of a run's or a task instance's state, read from the store's state_event
// table (so a `mayaflow webserver` in another process streams them too). A client that reconnects
// sends Last-Event-ID (EventSource does) and gets what it missed; one that fell too far behind gets
// a `reset` event and reloads.

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <mutex>

#include "engine/time/iso8601.h"
#include "engine/util/utf8.h"
#include "web/api/problem.h"
#include "web/api/routes.h"

namespace mayaflow {
namespace {

// Streams open at once; each holds a connection and reads the store twice a second. One user may hold
// a quarter of them (a browser's tabs), so that one Viewer cannot take every stream from the others.
constexpr int kMaxStreams = 64;
constexpr int kMaxStreamsPerUser = 16;
constexpr auto kPollInterval = std::chrono::milliseconds(500);
constexpr auto kKeepAliveEvery = std::chrono::seconds(15);
constexpr int kBatchesPerPoll = 200;

std::mutex g_streams_mutex;
int g_open_streams = 0;                         // guarded by g_streams_mutex
std::map<std::string, int> g_streams_of_user;  // guarded by g_streams_mutex

struct StreamState {
    ApiContext& context;
    const std::string username;
    long long last_seq = 0;
    std::optional<std::string> dag_id;
    std::chrono::steady_clock::time_point last_sent = std::chrono::steady_clock::now();
    bool greeted = false;
    bool reset_first = false;  // the client's id is ahead of the store (a new database): reload

    // Takes a place for `username`'s stream, or says why there is none.
    static std::optional<WebResponse> refusal(const std::string& username) {
        std::lock_guard lock(g_streams_mutex);
        if (g_open_streams >= kMaxStreams) {
            return problem(503, fmt::format("{} event streams are open, the most this server keeps; close one (or poll the API) and "
                               "try again",
                               kMaxStreams));
        }
        auto found = g_streams_of_user.find(username);
        if (found != g_streams_of_user.end() && found->second >= kMaxStreamsPerUser) {
            return problem(429, fmt::format("'{}' has {} event streams open, the most one user may; close one (a browser tab) and "
                               "try again",
                               escape_invalid_utf8(username), kMaxStreamsPerUser));
        }
        ++g_open_streams;
        ++g_streams_of_user[username];
        return std::nullopt;
    }

    // Made only after refusal(username) gave a place; gives it back.
    StreamState(ApiContext& c, std::string user) : context(c), username(std::move(user)) {}
    ~StreamState() {
        std::lock_guard lock(g_streams_mutex);
        --g_open_streams;
        if (--g_streams_of_user[username] <= 0) g_streams_of_user.erase(username);
    }
    StreamState(const StreamState&) = delete;
    StreamState& operator=(const StreamState&) = delete;

    bool next(std::string& out) {
        if (!greeted) {
            greeted = true;
            out += "retry: 2000\n\n";  // EventSource reconnects after 2 s
            if (reset_first) {
                out += fmt::format("id: {}\nevent: reset\ndata: {}\n\n", last_seq,
                                   dump_json({{"detail", "the event id given is ahead of this server's (a new "
                                                         "database?); reload"}}));
                return true;
            }
        }
        auto changes = context.store.state_changes_since(last_seq, kBatchesPerPoll);
        if (!changes) {
            out += fmt::format("event: error\ndata: {}\n\n",
                               dump_json({{"detail", "the store could not be read: " + changes.error().message}}));
            return true;  // it may come back; the client keeps its place
        }
        if (!changes->empty() && last_seq > 0 && changes->front().seq > last_seq + 1) {
            out += fmt::format("id: {}\nevent: reset\ndata: {}\n\n", changes->back().seq,
                               dump_json({{"detail", "changes were missed (the stream fell behind); reload"}}));
            last_seq = changes->back().seq;
            return true;
        }
        for (const auto& change : *changes) {
            last_seq = change.seq;
            if (dag_id && change.dag_id != *dag_id) continue;
            nlohmann::json data = {{"dag_id", change.dag_id},
                                   {"dag_run_id", change.run_id},
                                   {"state", change.state},
                                   {"at", format_iso8601(change.at, TimeZone::utc())}};
            if (change.is_task) {
                data["task_id"] = change.task_id;
                data["try_number"] = change.try_number;
            }
            out += fmt::format("id: {}\nevent: {}\ndata: {}\n\n", change.seq, change.is_task ? "task_instance" : "dag_run",
                               dump_json(data));
        }
        auto now = std::chrono::steady_clock::now();
        if (!out.empty()) {
            last_sent = now;
        } else if (now - last_sent >= kKeepAliveEvery) {
            out += ": keep-alive\n\n";  // a comment: lets a proxy, and the server, see the client is gone
            last_sent = now;
        }
        return true;
    }
};

std::optional<long long> parse_seq(const std::string& text) {
    long long value = -1;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
    return value;
}

}  // namespace

void add_event_routes(RouteTable& table, ApiContext& context) {
    table.add("GET", "/api/v1/mayaflow/events", {Resource::dag_run, Action::read}, [&context](const ApiRequest& request) {
        std::optional<long long> since;
        auto header = request.web.headers.find("last-event-id");
        if (header != request.web.headers.end() && !header->second.empty()) {
            since = parse_seq(header->second);
            if (!since) return bad_request("the Last-Event-ID header must be an event id this stream sent (a whole number)");
        } else if (auto text = request.query_value("since")) {
            since = parse_seq(*text);
            if (!since) return bad_request(fmt::format("query parameter 'since' must be an event id (a whole number), got {}",
                                                       escape_invalid_utf8(*text)));
        }
        auto latest = context.store.latest_state_seq();
        if (!latest) return store_unavailable(latest.error());
        // An id past the newest (the database was replaced, or the id made up) would wait silently
        // until the ids catch up; the client is told to reload instead.
        const bool ahead = since && *since > *latest;
        if (!since || ahead) since = *latest;  // from now on
        if (auto refused = StreamState::refusal(request.principal.username)) return *refused;
        auto state = std::make_shared<StreamState>(context, request.principal.username);
        state->reset_first = ahead;
        state->last_seq = *since;
        state->dag_id = request.query_value("dag_id");
        WebResponse response{200, "text/event-stream; charset=utf-8", "", {{"X-Accel-Buffering", "no"}}};
        response.stream = std::make_shared<ResponseStream>(
            ResponseStream{[state](std::string& out) { return state->next(out); }, kPollInterval});
        return response;
    });
}

}  // namespace mayaflow
