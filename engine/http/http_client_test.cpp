// The outbound HTTP client against a local server: what it sends and reads, many calls at once on
// one thread, timeouts, and when it sends a request again.

#include "engine/http/curl_http_client.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>

#include "engine/http/http_retry.h"
#include "engine/http/http_test_server.h"

namespace mayaflow {
namespace {

using namespace std::chrono_literals;
using http_test::ReceivedRequest;
using http_test::Reply;
using http_test::TestServer;

HttpRetryPolicy quick_policy() {
    HttpRetryPolicy policy;
    policy.initial_delay = 10ms;
    policy.max_delay = 50ms;
    policy.max_attempts = 4;
    return policy;
}

TEST_CASE("a request goes out with its method, headers and body, and the answer comes back", "[http]") {
    TestServer server([](const ReceivedRequest& request) {
        Reply reply;
        reply.status = request.method == "POST" ? 201 : 200;
        reply.headers = {{"X-Echo-Method", request.method}, {"Content-Type", "application/json"}};
        reply.body = request.method + " " + request.target + " " + request.header("Authorization") + " " + request.body;
        return reply;
    });
    CurlHttpClient client;
    HttpRequest post{.method = "POST", .url = server.url("/jobs?x=1"), .headers = {{"Authorization", "Bearer t"}},
                     .body = R"({"a":1})"};
    HttpResponse created = client.send_and_wait(post);
    REQUIRE(created.answered());
    CHECK(created.status == 201);
    CHECK(created.ok());
    CHECK(created.body == R"(POST /jobs?x=1 Bearer t {"a":1})");
    CHECK(created.header("x-echo-method") == "POST");
    CHECK(created.header("CONTENT-TYPE") == "application/json");
    CHECK_FALSE(created.header("missing"));
    CHECK(post.describe() == "POST " + server.url("/jobs"));

    HttpResponse got = client.send_and_wait(HttpRequest{.url = server.url("/b/o/a%2Fb")});
    CHECK(got.body == "GET /b/o/a%2Fb  ");
    HttpResponse put = client.send_and_wait(HttpRequest{.method = "PUT", .url = server.url("/p"), .body = "x"});
    CHECK(put.body == "PUT /p  x");
    CHECK(url_encode("a/b c$é") == "a%2Fb%20c%24%C3%A9");
}

TEST_CASE("many calls are in flight at once on the client's one thread", "[http]") {
    TestServer server([](const ReceivedRequest&) { return Reply{.body = "ok", .delay = 300ms}; });
    CurlHttpClient client;
    constexpr int kCalls = 100;
    std::atomic<int> answered{0};
    std::promise<void> all_done;
    for (int i = 0; i < kCalls; ++i) {
        client.send(HttpRequest{.url = server.url("/slow")}, [&](HttpResponse response) {
            if (response.ok() && response.body == "ok" && ++answered == kCalls) all_done.set_value();
        });
    }
    REQUIRE(all_done.get_future().wait_for(30s) == std::future_status::ready);
    CHECK(answered == kCalls);
    // Up to 32 connections per host (curl's CURLMOPT_MAX_HOST_CONNECTIONS, set by the client).
    CHECK(server.max_concurrent() > 16);
    CHECK(client.in_flight() == 0);
}

TEST_CASE("timers run on the I/O thread in order of their time", "[http]") {
    CurlHttpClient client;
    std::mutex mutex;
    std::vector<int> order;
    std::promise<void> done;
    client.run_after(60ms, [&] {
        std::lock_guard lock(mutex);
        order.push_back(2);
        done.set_value();
    });
    client.run_after(10ms, [&] {
        std::lock_guard lock(mutex);
        order.push_back(1);
    });
    REQUIRE(done.get_future().wait_for(10s) == std::future_status::ready);
    CHECK(order == std::vector<int>{1, 2});
}

TEST_CASE("no answer is told apart: refused, timed out, dropped", "[http]") {
    CurlHttpClient client;
    int closed_port = 0;
    {
        TestServer gone([](const ReceivedRequest&) { return Reply{}; });
        closed_port = gone.port();
    }
    HttpResponse refused = client.send_and_wait(HttpRequest{.url = "http://127.0.0.1:" + std::to_string(closed_port) + "/"});
    CHECK(refused.transport_error == TransportError::connect);
    CHECK_FALSE(refused.answered());
    CHECK(refused.describe().starts_with("cannot connect: "));

    TestServer slow([](const ReceivedRequest&) { return Reply{.delay = 1500ms}; });
    HttpResponse late = client.send_and_wait(HttpRequest{.url = slow.url("/"), .timeout = 200ms});
    CHECK(late.transport_error == TransportError::timeout);

    TestServer dropping([](const ReceivedRequest&) { return Reply{.drop = true}; });
    HttpResponse dropped = client.send_and_wait(HttpRequest{.method = "POST", .url = dropping.url("/"), .body = "{}"});
    CHECK(dropped.transport_error == TransportError::dropped);
    CHECK(dropped.describe().starts_with("connection dropped after the request was sent"));

    HttpResponse bad = client.send_and_wait(HttpRequest{.url = "ftp://127.0.0.1/"});
    CHECK(bad.transport_error == TransportError::other);
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date", "[http][retry]") {
    const Instant now = std::chrono::time_point_cast<Duration>(std::chrono::sys_days(std::chrono::year(2026) / 10 / 21) + 7h + 28min);
    CHECK(parse_retry_after("120", now) == Duration(120s));
    CHECK(parse_retry_after(" 0 ", now) == Duration(0s));
    CHECK(parse_retry_after("Wed, 21 Oct 2026 07:28:30 GMT", now) == Duration(30s));
    CHECK(parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now) == Duration(0s));
    CHECK_FALSE(parse_retry_after("soon", now));
    CHECK_FALSE(parse_retry_after("", now));
    CHECK_FALSE(parse_retry_after("-5", now));
    CHECK(parse_retry_after("99999999999999", now) > Duration(std::chrono::hours(24)));
}

TEST_CASE("what is sent again, and after how long", "[http][retry]") {
    HttpRetryPolicy policy;  // 1 s, ×2, up to 32 s, 5 sends
    std::mt19937_64 random(7);
    const Instant now{};
    HttpRequest get{.url = "https://x/"};
    HttpRequest post{.method = "POST", .url = "https://x/"};
    HttpRequest insert{.method = "POST", .url = "https://x/", .repeatable = true};
    auto answer = [](int status, HttpHeaders headers = {}) { return HttpResponse{.status = status, .headers = headers}; };
    auto failure = [](TransportError error) { return HttpResponse{.transport_error = error, .error = "e"}; };

    for (int status : {429, 503}) {
        CHECK(retry_delay(policy, post, answer(status), 1, now, random));
    }
    for (int status : {500, 502, 504, 408}) {
        CHECK(retry_delay(policy, get, answer(status), 1, now, random));
        CHECK(retry_delay(policy, insert, answer(status), 1, now, random));
        CHECK_FALSE(retry_delay(policy, post, answer(status), 1, now, random));  // may have been acted on
    }
    for (int status : {200, 204, 400, 401, 403, 404, 409, 412}) {
        CHECK_FALSE(retry_delay(policy, get, answer(status), 1, now, random));
    }
    CHECK(retry_delay(policy, post, failure(TransportError::connect), 1, now, random));
    CHECK_FALSE(retry_delay(policy, post, failure(TransportError::dropped), 1, now, random));
    CHECK_FALSE(retry_delay(policy, post, failure(TransportError::timeout), 1, now, random));
    CHECK(retry_delay(policy, insert, failure(TransportError::dropped), 1, now, random));
    CHECK(retry_delay(policy, get, failure(TransportError::timeout), 1, now, random));
    CHECK_FALSE(retry_delay(policy, get, failure(TransportError::tls), 1, now, random));

    // Exponential, jittered between half and all of it, capped; none after the last attempt.
    for (int attempt = 1; attempt <= 4; ++attempt) {
        const Duration full = std::min<Duration>(std::chrono::seconds(1 << (attempt - 1)), 32s);
        for (int i = 0; i < 50; ++i) {
            auto delay = retry_delay(policy, get, answer(503), attempt, now, random);
            REQUIRE(delay);
            CHECK(*delay >= full / 2);
            CHECK(*delay <= full);
        }
    }
    CHECK_FALSE(retry_delay(policy, get, answer(503), 5, now, random));
    // Retry-After wins over the backoff; past the cap the call ends.
    CHECK(retry_delay(policy, get, answer(429, {{"retry-after", "7"}}), 1, now, random) == Duration(7s));
    CHECK_FALSE(retry_delay(policy, get, answer(429, {{"retry-after", "3600"}}), 1, now, random));
}

TEST_CASE("the retrying client sends again what is safe to, and stops when told", "[http][retry]") {
    std::atomic<int> calls{0};
    TestServer flaky([&](const ReceivedRequest& request) {
        const int n = ++calls;
        if (request.target == "/busy") return n < 3 ? Reply{.status = 503, .headers = {{"Retry-After", "0"}}} : Reply{.body = "done"};
        if (request.target == "/error") return Reply{.status = 500};
        if (request.target == "/drop") return n < 2 ? Reply{.drop = true} : Reply{.body = "inserted"};
        return Reply{.status = 404};
    });
    CurlHttpClient transport;
    RetryingHttpClient client(transport, quick_policy());

    HttpResponse busy = client.send_and_wait(HttpRequest{.method = "POST", .url = flaky.url("/busy")});
    CHECK(busy.ok());
    CHECK(busy.body == "done");
    CHECK(busy.attempts == 3);

    calls = 0;
    HttpResponse error = client.send_and_wait(HttpRequest{.method = "POST", .url = flaky.url("/error")});
    CHECK(error.status == 500);
    CHECK(error.attempts == 1);  // a plain POST that may have been acted on is not sent again
    calls = 0;
    HttpResponse error_get = client.send_and_wait(HttpRequest{.url = flaky.url("/error")});
    CHECK(error_get.status == 500);
    CHECK(error_get.attempts == 4);
    CHECK(calls == 4);

    calls = 0;
    HttpResponse dropped = client.send_and_wait(HttpRequest{.method = "POST", .url = flaky.url("/drop")});
    CHECK(dropped.transport_error == TransportError::dropped);
    CHECK(calls == 1);
    calls = 0;
    HttpResponse insert = client.send_and_wait(HttpRequest{.method = "POST", .url = flaky.url("/drop"), .repeatable = true});
    CHECK(insert.body == "inserted");
    CHECK(insert.attempts == 2);

    HttpResponse missing = client.send_and_wait(HttpRequest{.url = flaky.url("/missing")});
    CHECK(missing.status == 404);
    CHECK(missing.attempts == 1);
}

TEST_CASE("calls in flight when the client stops end with a clear error", "[http]") {
    TestServer slow([](const ReceivedRequest&) { return Reply{.delay = 2000ms}; });
    std::promise<HttpResponse> answer;
    {
        CurlHttpClient client;
        client.send(HttpRequest{.url = slow.url("/")}, [&](HttpResponse response) { answer.set_value(std::move(response)); });
        std::this_thread::sleep_for(100ms);
    }
    auto future = answer.get_future();
    REQUIRE(future.wait_for(5s) == std::future_status::ready);
    HttpResponse response = future.get();
    CHECK(response.transport_error == TransportError::other);
    CHECK(response.error == "the HTTP client stopped");
}

}  // namespace
}  // namespace mayaflow
