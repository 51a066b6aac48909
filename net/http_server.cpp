#include "net/http_server.h"

#include <cpprest/http_client.h>
#include <cpprest/uri.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <future>
#include <limits>
#include <map>
#include <optional>
#include <thread>

#include "core/log.h"

namespace learnloop::net {

namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

}  // namespace

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

// One thread reads and writes every connection (asynchronous Beast); the handlers run on a
// small pool, so a slow answer holds a worker, never the reading of other connections. Every
// session's state is touched on the I/O thread only.
struct HttpServer::Impl {
  using TlsStream = beast::ssl_stream<beast::tcp_stream>;
  struct Session : std::enable_shared_from_this<Session> {
    // Plain: the socket is the stream; with TLS, the stream wraps it (and `stream` is unused).
    Session(tcp::socket s, boost::asio::ssl::context* tls_context)
        : stream(tls_context ? tcp::socket(s.get_executor()) : std::move(s)) {
      if (tls_context) tls = std::make_unique<TlsStream>(std::move(s), *tls_context);
    }
    // The TCP layer: timeouts and closing.
    beast::tcp_stream& Tcp() { return tls ? beast::get_lowest_layer(*tls) : stream; }
    // Calls f with the stream requests are read from and answers written to.
    template <typename F>
    void With(F&& f) {
      if (tls)
        f(*tls);
      else
        f(stream);
    }
    enum class State { kWaiting, kBody, kHandling, kWriting };
    beast::tcp_stream stream;
    std::unique_ptr<TlsStream> tls;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    State state = State::kWaiting;
    std::chrono::steady_clock::time_point since;  // of the current state
    uint64_t id = 0;
    bool closed = false;
  };
  using SessionPtr = std::shared_ptr<Session>;

  boost::asio::io_context io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
  std::optional<tcp::acceptor> acceptor;
  std::optional<boost::asio::steady_timer> retry;
  std::unique_ptr<boost::asio::thread_pool> pool;
  std::thread io_thread;
  Handler handler;
  ServerLimits limits;
  std::optional<boost::asio::ssl::context> tls_context;  // HTTPS when set
  std::map<uint64_t, SessionPtr> sessions;               // I/O thread only
  uint64_t next_id = 0;
  bool stopping = false;  // I/O thread only
  std::chrono::milliseconds backoff{0};
  std::chrono::steady_clock::time_point last_warning{};
  std::atomic<size_t> open{0};
  std::atomic<uint64_t> evicted{0};

  // At most one warning of a kind every 10 s: a flood of bad peers is not a flood of lines.
  template <typename... A>
  void Warn(spdlog::format_string_t<A...> fmt, A&&... args) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_warning < std::chrono::seconds{10}) return;
    last_warning = now;
    Logger("http")->warn(fmt, std::forward<A>(args)...);
  }

  void Accept() {
    acceptor->async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (stopping) return;
      if (ec) {
        // Out of descriptors (EMFILE), a connection aborted before it was taken, …: the
        // listener waits a moment and goes on; it never stops taking connections.
        if (ec == boost::asio::error::no_descriptors ||
            ec == boost::system::errc::too_many_files_open_in_system)
          EvictIdlest();
        backoff = std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds{1000},
            std::max<std::chrono::milliseconds>(std::chrono::milliseconds{20}, backoff * 2));
        Warn("accept failed: {} (trying again in {} ms)", ec.message(), backoff.count());
        retry->expires_after(backoff);
        retry->async_wait([this](boost::system::error_code wait_ec) {
          if (!wait_ec && !stopping) Accept();
        });
        return;
      }
      backoff = std::chrono::milliseconds{0};
      if (sessions.size() >= limits.max_connections && !EvictIdlest()) {
        // Every connection is busy with a request: the new one is turned away.
        Warn("{} connections busy: one refused", sessions.size());
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto s =
            std::make_shared<Session>(std::move(socket), tls_context ? &*tls_context : nullptr);
        s->id = ++next_id;
        sessions.emplace(s->id, s);
        open = sessions.size();
        if (!s->tls) {
          ReadNext(s);
        } else {
          // The handshake within the header's time; a peer that fails it is closed.
          s->since = std::chrono::steady_clock::now();
          s->Tcp().expires_after(limits.header_timeout);
          s->tls->async_handshake(boost::asio::ssl::stream_base::server,
                                  [this, s](beast::error_code hs_ec) {
                                    if (s->closed) return;
                                    if (hs_ec) return Close(s, false);
                                    ReadNext(s);
                                  });
        }
      }
      Accept();
    });
  }

  // Closes the connection that has waited longest for a request (an idle keep-alive, or a
  // peer that never finishes its header). False when every connection is busy.
  bool EvictIdlest() {
    SessionPtr idlest;
    for (const auto& [id, s] : sessions)
      if (s->state == Session::State::kWaiting && (!idlest || s->since < idlest->since)) idlest = s;
    if (!idlest) return false;
    ++evicted;
    Close(idlest, false);
    return true;
  }

  void Close(const SessionPtr& s, bool reset) {
    if (s->closed) return;
    s->closed = true;
    sessions.erase(s->id);
    open = sessions.size();
    boost::system::error_code ignored;
    auto& socket = s->Tcp().socket();
    if (reset) {
      // Abortive close: the peer reads a TCP RST instead of an answer.
      socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
    } else {
      socket.shutdown(tcp::socket::shutdown_both, ignored);
    }
    socket.close(ignored);
  }

  void ReadNext(const SessionPtr& s) {
    s->state = Session::State::kWaiting;
    s->since = std::chrono::steady_clock::now();
    s->parser.emplace();
    s->parser->header_limit(32 * 1024);
    // The path decides the body's limit, checked once the header is read.
    s->parser->body_limit(std::numeric_limits<uint64_t>::max());
    s->Tcp().expires_after(limits.header_timeout);
    s->With([&](auto& stream) {
      http::async_read_header(stream, s->buffer, *s->parser,
                              [this, s](beast::error_code ec, size_t) { OnHeader(s, ec); });
    });
  }

  void OnHeader(const SessionPtr& s, beast::error_code ec) {
    if (s->closed) return;
    if (ec) return Close(s, false);
    s->state = Session::State::kBody;
    s->since = std::chrono::steady_clock::now();
    std::string target(s->parser->get().target());
    uint64_t limit = limits.body_limit(UrlDecode(target.substr(0, target.find('?'))));
    if (auto length = s->parser->content_length(); length && *length > limit)
      return TooLarge(s, limit);
    s->parser->body_limit(limit);
    s->Tcp().expires_after(limits.body_timeout);
    s->With([&](auto& stream) {
      http::async_read(stream, s->buffer, *s->parser, [this, s](beast::error_code ec2, size_t) {
        if (s->closed) return;
        if (ec2 == http::error::body_limit) return TooLarge(s, 0);
        if (ec2) return Close(s, false);
        Handle(s);
      });
    });
  }

  // 413, and the connection closed: what is left of the body is never read.
  void TooLarge(const SessionPtr& s, uint64_t limit) {
    Warn("request body over the limit{} refused (413)",
         limit ? " of " + std::to_string(limit) + " bytes" : std::string());
    Reply rep;
    rep.status = 413;
    rep.body = R"({"error":"request body too large"})";
    Send(s, std::make_shared<Reply>(std::move(rep)), 11, false);
  }

  void Handle(const SessionPtr& s) {
    s->state = Session::State::kHandling;
    auto req = std::make_shared<http::request<http::string_body>>(s->parser->release());
    boost::asio::post(*pool, [this, s, req] {
      auto rep = std::make_shared<Reply>(Answer(*req));
      boost::asio::post(io, [this, s, req, rep] {
        if (s->closed) return;
        if (rep->reset) return Close(s, true);
        if (rep->stream) return SendChunked(s, rep, req->version(), req->keep_alive());
        Send(s, rep, req->version(), req->keep_alive());
      });
    });
  }

  // The status line and headers of an answer.
  template <typename Body>
  static void Head(http::response<Body>& res, const Reply& rep, unsigned version, bool keep_alive) {
    res.result(static_cast<unsigned>(rep.status));
    res.version(version);
    for (const auto& [k, v] : rep.headers) res.set(k, v);
    res.set(http::field::content_type, rep.content_type);
    res.keep_alive(keep_alive);
  }

  void Send(const SessionPtr& s, const std::shared_ptr<Reply>& rep, unsigned version,
            bool keep_alive) {
    s->state = Session::State::kWriting;
    auto res = std::make_shared<http::response<http::string_body>>();
    Head(*res, *rep, version, keep_alive);
    res->body() = std::move(rep->body);
    res->prepare_payload();
    s->Tcp().expires_after(limits.write_timeout);
    s->With([&](auto& stream) {
      http::async_write(stream, *res, [this, s, res](beast::error_code ec, size_t) {
        if (s->closed) return;
        if (ec || !res->keep_alive()) return Close(s, false);
        ReadNext(s);
      });
    });
  }

  // An answer too big to hold at once: chunks made on the pool, written here one by one.
  void SendChunked(const SessionPtr& s, const std::shared_ptr<Reply>& rep, unsigned version,
                   bool keep_alive) {
    s->state = Session::State::kWriting;
    auto res = std::make_shared<http::response<http::empty_body>>();
    Head(*res, *rep, version, keep_alive);
    res->chunked(true);
    auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    s->Tcp().expires_after(limits.write_timeout);
    s->With([&](auto& stream) {
      http::async_write_header(stream, *sr, [this, s, rep, res, sr](beast::error_code ec, size_t) {
        if (s->closed) return;
        if (ec) return Close(s, false);
        NextChunk(s, rep, res->keep_alive());
      });
    });
  }

  void NextChunk(const SessionPtr& s, const std::shared_ptr<Reply>& rep, bool keep_alive) {
    boost::asio::post(*pool, [this, s, rep, keep_alive] {
      auto chunk = std::make_shared<std::string>();
      bool more = false;
      try {
        more = rep->stream(*chunk);
      } catch (const std::exception& e) {
        Logger("http")->error("answer cut short: {}", e.what());
        boost::asio::post(io, [this, s] { Close(s, true); });
        return;
      }
      boost::asio::post(io, [this, s, rep, keep_alive, chunk, more] {
        if (s->closed) return;
        auto after = [this, s, rep, keep_alive, chunk, more](beast::error_code ec, size_t) {
          if (s->closed) return;
          if (ec) return Close(s, false);
          if (more) return NextChunk(s, rep, keep_alive);
          if (!keep_alive) return Close(s, false);
          ReadNext(s);
        };
        s->Tcp().expires_after(limits.write_timeout);
        if (more && chunk->empty()) return after({}, 0);
        s->With([&](auto& stream) {
          if (more) {
            boost::asio::async_write(stream, http::make_chunk(boost::asio::buffer(*chunk)), after);
          } else if (chunk->empty()) {
            boost::asio::async_write(stream, http::make_chunk_last(), after);
          } else {
            // The last data, then the end: two writes in one sequence.
            boost::asio::async_write(stream, http::make_chunk(boost::asio::buffer(*chunk)),
                                     [s, &stream, after](beast::error_code ec, size_t n) {
                                       if (s->closed) return;
                                       if (ec) return after(ec, n);
                                       boost::asio::async_write(stream, http::make_chunk_last(),
                                                                after);
                                     });
          }
        });
      });
    });
  }

  Reply Answer(const http::request<http::string_body>& req) {
    Request r;
    r.method = std::string(req.method_string());
    std::string target(req.target());
    size_t q = target.find('?');
    r.path = UrlDecode(target.substr(0, q));
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

size_t HttpServer::open_connections() const { return impl_->open; }
uint64_t HttpServer::evicted_connections() const { return impl_->evicted; }

Result<int> HttpServer::Start(int port, Handler handler, const std::string& host,
                              ServerLimits limits) {
  if (impl_->acceptor) return Result<int>::Fail("already listening");
  if (port < 0 || port > 65535) return Result<int>::Fail("port out of range");
  try {
    impl_->handler = std::move(handler);
    impl_->limits = std::move(limits);
    if (!impl_->limits.tls_cert_file.empty()) {
      // TLS 1.2 and later, the certificate chain and key from PEM files.
      namespace ssl = boost::asio::ssl;
      impl_->tls_context.emplace(ssl::context::tls_server);
      impl_->tls_context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                      ssl::context::no_tlsv1_1);
      impl_->tls_context->use_certificate_chain_file(impl_->limits.tls_cert_file);
      impl_->tls_context->use_private_key_file(impl_->limits.tls_key_file, ssl::context::pem);
    }
    if (impl_->limits.max_connections < 1) impl_->limits.max_connections = 1;
    tcp::endpoint ep(boost::asio::ip::make_address(host), static_cast<uint16_t>(port));
    impl_->acceptor.emplace(impl_->io);
    impl_->acceptor->open(ep.protocol());
    impl_->acceptor->set_option(boost::asio::socket_base::reuse_address(true));
    impl_->acceptor->bind(ep);
    impl_->acceptor->listen(boost::asio::socket_base::max_listen_connections);
    int bound = impl_->acceptor->local_endpoint().port();
    impl_->retry.emplace(impl_->io);
    impl_->pool = std::make_unique<boost::asio::thread_pool>(
        static_cast<size_t>(std::max(1, impl_->limits.workers)));
    impl_->guard.emplace(impl_->io.get_executor());
    impl_->Accept();
    impl_->io_thread = std::thread([this] { impl_->io.run(); });
    return bound;
  } catch (const std::exception& e) {
    impl_->acceptor.reset();
    impl_->tls_context.reset();
    return Result<int>::Fail("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                             e.what());
  }
}

void HttpServer::Stop() {
  if (!impl_ || !impl_->acceptor || !impl_->io_thread.joinable()) return;
  // Everything is closed on the I/O thread; handlers still running finish on the pool (their
  // answers are dropped), then the I/O thread runs out of work and ends.
  std::promise<void> closed;
  boost::asio::post(impl_->io, [this, &closed] {
    impl_->stopping = true;
    boost::system::error_code ignored;
    impl_->acceptor->close(ignored);
    impl_->retry->cancel();
    auto all = impl_->sessions;
    for (auto& [id, s] : all) impl_->Close(s, false);
    closed.set_value();
  });
  closed.get_future().wait();
  impl_->pool->join();
  impl_->guard.reset();
  impl_->io_thread.join();
  impl_->acceptor.reset();
  impl_->sessions.clear();
}

}  // namespace learnloop::net
