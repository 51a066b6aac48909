#include "sim/http_server.h"

#include <cpprest/http_client.h>
#include <cpprest/http_listener.h>
#include <cpprest/uri.h>

#include <algorithm>
#include <boost/asio.hpp>

namespace learnloop::sim {

namespace {

int FreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

std::string Decode(const std::string& s) {
  std::string plus = s;
  std::replace(plus.begin(), plus.end(), '+', ' ');
  try {
    return web::uri::decode(plus);
  } catch (const std::exception&) {
    return plus;
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
      out[Decode(part.substr(0, eq))] = eq == std::string::npos ? "" : Decode(part.substr(eq + 1));
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

struct HttpServer::Impl {
  std::unique_ptr<web::http::experimental::listener::http_listener> listener;
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}
HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Start(int port, Handler handler) {
  // A port picked by the kernel can be taken between the probe and the bind; try a few.
  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    int p = port ? port : FreePort();
    try {
      auto l = std::make_unique<web::http::experimental::listener::http_listener>(
          "http://127.0.0.1:" + std::to_string(p));
      l->support([handler](web::http::http_request req) {
        SimRequest r;
        r.method = req.method();
        auto uri = req.relative_uri();
        r.path = web::uri::decode(uri.path());
        for (const auto& [k, v] : web::uri::split_query(uri.query()))
          r.query[Decode(k)] = Decode(v);
        for (const auto& [k, v] : req.headers()) {
          std::string lk = k;
          std::transform(lk.begin(), lk.end(), lk.begin(), ::tolower);
          r.headers[lk] = v;
        }
        try {
          auto bytes = req.extract_vector().get();
          r.body.assign(bytes.begin(), bytes.end());
        } catch (const std::exception&) {
        }
        SimReply rep;
        try {
          rep = handler(r);
        } catch (const std::exception& e) {
          rep.status = 500;
          rep.body = std::string("{\"error\":\"") + e.what() + "\"}";
        }
        web::http::http_response resp(static_cast<web::http::status_code>(rep.status));
        for (const auto& [k, v] : rep.headers) resp.headers().add(k, v);
        resp.set_body(rep.body, rep.content_type);
        req.reply(resp).wait();
      });
      l->open().wait();
      impl_->listener = std::move(l);
      return p;
    } catch (const std::exception& e) {
      last_error = e.what();
      if (port) break;
    }
  }
  return Result<int>::Fail("cannot listen on 127.0.0.1: " + last_error);
}

void HttpServer::Stop() {
  if (impl_ && impl_->listener) {
    try {
      impl_->listener->close().wait();
    } catch (const std::exception&) {
    }
    impl_->listener.reset();
  }
}

}  // namespace learnloop::sim
