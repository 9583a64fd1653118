#pragma once
// A small HTTP/1.1 server on 127.0.0.1 for the HTTP client's tests: a thread per connection, one
// request per connection (it answers with Connection: close), and a handler that decides what to
// answer — or to drop the connection, or to wait first.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mayaflow::http_test {

struct ReceivedRequest {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;  // names as sent
    std::string body;

    std::string header(const std::string& name) const {
        for (const auto& [key, value] : headers) {
            if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
        }
        return {};
    }
};

struct Reply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool drop = false;  // close the connection without answering (after reading the request)
    std::chrono::milliseconds delay{0};
};

class TestServer {
  public:
    using Handler = std::function<Reply(const ReceivedRequest&)>;

    explicit TestServer(Handler handler) : handler_(std::move(handler)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
        ::listen(listener_, 512);
        socklen_t size = sizeof address;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
        port_ = ntohs(address.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }

    ~TestServer() {
        stopping_ = true;
        ::shutdown(listener_, SHUT_RDWR);
        ::close(listener_);
        acceptor_.join();
        std::lock_guard lock(mutex_);
        for (auto& worker : workers_) worker.join();
    }

    int port() const { return port_; }
    std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
    int requests() const { return requests_.load(); }
    int max_concurrent() const { return max_concurrent_.load(); }

  private:
    void accept_loop() {
        while (!stopping_) {
            const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) {
                if (stopping_) return;
                continue;
            }
            std::lock_guard lock(mutex_);
            workers_.emplace_back([this, client] { serve(client); });
        }
    }

    static bool read_request(int client, ReceivedRequest& request) {
        std::string data;
        char buffer[65536];
        std::size_t header_end = std::string::npos;
        while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
            const ssize_t got = ::recv(client, buffer, sizeof buffer, 0);
            if (got <= 0) return false;
            data.append(buffer, static_cast<std::size_t>(got));
        }
        std::size_t line_end = data.find("\r\n");
        const std::string first = data.substr(0, line_end);
        const std::size_t space = first.find(' ');
        request.method = first.substr(0, space);
        request.target = first.substr(space + 1, first.rfind(' ') - space - 1);
        std::size_t length = 0;
        for (std::size_t pos = line_end + 2; pos < header_end;) {
            const std::size_t end = data.find("\r\n", pos);
            const std::string line = data.substr(pos, end - pos);
            const std::size_t colon = line.find(':');
            std::string name = line.substr(0, colon);
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            if (strcasecmp(name.c_str(), "content-length") == 0) length = std::stoul(value);
            request.headers.emplace_back(name, value);
            pos = end + 2;
        }
        request.body = data.substr(header_end + 4);
        while (request.body.size() < length) {
            const ssize_t got = ::recv(client, buffer, sizeof buffer, 0);
            if (got <= 0) return false;
            request.body.append(buffer, static_cast<std::size_t>(got));
        }
        return true;
    }

    void serve(int client) {
        const int now = ++concurrent_;
        int seen = max_concurrent_.load();
        while (now > seen && !max_concurrent_.compare_exchange_weak(seen, now)) {
        }
        ReceivedRequest request;
        if (read_request(client, request)) {
            ++requests_;
            Reply reply = handler_(request);
            if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
            if (!reply.drop) {
                std::string text = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\nConnection: close\r\n";
                text += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
                for (const auto& [name, value] : reply.headers) text += name + ": " + value + "\r\n";
                text += "\r\n" + reply.body;
                std::size_t sent = 0;
                while (sent < text.size()) {
                    const ssize_t n = ::send(client, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
                    if (n <= 0) break;
                    sent += static_cast<std::size_t>(n);
                }
            }
        }
        --concurrent_;
        ::close(client);
    }

    Handler handler_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<int> requests_{0};
    std::atomic<int> concurrent_{0};
    std::atomic<int> max_concurrent_{0};
    std::mutex mutex_;
    std::vector<std::thread> workers_;
    std::thread acceptor_;
};

}  // namespace mayaflow::http_test
