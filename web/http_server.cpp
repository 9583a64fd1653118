#include "web/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <spdlog/spdlog.h>

#include <thread>
#include <vector>

namespace mayaflow {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(30);

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(tcp::socket socket, const HttpHandler& handler, size_t max_body)
        : stream_(std::move(socket)), handler_(handler), max_body_(max_body) {}

    void start() { read(); }

  private:
    void read() {
        parser_.emplace();
        parser_->body_limit(max_body_);
        stream_.expires_after(kIdleTimeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset) {
            return close();
        }
        if (ec) {
            if (ec == http::error::body_limit) {
                return reply_error(413, "request body too large");
            }
            return reply_error(400, "malformed HTTP request: " + ec.message());
        }
        auto& message = parser_->get();
        HttpRequest request;
        request.method = std::string(message.method_string());
        request.target = std::string(message.target());
        for (const auto& field : message) {
            std::string name(field.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            request.headers[name] = std::string(field.value());
        }
        request.body = std::move(message.body());
        HttpResponse response;
        try {
            response = handler_(request);
        } catch (const std::exception& e) {
            spdlog::error("request {} {} failed: {}", request.method, request.target, e.what());
            response = HttpResponse{500, "application/problem+json",
                                    R"({"type":"about:blank","title":"Internal Server Error","status":500,"detail":"the server failed to handle this request; see its log"})",
                                    {}};
        }
        send(std::move(response), message.keep_alive(), message.version());
    }

    void reply_error(int status, const std::string& detail) {
        std::string body = R"({"type":"about:blank","title":"Bad Request","status":)" + std::to_string(status) +
                           R"(,"detail":")" + detail + "\"}";
        send(HttpResponse{status, "application/problem+json", body, {}}, false, 11);
    }

    void send(HttpResponse response, bool keep_alive, unsigned version) {
        auto reply = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status), version);
        reply->set(http::field::server, "mayaflow");
        reply->set(http::field::content_type, response.content_type);
        for (const auto& [name, value] : response.headers) reply->set(name, value);
        reply->body() = std::move(response.body);
        reply->keep_alive(keep_alive);
        reply->prepare_payload();
        http::async_write(stream_, *reply, [self = shared_from_this(), reply, keep_alive](beast::error_code ec, size_t) {
            if (ec || !keep_alive) return self->close();
            self->read();
        });
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    const HttpHandler& handler_;
    size_t max_body_;
};

}  // namespace

class HttpServer::Impl {
  public:
    Impl(HttpServerOptions options, HttpHandler handler)
        : options_(std::move(options)), handler_(std::move(handler)), acceptor_(io_) {}

    Result<int> start() {
        beast::error_code ec;
        auto address = asio::ip::make_address(options_.host, ec);
        if (ec) return make_error("cannot listen on '{}': not an IP address ({})", options_.host, ec.message());
        tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
        acceptor_.open(endpoint.protocol(), ec);
        if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_.bind(endpoint, ec);
        if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            return make_error("cannot listen on {}:{}: {}{}", options_.host, options_.port, ec.message(),
                              ec == asio::error::address_in_use ? " (another program uses this port; pick another with --port)" : "");
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
        });
        io_.stop();
        for (auto& thread : threads_) {
            if (thread.joinable()) thread.join();
        }
        threads_.clear();
    }

  private:
    void accept() {
        acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) std::make_shared<Session>(std::move(socket), handler_, options_.max_body_bytes)->start();
            accept();
        });
    }

    HttpServerOptions options_;
    HttpHandler handler_;
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::vector<std::thread> threads_;
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { stop(); }

Result<int> HttpServer::start() { return impl_->start(); }

void HttpServer::stop() {
    if (impl_) impl_->stop();
}

}  // namespace mayaflow
