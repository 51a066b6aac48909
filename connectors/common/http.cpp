#include "connectors/common/http.h"

#include <cpprest/http_client.h>

#include <algorithm>
#include <cctype>

#include "connectors/common/token_source.h"
#include "core/heartbeat.h"
#include "core/json.h"
#include "core/log.h"
#include "core/metrics.h"

namespace learnloop::connectors::http {

std::optional<std::string> Response::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {

// Every request goes out on a connection of its own. cpprestsdk silently sends a request again
// when a pooled (reused) connection is reset or closed before the status line arrives; the
// server may already have carried it out and counted it, so a post could appear twice and a
// rate budget be overdrawn without our knowing. With a fresh connection each time, one Send is
// at most one request on the wire. Our request rates are low (tens per minute), so the extra
// handshakes cost little.
class CpprestClient final : public Client {
 public:
  explicit CpprestClient(Millis timeout) : timeout_(timeout) {}

  Result<Response> Send(const Request& r) override {
    try {
      web::uri uri(r.url);
      web::uri_builder authority;
      authority.set_scheme(uri.scheme()).set_host(uri.host()).set_port(uri.port());
      web::http::client::http_client_config cfg;
      cfg.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout_));
      cfg.set_validate_certificates(true);
      web::http::client::http_client client(authority.to_uri(), cfg);
      web::http::http_request req(web::http::method(r.method));
      req.set_request_uri(uri.resource());
      for (const auto& [k, v] : r.headers) req.headers().add(k, v);
      if (!r.body.empty() || r.method == "POST")
        req.set_body(r.body, r.content_type.empty() ? "application/json" : r.content_type);
      auto resp = client.request(req).get();
      Response out;
      out.status = resp.status_code();
      for (const auto& [k, v] : resp.headers()) {
        std::string lk = k;
        std::transform(lk.begin(), lk.end(), lk.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        out.headers[lk] = v;
      }
      auto bytes = resp.extract_vector().get();
      out.body.assign(bytes.begin(), bytes.end());
      return out;
    } catch (const std::exception& e) {
      return Result<Response>::Fail(std::string("transport error: ") + e.what());
    }
  }

 private:
  Millis timeout_;
};

}  // namespace

std::unique_ptr<Client> MakeClient(Millis timeout) {
  return std::make_unique<CpprestClient>(timeout);
}

Millis RateBudget::WaitTime(Time now) {
  while (!sent_.empty() && sent_.front() <= now - window_) sent_.pop_front();
  Millis wait{0};
  if (blocked_until_ > now) wait = blocked_until_ - now;
  if (static_cast<int>(sent_.size()) >= limit_) {
    // The oldest request in the window must leave it: at sent + window it is out.
    Time free_at = sent_[sent_.size() - limit_] + window_;
    wait = std::max(wait, free_at - now);
  }
  return wait;
}

void RateBudget::Record(Time now) { sent_.push_back(now); }

void RateBudget::BlockUntil(Time t) { blocked_until_ = std::max(blocked_until_, t); }

std::vector<Time> RateBudget::Recent(Time now) {
  while (!sent_.empty() && sent_.front() <= now - window_) sent_.pop_front();
  return {sent_.begin(), sent_.end()};
}

void RateBudget::Restore(const std::vector<Time>& sent) {
  sent_.insert(sent_.end(), sent.begin(), sent.end());
  std::sort(sent_.begin(), sent_.end());
}

void RateBudget::AssumeSpent(Time at) {
  for (int i = 0; i < limit_; ++i) sent_.push_back(at);
  std::sort(sent_.begin(), sent_.end());
}

std::string Requester::SaveBudgets() {
  std::string out;
  for (auto& [bucket, budget] : budgets_) {
    auto recent = budget.Recent(clock_.Now());
    if (recent.empty()) continue;
    if (!out.empty()) out += ';';
    out += bucket + '=';
    for (size_t i = 0; i < recent.size(); ++i)
      out += (i ? "," : "") + std::to_string(ToUnixMillis(recent[i]));
  }
  return out;
}

void Requester::RestoreBudgets(const std::string& saved) {
  size_t at = 0;
  while (at < saved.size()) {
    size_t end = saved.find(';', at);
    if (end == std::string::npos) end = saved.size();
    std::string part = saved.substr(at, end - at);
    at = end + 1;
    size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::vector<Time> times;
    for (size_t p = eq + 1; p < part.size();) {
      size_t comma = part.find(',', p);
      if (comma == std::string::npos) comma = part.size();
      if (auto ms = json::ParseInt64(part.substr(p, comma - p)))
        times.push_back(FromUnixMillis(*ms));
      p = comma + 1;
    }
    Budget(part.substr(0, eq)).Restore(times);
  }
}

void Requester::AssumeSpent(Time at) {
  spent_at_ = at;
  for (auto& [bucket, budget] : budgets_) budget.AssumeSpent(at);
}

Requester::Requester(Client& client, Clock& clock, int limit, Millis window, RetryPolicy policy,
                     uint64_t seed, std::string log_name)
    : client_(client),
      clock_(clock),
      limit_(limit),
      window_(window),
      policy_(policy),
      rng_(seed),
      log_name_(std::move(log_name)) {}

RateBudget& Requester::Budget(const std::string& bucket) {
  auto it = budgets_.find(bucket);
  if (it == budgets_.end()) {
    it = budgets_.emplace(bucket, RateBudget(limit_, window_)).first;
    if (spent_at_) it->second.AssumeSpent(*spent_at_);
  }
  return it->second;
}

Millis Requester::Backoff(int attempt) {
  // Full jitter: uniform in [0, min(max, base * 2^attempt)].
  int64_t cap = policy_.base_delay.count() << std::min(attempt, 20);
  cap = std::min<int64_t>(cap, policy_.max_delay.count());
  std::uniform_int_distribution<int64_t> d(0, cap);
  return Millis{d(rng_)};
}

namespace {

// The id a service gives each request, for support cases (Graph: request-id).
std::string RequestIdOf(const Response& r) {
  for (const char* h : {"request-id", "x-ms-request-id", "x-request-id", "client-request-id"})
    if (auto v = r.Header(h)) return *v;
  return "";
}

// The URL for a log line: the value of every query parameter that may carry a credential
// (a token, a secret, a code, a key, a signature) replaced.
std::string RedactedUrl(const std::string& url) {
  size_t q = url.find('?');
  if (q == std::string::npos) return url;
  std::string out = url.substr(0, q + 1);
  size_t at = q + 1;
  while (at <= url.size()) {
    size_t amp = url.find('&', at);
    if (amp == std::string::npos) amp = url.size();
    std::string pair = url.substr(at, amp - at);
    size_t eq = pair.find('=');
    std::string name = pair.substr(0, eq);
    std::string lower = name;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool secret = false;
    for (const char* word : {"token", "secret", "code", "key", "password", "sig", "assertion"})
      secret |= lower.find(word) != std::string::npos;
    out += (secret && eq != std::string::npos) ? name + "=REDACTED" : pair;
    if (amp < url.size()) out += '&';
    at = amp + 1;
  }
  return out;
}

}  // namespace

Result<Response> Requester::Send(const Request& req, const std::string& bucket) {
  auto log = Logger(log_name_);
  const std::string path = req.url.substr(0, req.url.find('?'));
  Counters& cls = by_class_[bucket];
  Request r = req;
  std::string last_error;
  bool renewed = false;  // a 401 already led to a new token
  for (int attempt = 0; attempt < policy_.max_attempts; ++attempt) {
    if (tokens_) {
      auto token = tokens_->Get();
      if (!token.ok())
        return Result<Response>::Fail("no token: " + token.error().message, token.error().code);
      std::erase_if(r.headers, [](const auto& h) { return h.first == "Authorization"; });
      r.headers.push_back({"Authorization", "Bearer " + *token});
    }
    RateBudget& budget = Budget(bucket);
    for (Millis w = budget.WaitTime(clock_.Now()); w.count() > 0;
         w = budget.WaitTime(clock_.Now())) {
      metrics::Add("learnloop_esn_wait_seconds_total",
                   {{"network", network_}, {"reason", "budget"}},
                   std::chrono::duration<double>(w).count());
      if (!clock_.SleepFor(w)) return Result<Response>::Fail("stopped");
    }
    budget.Record(clock_.Now());
    ++counters_.requests, ++cls.requests;
    if (attempt > 0) ++counters_.retries, ++cls.retries;
    heartbeat::Beat();
    auto res = client_.Send(r);
    heartbeat::Beat();
    metrics::Add("learnloop_esn_requests_total",
                 {{"network", network_},
                  {"endpoint", bucket},
                  {"status", res.ok() ? std::to_string(res->status) : "transport_error"}});
    if (log->should_log(spdlog::level::trace)) {
      // What went and came back, without a credential: no header values, no bodies.
      if (res.ok())
        log->trace("{} {} ({}, attempt {}): HTTP {}, {} bytes{}", req.method, RedactedUrl(req.url),
                   bucket, attempt + 1, res->status, res->body.size(),
                   RequestIdOf(*res).empty() ? "" : ", request id " + RequestIdOf(*res));
      else
        log->trace("{} {} ({}, attempt {}): {}", req.method, RedactedUrl(req.url), bucket,
                   attempt + 1, res.error().message);
    }
    Millis wait{0};
    std::string request_id;
    if (!res.ok()) {
      ++counters_.transport_errors, ++cls.transport_errors;
      last_error = res.error().message;
      wait = Backoff(attempt);
    } else if (res->status == 401 && tokens_ && tokens_->Renewable() && !renewed) {
      // The token expired early or was revoked: a new one, at once.
      ++counters_.unauthorized, ++cls.unauthorized;
      std::string id = RequestIdOf(*res);
      log->info("{} {}: 401, renewing the token{}", req.method, path,
                id.empty() ? "" : " (request id " + id + ")");
      tokens_->Invalidate();
      renewed = true;
      continue;
    } else if (res->status == 429) {
      ++counters_.throttled, ++cls.throttled;
      last_error = "429 throttled";
      request_id = RequestIdOf(*res);
      wait = policy_.throttle_default;
      if (auto ra = res->Header("retry-after")) {
        try {
          wait = std::chrono::seconds{std::max(0, std::stoi(*ra))};
        } catch (const std::exception&) {
        }
      }
      metrics::Add("learnloop_esn_throttled_total", {{"network", network_}, {"endpoint", bucket}});
      // A throttled token is throttled on every endpoint: hold all buckets.
      for (auto& [name, b] : budgets_) b.BlockUntil(clock_.Now() + wait);
    } else if (res->status >= 500) {
      ++counters_.server_errors, ++cls.server_errors;
      last_error = "HTTP " + std::to_string(res->status);
      request_id = RequestIdOf(*res);
      wait = Backoff(attempt);
      if (auto ra = res->Header("retry-after")) {
        try {
          wait = std::max(wait, Millis{std::chrono::seconds{std::stoi(*ra)}});
        } catch (const std::exception&) {
        }
      }
    } else {
      if (res->status == 401) ++counters_.unauthorized, ++cls.unauthorized;
      return res;
    }
    if (!r.idempotent && (!res.ok() || res->status >= 500)) {
      log->warn("{} {}: {}{} (not retried: it may have been carried out)", req.method, path,
                last_error, request_id.empty() ? "" : " (request id " + request_id + ")");
      return res.ok() ? res : Result<Response>::Fail(last_error);
    }
    bool again = attempt + 1 < policy_.max_attempts;
    log->info("{} {}: {}{}{}", req.method, path, last_error,
              request_id.empty() ? "" : " (request id " + request_id + ")",
              again ? ", again in " + std::to_string(wait.count()) + " ms" : "");
    if (again)
      metrics::Add("learnloop_esn_wait_seconds_total",
                   {{"network", network_},
                    {"reason", res.ok() && res->status == 429 ? "throttled" : "retry"}},
                   std::chrono::duration<double>(wait).count());
    if (again && !clock_.SleepFor(wait)) return Result<Response>::Fail("stopped");
  }
  log->warn("{} {} failed after {} attempts: {}", req.method, path, policy_.max_attempts,
            last_error);
  return Result<Response>::Fail(req.method + " " + path + ": " + last_error);
}

}  // namespace learnloop::connectors::http
