#include "engine/http/curl_http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace mayaflow {
namespace {

// curl_global_init is not thread-safe: done once, before any client exists.
void init_curl_once() {
    static const bool initialised = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
    (void)initialised;
}

// Answers bigger than this are cut off and failed: no Google API answer comes near it.
constexpr std::size_t kMaxBody = std::size_t{512} << 20;

struct Transfer {
    HttpRequest request;
    HttpClient::Callback done;
    CURL* easy = nullptr;
    curl_slist* header_list = nullptr;
    HttpResponse response;
    bool too_big = false;
    char error[CURL_ERROR_SIZE] = {};

    ~Transfer() {
        if (header_list) curl_slist_free_all(header_list);
        if (easy) curl_easy_cleanup(easy);
    }
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    if (transfer->response.body.size() + bytes > kMaxBody) {
        transfer->too_big = true;
        return 0;  // makes curl fail the transfer
    }
    transfer->response.body.append(data, bytes);
    return bytes;
}

std::string trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return std::string(text);
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    std::string_view line(data, bytes);
    if (line.starts_with("HTTP/")) {
        transfer->response.headers.clear();  // a new response (after a 100 Continue or a redirect)
        return bytes;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return bytes;
    std::string name = trimmed(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    transfer->response.headers.emplace_back(std::move(name), trimmed(line.substr(colon + 1)));
    return bytes;
}

TransportError classify(CURLcode code, bool request_sent) {
    switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
            return TransportError::connect;
        case CURLE_OPERATION_TIMEDOUT:
            return TransportError::timeout;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
            return TransportError::tls;
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
            return request_sent ? TransportError::dropped : TransportError::connect;
        default:
            return TransportError::other;
    }
}

}  // namespace

struct CurlHttpClient::Impl {
    struct Timer {
        std::chrono::steady_clock::time_point due;
        std::uint64_t order;
        std::function<void()> action;
        bool operator>(const Timer& other) const {
            return due != other.due ? due > other.due : order > other.order;
        }
    };

    CURLM* multi = nullptr;
    std::mutex mutex;  // guards incoming, timers, stopping
    std::deque<std::unique_ptr<Transfer>> incoming;
    std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
    std::uint64_t timers_made = 0;
    bool stopping = false;
    std::map<CURL*, std::unique_ptr<Transfer>> running;  // the I/O thread's alone
    std::atomic<std::size_t> in_flight{0};
    std::thread thread;

    Impl() {
        init_curl_once();
        multi = curl_multi_init();
        curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 32L);
        thread = std::thread([this] { loop(); });
    }

    ~Impl() {
        {
            std::lock_guard lock(mutex);
            stopping = true;
        }
        curl_multi_wakeup(multi);
        thread.join();
        // The calls still in flight are ended with "stopped". Their callbacks may send again (a job
        // cancelled as its try ends): send() answers those at once, so nothing is added to the lists
        // taken here.
        std::vector<std::unique_ptr<Transfer>> stopped;
        for (auto& [easy, transfer] : running) {
            curl_multi_remove_handle(multi, easy);
            stopped.push_back(std::move(transfer));
        }
        running.clear();
        {
            std::lock_guard lock(mutex);
            for (auto& transfer : incoming) stopped.push_back(std::move(transfer));
            incoming.clear();
        }
        for (auto& transfer : stopped) finish_stopped(*transfer);
        curl_multi_cleanup(multi);
    }

    static void finish_stopped(Transfer& transfer) {
        transfer.response.transport_error = TransportError::other;
        transfer.response.error = "the HTTP client stopped";
        if (transfer.done) transfer.done(std::move(transfer.response));
    }

    void start(std::unique_ptr<Transfer> transfer) {
        CURL* easy = curl_easy_init();
        transfer->easy = easy;
        const HttpRequest& request = transfer->request;
        curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                         static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(request.connect_timeout).count()));
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                         static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(request.timeout).count()));
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // gzip and deflate, decoded
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error);
        curl_easy_setopt(easy, CURLOPT_USERAGENT, "mayaflow/" MAYAFLOW_VERSION);
        if (request.method == "GET") {
            curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
        } else if (request.method == "HEAD") {
            curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
        } else {
            curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
        }
        // No "Expect: 100-continue" round trip for large bodies.
        transfer->header_list = curl_slist_append(transfer->header_list, "Expect:");
        for (const auto& [name, value] : request.headers) {
            transfer->header_list = curl_slist_append(transfer->header_list, (name + ": " + value).c_str());
        }
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->header_list);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
        curl_multi_add_handle(multi, easy);
        running.emplace(easy, std::move(transfer));
    }

    void complete(CURL* easy, CURLcode code) {
        auto found = running.find(easy);
        if (found == running.end()) return;
        std::unique_ptr<Transfer> transfer = std::move(found->second);
        running.erase(found);
        curl_multi_remove_handle(multi, easy);
        HttpResponse& response = transfer->response;
        if (code == CURLE_OK) {
            long status = 0;
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
            response.status = static_cast<int>(status);
        } else {
            curl_off_t uploaded = 0;
            curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &uploaded);
            long connected = 0;
            curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected);
            // Connected means the request may have gone out (an empty body is sent with the headers).
            const bool sent = connected > 0 || uploaded > 0;
            response.transport_error = transfer->too_big ? TransportError::other : classify(code, sent);
            response.error = transfer->too_big ? "the answer is larger than 512 MiB"
                                               : (transfer->error[0] ? transfer->error : curl_easy_strerror(code));
            response.status = 0;
            response.body.clear();
        }
        --in_flight;
        if (transfer->done) transfer->done(std::move(response));
    }

    // Runs the timers that are due; returns how long until the next one (capped at 1 s).
    int run_due_timers() {
        while (true) {
            std::function<void()> action;
            {
                std::lock_guard lock(mutex);
                if (timers.empty()) return 1000;
                const auto now = std::chrono::steady_clock::now();
                if (timers.top().due > now) {
                    auto wait = std::chrono::ceil<std::chrono::milliseconds>(timers.top().due - now).count();
                    return static_cast<int>(std::min<long long>(wait, 1000));
                }
                action = std::move(const_cast<Timer&>(timers.top()).action);
                timers.pop();
            }
            action();
        }
    }

    void loop() {
        while (true) {
            std::deque<std::unique_ptr<Transfer>> starting;
            {
                std::lock_guard lock(mutex);
                if (stopping) return;
                starting.swap(incoming);
            }
            for (auto& transfer : starting) start(std::move(transfer));
            int still_running = 0;
            curl_multi_perform(multi, &still_running);
            int queued = 0;
            while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
                if (message->msg == CURLMSG_DONE) complete(message->easy_handle, message->data.result);
            }
            const int wait_ms = run_due_timers();
            curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
        }
    }
};

CurlHttpClient::CurlHttpClient() : impl_(std::make_unique<Impl>()) {}

CurlHttpClient::~CurlHttpClient() = default;

void CurlHttpClient::send(HttpRequest request, Callback done) {
    auto transfer = std::make_unique<Transfer>();
    transfer->request = std::move(request);
    transfer->done = std::move(done);
    {
        std::lock_guard lock(impl_->mutex);
        if (!impl_->stopping) {
            ++impl_->in_flight;
            impl_->incoming.push_back(std::move(transfer));
        }
    }
    if (transfer) return Impl::finish_stopped(*transfer);  // the client is being destroyed
    curl_multi_wakeup(impl_->multi);
}

void CurlHttpClient::run_after(Duration delay, std::function<void()> action) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->timers.push(Impl::Timer{std::chrono::steady_clock::now() +
                                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay),
                                       impl_->timers_made++, std::move(action)});
    }
    curl_multi_wakeup(impl_->multi);
}

std::size_t CurlHttpClient::in_flight() const { return impl_->in_flight.load(); }

}  // namespace mayaflow
