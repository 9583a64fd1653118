#include "web/http_server.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/util/utf8.h"

namespace mayaflow {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// After accept() fails for want of descriptors, the server waits this long before it accepts again.
constexpr auto kOutOfDescriptorsPause = std::chrono::milliseconds(100);
// When every connection is busy with a request, a new one is refused and accepting waits this long.
constexpr auto kAllBusyPause = std::chrono::milliseconds(20);

std::string problem_body(int status, const std::string& title, const std::string& detail) {
    return dump_json({{"type", "about:blank"}, {"title", title}, {"status", status}, {"detail", detail}});
}

// The connection cap in force: the setting, but never over half the descriptor limit.
size_t connection_cap(int setting) {
    size_t cap = static_cast<size_t>(std::max(1, setting));
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
        cap = std::min<size_t>(cap, std::max<size_t>(1, limit.rlim_cur / 2));
    }
    return cap;
}

class Session;

// Which connections are open, and which of them wait idle for a request: those are the ones to
// close first when the server runs out of room. Shared by the threads of the server; a session's
// place in the idle list is only touched under the lock.
class Connections {
  public:
    using IdleList = std::list<std::weak_ptr<Session>>;

    size_t open() const { return open_; }
    void opened() { ++open_; }
    void closed() { --open_; }

    void became_idle(const std::shared_ptr<Session>& session);
    void not_idle(Session& session);
    // Takes the connection that has waited idle longest off the list (null when none waits).
    std::shared_ptr<Session> take_oldest_idle();

  private:
    std::atomic<size_t> open_{0};
    std::mutex mutex_;
    IdleList idle_;
};

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, const HttpHandler& handler, const HttpServerOptions& options, Connections& connections,
            asio::thread_pool& workers)
        : stream_(std::move(socket)),
          timer_(stream_.get_executor()),
          handler_(handler),
          options_(options),
          connections_(connections),
          workers_(workers) {
        connections_.opened();
    }
    ~Session() {
        connections_.not_idle(*this);
        connections_.closed();
    }

    void start() { wait_for_request(); }

    // Closes the connection if it still waits for a request; from any thread.
    void shed() {
        asio::post(stream_.get_executor(), [self = shared_from_this()] {
            if (self->waiting_) self->close();
        });
    }

  private:
    friend class Connections;

    // Between requests the connection waits without a parser, so that an idle one can be told
    // apart from one in the middle of a request.
    void wait_for_request() {
        if (buffer_.size() > 0) return read();  // the next request came with the last one
        waiting_ = true;
        connections_.became_idle(shared_from_this());
        timer_.expires_after(options_.keep_alive_timeout);
        timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec && self->waiting_) self->close();
        });
        stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
            bool was_waiting = self->waiting_;
            self->waiting_ = false;
            self->timer_.cancel();
            self->connections_.not_idle(*self);
            if (ec || !was_waiting || !self->stream_.socket().is_open()) return self->close();
            self->read();
        });
    }

    void read() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
        parser_->body_limit(options_.max_body_bytes);
        // The request line and headers first, within the shorter header timeout: a client that
        // trickles its headers (slowloris) holds a connection for seconds, not half a minute.
        stream_.expires_after(options_.header_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
    }

    void on_header(beast::error_code ec) {
        if (ec) return on_read(ec);
        stream_.expires_after(options_.request_timeout);
        const auto& message = parser_->get();
        // RFC 9112 6.3: a Transfer-Encoding whose last coding is not chunked leaves the body's length
        // unknown; the server must answer 400 and close. Read as "no body" instead, the body would be
        // taken for the next request on the connection (what request smuggling through a proxy that
        // reads it otherwise needs).
        if (message.find(http::field::transfer_encoding) != message.end() && !parser_->chunked()) {
            return reply_error(400, "Bad Request",
                               "malformed HTTP request: Transfer-Encoding must end with chunked, the only coding "
                               "this server reads (or send Content-Length instead)");
        }
        if (parser_->is_done()) return on_read(ec);
        if (message.version() >= 11 && beast::iequals(message[http::field::expect], "100-continue")) {
            // The client waits for a word before it sends its body: refuse one over the limit now
            // (it is never sent), else say "go on" (curl would otherwise wait a second for nothing).
            if (auto length = parser_->content_length(); length && *length > options_.max_body_bytes) {
                return on_read(http::error::body_limit);
            }
            auto go_on = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
            return http::async_write(stream_, *go_on, [self = shared_from_this(), go_on](beast::error_code ec, size_t) {
                if (ec) return self->close();
                self->read_body();
            });
        }
        read_body();
    }

    void read_body() {
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset ||
            ec == asio::error::operation_aborted) {
            return close();
        }
        if (ec == http::error::body_limit) {
            return reply_error(413, "Payload Too Large",
                               fmt::format("the request body is over the limit of {} bytes", options_.max_body_bytes));
        }
        if (ec == http::error::header_limit) {
            return reply_error(431, "Request Header Fields Too Large",
                               fmt::format("the request line and headers are over the limit of {} bytes",
                                           options_.max_header_bytes));
        }
        if (ec) return reply_error(400, "Bad Request", "malformed HTTP request: " + ec.message());
        auto& message = parser_->get();
        WebRequest request;
        request.method = std::string(message.method_string());
        request.target = std::string(message.target());
        for (const auto& field : message) {
            std::string name(field.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            request.headers[name] = std::string(field.value());
        }
        request.body = std::move(message.body());
        beast::error_code peer_error;
        auto peer = stream_.socket().remote_endpoint(peer_error);
        if (!peer_error) request.peer = peer.address().to_string();
        const bool keep_alive = message.keep_alive();
        const unsigned version = message.version();
        const bool head = request.method == "HEAD";
        if (runs_inline(request.target)) return send(call_handler(request), keep_alive, version, head);
        // The handler may take long (a password check, a wait for the scheduler): on a handler
        // thread, then back on this connection's strand to answer.
        asio::post(workers_, [self = shared_from_this(), request = std::move(request), keep_alive, version, head] {
            WebResponse response = self->call_handler(request);
            asio::post(self->stream_.get_executor(),
                       [self, response = std::move(response), keep_alive, version, head]() mutable {
                           self->send(std::move(response), keep_alive, version, head);
                       });
        });
    }

    bool runs_inline(const std::string& target) const {
        const std::string_view path = std::string_view(target).substr(0, target.find('?'));
        return std::find(options_.inline_paths.begin(), options_.inline_paths.end(), path) != options_.inline_paths.end();
    }

    WebResponse call_handler(const WebRequest& request) const {
        try {
            return handler_(request);
        } catch (const std::exception& e) {
            spdlog::error("request {} {} failed: {}", escape_invalid_utf8(request.method),
                          escape_invalid_utf8(request.target), e.what());
            return WebResponse{500, "application/problem+json",
                               problem_body(500, "Internal Server Error",
                                            "the server failed to handle this request; see its log"),
                               {}};
        }
    }

    // The request could not be read: answer, then close without reading it further.
    void reply_error(int status, const std::string& title, const std::string& detail) {
        send(WebResponse{status, "application/problem+json", problem_body(status, title, detail), {}}, false, 11, false);
    }

    // A HEAD answer has the headers GET would have, Content-Length included, and no body.
    void send(WebResponse response, bool keep_alive, unsigned version, bool head) {
        auto fill = [&](auto& reply) {
            reply.set(http::field::server, "mayaflow");
            reply.set(http::field::content_type, response.content_type);
            for (const auto& [name, value] : response.headers) reply.set(name, value);
            reply.keep_alive(keep_alive);
        };
        stream_.expires_after(options_.request_timeout);
        auto status = static_cast<http::status>(response.status);
        if (response.stream && !head) {
            auto reply = std::make_shared<http::response<http::empty_body>>(status, version);
            fill(*reply);
            reply->keep_alive(false);
            reply->chunked(true);
            return start_stream(reply, std::move(response.stream));
        }
        if (head) {
            auto reply = std::make_shared<http::response<http::empty_body>>(status, version);
            fill(*reply);
            reply->content_length(response.body.size());
            return write(reply, keep_alive);
        }
        auto reply = std::make_shared<http::response<http::string_body>>(status, version);
        fill(*reply);
        reply->body() = std::move(response.body);
        reply->prepare_payload();
        write(reply, keep_alive);
    }

    template <class Message>
    void write(std::shared_ptr<Message> reply, bool keep_alive) {
        http::async_write(stream_, *reply, [self = shared_from_this(), reply, keep_alive](beast::error_code ec, size_t) {
            if (ec) return self->close();
            if (!keep_alive) return self->linger();
            self->wait_for_request();
        });
    }

    // A streamed answer: the headers, then a chunk whenever the stream has something to send, until
    // it says it is over, the client goes away (a write fails) or the server stops.
    void start_stream(std::shared_ptr<http::response<http::empty_body>> reply, std::shared_ptr<ResponseStream> source) {
        auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*reply);
        http::async_write_header(stream_, *serializer,
                                 [self = shared_from_this(), reply, serializer, source](beast::error_code ec, size_t) {
                                     if (ec) return self->close();
                                     self->watch_stream_client(64 * 1024);
                                     self->stream_next(source);
                                 });
    }

    // A stream that sends nothing for a while would notice a client gone only at its next write (the
    // first after the peer closed even succeeds), so a closed EventSource held its place, and the
    // stream cap, for up to two keep-alive periods. Reading the socket sees the close at once. What a
    // client sends on a stream is dropped; one that sends more than `budget` bytes is closed.
    void watch_stream_client(size_t budget) {
        auto scratch = std::make_shared<std::array<char, 4096>>();
        stream_.socket().async_read_some(asio::buffer(*scratch), [self = shared_from_this(), scratch, budget](
                                                                     beast::error_code ec, size_t got) {
            if (self->stream_over_) return;  // end_stream took the socket back to linger
            if (ec || got >= budget) return self->close();
            self->watch_stream_client(budget - got);
        });
    }

    void stream_next(const std::shared_ptr<ResponseStream>& source) {
        std::string out;
        bool more = false;
        try {
            more = source->next(out);
        } catch (const std::exception& e) {
            spdlog::error("an event stream failed: {}", e.what());
            more = false;
        }
        if (out.empty()) return more ? stream_wait(source) : end_stream();
        auto data = std::make_shared<std::string>(std::move(out));
        stream_.expires_after(options_.request_timeout);
        asio::async_write(stream_, http::make_chunk(asio::buffer(*data)),
                          [self = shared_from_this(), data, source, more](beast::error_code ec, size_t) {
                              if (ec) return self->close();
                              if (!more) return self->end_stream();
                              self->stream_wait(source);
                          });
    }

    void stream_wait(const std::shared_ptr<ResponseStream>& source) {
        stream_.expires_never();
        timer_.expires_after(source->interval);
        timer_.async_wait([self = shared_from_this(), source](beast::error_code ec) {
            if (ec || !self->stream_.socket().is_open()) return self->close();
            self->stream_next(source);
        });
    }

    void end_stream() {
        stream_over_ = true;
        beast::error_code ignored;
        stream_.socket().cancel(ignored);  // the watch's read: linger reads on its own
        stream_.expires_after(options_.request_timeout);
        asio::async_write(stream_, http::make_chunk_last(), [self = shared_from_this()](beast::error_code, size_t) {
            self->linger();
        });
    }

    // Closing a socket with unread input resets the connection, and the client may lose the answer
    // it was just sent (a 413 while it still sends its body). So: stop sending, read and drop what
    // still comes for a moment, then close.
    void linger() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.expires_after(std::chrono::seconds(1));
        discard_input(256 * 1024);
    }

    void discard_input(size_t budget) {
        auto scratch = std::make_shared<std::array<char, 8192>>();
        stream_.async_read_some(asio::buffer(*scratch), [self = shared_from_this(), scratch, budget](beast::error_code ec,
                                                                                                    size_t got) {
            if (ec || got >= budget) return self->close();
            self->discard_input(budget - got);
        });
    }

    void close() {
        waiting_ = false;
        connections_.not_idle(*this);
        timer_.cancel();
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.socket().close(ec);  // the descriptor is free now, not when the last handler lets go
    }

    beast::tcp_stream stream_;
    asio::steady_timer timer_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    const HttpHandler& handler_;
    const HttpServerOptions& options_;
    Connections& connections_;
    asio::thread_pool& workers_;
    bool waiting_ = false;  // waiting for a request, idle (only touched on the session's strand)
    bool stream_over_ = false;  // a streamed answer ended: its watch of the socket stops (on the strand)
    std::optional<Connections::IdleList::iterator> idle_position_;  // guarded by the Connections' lock
};

void Connections::became_idle(const std::shared_ptr<Session>& session) {
    std::lock_guard lock(mutex_);
    if (!session->idle_position_) session->idle_position_ = idle_.insert(idle_.end(), session);
}

void Connections::not_idle(Session& session) {
    std::lock_guard lock(mutex_);
    if (!session.idle_position_) return;
    idle_.erase(*session.idle_position_);
    session.idle_position_.reset();
}

std::shared_ptr<Session> Connections::take_oldest_idle() {
    std::lock_guard lock(mutex_);
    // A session whose last owner just let go is skipped: its destructor takes it off the list.
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
        if (auto session = it->lock()) {
            session->idle_position_.reset();
            idle_.erase(it);
            return session;
        }
    }
    return nullptr;
}

}  // namespace

class HttpServer::Impl {
  public:
    Impl(HttpServerOptions options, HttpHandler handler)
        : options_(std::move(options)),
          handler_(std::move(handler)),
          cap_(connection_cap(options_.max_connections)),
          workers_(static_cast<std::size_t>(std::max(1, options_.handler_threads))),
          acceptor_(io_),
          pause_timer_(io_) {}

    ~Impl() {
        stop();
        if (reserve_fd_ >= 0) ::close(reserve_fd_);
    }

    Result<int> start() {
        beast::error_code ec;
        auto address = asio::ip::make_address(options_.host, ec);
        if (ec) return make_error("cannot listen on '{}': not an IP address ({})", options_.host, ec.message());
        tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
        acceptor_.open(endpoint.protocol(), ec);
        if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_.bind(endpoint, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (!ec) acceptor_.non_blocking(true, ec);
        if (ec) {
            return make_error("cannot listen on {}:{}: {}{}", options_.host, options_.port, ec.message(),
                              ec == asio::error::address_in_use ? " (another program uses this port; pick another with --port)" : "");
        }
        // Kept for the moment descriptors run out: closing it makes room to accept and close one
        // waiting connection, so that the client is told instead of left hanging.
        reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (cap_ < static_cast<size_t>(options_.max_connections)) {
            spdlog::info("the web server keeps at most {} connections open (half the descriptor limit)", cap_);
        }
        int port = acceptor_.local_endpoint().port();
        accept();
        for (int i = 0; i < std::max(1, options_.threads); ++i) {
            threads_.emplace_back([this] { io_.run(); });
        }
        return port;
    }

    void stop() {
        asio::post(io_, [this] {
            beast::error_code ec;
            acceptor_.close(ec);
            pause_timer_.cancel();
        });
        io_.stop();
        for (auto& thread : threads_) {
            if (thread.joinable()) thread.join();
        }
        threads_.clear();
        // Handlers still running finish (their answers go nowhere); those not started are dropped.
        workers_.stop();
        workers_.join();
    }

    size_t cap() const { return cap_; }

  private:
    void accept() {
        acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
            on_accept(ec, std::move(socket));
        });
    }

    void on_accept(beast::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (ec == asio::error::no_descriptors || ec == beast::errc::too_many_files_open_in_system ||
            ec == asio::error::no_buffer_space || ec == asio::error::no_memory) {
            return out_of_descriptors(ec);
        }
        if (ec) {
            // A client that gave up while waiting (ECONNABORTED) and the like: go on, without spinning.
            return pause_accepting(kAllBusyPause);
        }
        if (connections_.open() >= cap_) {
            auto idle = connections_.take_oldest_idle();
            if (!idle) {
                // Every connection is in the middle of a request: refuse this one for now.
                beast::error_code ignored;
                socket.close(ignored);
                return pause_accepting(kAllBusyPause);
            }
            idle->shed();
        }
        std::make_shared<Session>(std::move(socket), handler_, options_, connections_, workers_)->start();
        accept();
    }

    // accept() failed for want of descriptors (or kernel memory): close an idle connection, use the
    // reserve descriptor to accept and close one waiting client, and pause before trying again.
    void out_of_descriptors(const beast::error_code& ec) {
        auto now = std::chrono::steady_clock::now();
        if (now - last_warning_ > std::chrono::seconds(10)) {
            last_warning_ = now;
            spdlog::warn("the web server cannot accept connections ({}; {} open): closing idle ones and refusing new "
                         "ones for now",
                         ec.message(), connections_.open());
        }
        if (auto idle = connections_.take_oldest_idle()) idle->shed();
        if (reserve_fd_ >= 0) {
            ::close(reserve_fd_);
            reserve_fd_ = -1;
        }
        int refused = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (refused >= 0) ::close(refused);
        reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        pause_accepting(kOutOfDescriptorsPause);
    }

    void pause_accepting(std::chrono::milliseconds pause) {
        pause_timer_.expires_after(pause);
        pause_timer_.async_wait([this](beast::error_code ec) {
            if (!ec) accept();
        });
    }

    HttpServerOptions options_;
    HttpHandler handler_;
    size_t cap_;
    Connections connections_;  // outlives io_: sessions destroyed with io_ still unregister
    asio::thread_pool workers_;  // outlives io_: sessions hold a reference
    asio::io_context io_;
    tcp::acceptor acceptor_;
    asio::steady_timer pause_timer_;
    int reserve_fd_ = -1;
    std::chrono::steady_clock::time_point last_warning_;
    std::vector<std::thread> threads_;
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { stop(); }

Result<int> HttpServer::start() { return impl_->start(); }

void HttpServer::stop() {
    if (impl_) impl_->stop();
}

int HttpServer::max_connections() const { return static_cast<int>(impl_->cap()); }

}  // namespace mayaflow
