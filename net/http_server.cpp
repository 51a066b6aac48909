#include "net/http_server.h"

#include <cpprest/http_client.h>
#include <cpprest/uri.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace learnloop::net {

namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string Decode(const std::string& s, bool plus_is_space) {
  std::string text = s;
  if (plus_is_space) std::replace(text.begin(), text.end(), '+', ' ');
  try {
    return web::uri::decode(text);
  } catch (const std::exception&) {
    return text;
  }
}

}  // namespace

std::string UrlEncode(const std::string& s) { return web::uri::encode_data_string(s); }

std::map<std::string, std::string> ParseForm(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    std::string part = body.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      out[Decode(part.substr(0, eq), true)] =
          eq == std::string::npos ? "" : Decode(part.substr(eq + 1), true);
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

Result<PostResult> HttpPost(const std::string& url, const std::string& content_type,
                            const std::string& body, std::chrono::milliseconds timeout,
                            const std::vector<std::pair<std::string, std::string>>& headers) {
  try {
    web::http::client::http_client_config cfg;
    cfg.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout));
    web::uri uri(url);
    web::uri_builder base;
    base.set_scheme(uri.scheme()).set_host(uri.host()).set_port(uri.port());
    web::http::client::http_client client(base.to_uri(), cfg);
    web::http::http_request req(web::http::methods::POST);
    req.set_request_uri(uri.resource());
    for (const auto& [k, v] : headers) req.headers().add(k, v);
    req.set_body(body, content_type);
    auto resp = client.request(req).get();
    auto bytes = resp.extract_vector().get();
    return PostResult{resp.status_code(), std::string(bytes.begin(), bytes.end())};
  } catch (const std::exception& e) {
    return Result<PostResult>::Fail(e.what());
  }
}

// One thread accepts; each connection gets its own thread running synchronous Beast reads
// and writes, so a slow answer holds only its own connection (as it would on a real server).
struct HttpServer::Impl {
  boost::asio::io_context io;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor;
  Handler handler;
  std::thread accept_thread;
  std::mutex mu;
  std::condition_variable idle;
  std::set<int> open_fds;  // native handles of live connections, shut down by Stop
  int connections = 0;
  bool stopping = false;

  void Accept() {
    acceptor->async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;  // closed by Stop
      {
        std::lock_guard lock(mu);
        if (stopping) return;
        ++connections;
        open_fds.insert(socket.native_handle());
      }
      std::thread([this, s = std::move(socket)]() mutable { Serve(std::move(s)); }).detach();
      Accept();
    });
  }

  static bool WriteChunked(tcp::socket& socket, const http::request<http::string_body>& req,
                           Reply& rep) {
    http::response<http::empty_body> res;
    res.result(static_cast<unsigned>(rep.status));
    res.version(req.version());
    for (const auto& [k, v] : rep.headers) res.set(k, v);
    res.set(http::field::content_type, rep.content_type);
    res.keep_alive(req.keep_alive());
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    beast::error_code ec;
    http::write_header(socket, sr, ec);
    if (ec) return false;
    std::string chunk;
    for (bool more = true; more;) {
      chunk.clear();
      more = rep.stream(chunk);
      if (!chunk.empty())
        boost::asio::write(socket, http::make_chunk(boost::asio::buffer(chunk)), ec);
      if (ec) return false;
    }
    boost::asio::write(socket, http::make_chunk_last(), ec);
    return !ec && res.keep_alive();
  }

  void Serve(tcp::socket socket) {
    int fd = socket.native_handle();
    beast::flat_buffer buffer;
    bool reset = false;
    for (;;) {
      beast::error_code ec;
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      http::read(socket, buffer, parser, ec);
      if (ec) break;
      const auto& req = parser.get();
      Reply rep = Answer(req);
      if (rep.reset) {
        reset = true;
        break;
      }
      if (rep.stream) {
        if (!WriteChunked(socket, req, rep)) break;
        continue;
      }
      http::response<http::string_body> res;
      res.result(static_cast<unsigned>(rep.status));
      res.version(req.version());
      for (const auto& [k, v] : rep.headers) res.set(k, v);
      res.set(http::field::content_type, rep.content_type);
      res.body() = std::move(rep.body);
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec || !res.keep_alive()) break;
    }
    {
      std::lock_guard lock(mu);
      open_fds.erase(fd);
    }
    beast::error_code ignored;
    if (reset) {
      // Abortive close: the peer reads a TCP RST instead of an answer.
      socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
    } else {
      socket.shutdown(tcp::socket::shutdown_both, ignored);
    }
    socket.close(ignored);
    std::lock_guard lock(mu);
    if (--connections == 0) idle.notify_all();
  }

  Reply Answer(const http::request<http::string_body>& req) {
    Request r;
    r.method = std::string(req.method_string());
    std::string target(req.target());
    size_t q = target.find('?');
    r.path = Decode(target.substr(0, q), false);
    if (q != std::string::npos) {
      r.raw_query = target.substr(q + 1);
      r.query = ParseForm(r.raw_query);
    }
    for (const auto& field : req) {
      std::string lk(field.name_string());
      std::transform(lk.begin(), lk.end(), lk.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      r.headers[lk] = std::string(field.value());
    }
    r.body = req.body();
    try {
      return handler(r);
    } catch (const std::exception& e) {
      Reply rep;
      rep.status = 500;
      rep.body = std::string("{\"error\":\"") + e.what() + "\"}";
      return rep;
    }
  }
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}
HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Start(int port, Handler handler, const std::string& host) {
  if (impl_->acceptor) return Result<int>::Fail("already listening");
  try {
    impl_->handler = std::move(handler);
    tcp::endpoint ep(boost::asio::ip::make_address(host), static_cast<uint16_t>(port));
    impl_->acceptor.emplace(impl_->io);
    impl_->acceptor->open(ep.protocol());
    impl_->acceptor->set_option(boost::asio::socket_base::reuse_address(true));
    impl_->acceptor->bind(ep);
    impl_->acceptor->listen(boost::asio::socket_base::max_listen_connections);
    int bound = impl_->acceptor->local_endpoint().port();
    impl_->Accept();
    impl_->accept_thread = std::thread([this] { impl_->io.run(); });
    return bound;
  } catch (const std::exception& e) {
    impl_->acceptor.reset();
    return Result<int>::Fail("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             e.what());
  }
}

void HttpServer::Stop() {
  if (!impl_ || !impl_->acceptor) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    // Wakes the connection threads blocked in a read; they close their sockets themselves.
    for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
  }
  boost::asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->acceptor->close(ignored);
  });
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::unique_lock lock(impl_->mu);
  impl_->idle.wait(lock, [this] { return impl_->connections == 0; });
  lock.unlock();
  impl_->acceptor.reset();
}

}  // namespace learnloop::net
