#pragma once
// The shared HTTP layer: a small client interface (cpprestsdk behind it), per-token request
// budgets, and retries with backoff that honour Retry-After.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace learnloop::connectors::http {

struct Request {
  std::string method = "GET";
  std::string url;  // absolute
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;
  // A request that must not be sent twice (a POST that creates something): a 5xx or a lost
  // connection is returned instead of retried, since the write may have happened.
  bool idempotent = true;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::optional<std::string> Header(const std::string& lower_name) const;
};

class Client {
 public:
  virtual ~Client() = default;
  // A transport failure (refused, reset, timeout) is an Error; any HTTP status is a Response.
  virtual Result<Response> Send(const Request& r) = 0;
};

std::unique_ptr<Client> MakeClient(Millis timeout);

std::string UrlEncode(const std::string& s);

// At most `limit` requests in any window of `window` (half-open: (t - window, t]).
class RateBudget {
 public:
  RateBudget(int limit, Millis window) : limit_(limit), window_(window) {}
  // How long to wait before a request may be sent at `now` (zero when it may go now).
  Millis WaitTime(Time now);
  void Record(Time now);
  void BlockUntil(Time t);  // after a 429: nothing before t
  // The requests still in the window at `now`, and those of a process before (merged in).
  std::vector<Time> Recent(Time now);
  void Restore(const std::vector<Time>& sent);
  // The whole budget taken as spent at `at` (nothing more goes before at + window).
  void AssumeSpent(Time at);

 private:
  int limit_;
  Millis window_;
  std::deque<Time> sent_;
  Time blocked_until_{};
};

struct RetryPolicy {
  int max_attempts = 6;
  Millis base_delay{std::chrono::seconds{1}};
  Millis max_delay{std::chrono::minutes{5}};
  Millis throttle_default{std::chrono::seconds{30}};  // a 429 without Retry-After
};

struct Counters {
  int64_t requests = 0, throttled = 0, server_errors = 0, transport_errors = 0, retries = 0,
          unauthorized = 0;
};

class TokenSource;

// Sends requests for one token: waits for the budget of the request's bucket on the clock,
// retries 429/5xx/transport errors with exponential backoff and full jitter, and honours
// Retry-After. With a token source it sets the Authorization header, and on a 401 fetches a
// new token and tries once more. Anything else (2xx, 4xx) is returned to the caller. Each
// failed attempt is logged once, with the service's request id and never the token.
class Requester {
 public:
  Requester(Client& client, Clock& clock, int limit, Millis window, RetryPolicy policy,
            uint64_t seed, std::string log_name);
  void set_token_source(TokenSource* t) { tokens_ = t; }
  // The network its requests are counted under in the metrics.
  void set_network(std::string network) { network_ = std::move(network); }
  // A bucket with its own limit (others use the limit given to the constructor).
  void SetBudget(const std::string& bucket, int limit, Millis window) {
    budgets_.insert_or_assign(bucket, RateBudget(limit, window));
  }
  // `bucket` is the rate budget the request draws from and the class it is counted under.
  Result<Response> Send(const Request& r, const std::string& bucket);
  // The budgets' requests still in their windows, as text ("bucket=ms,ms;…"), for the next
  // process to go on from (RestoreBudgets). A process that did not stop cleanly saved
  // nothing: the next one takes every budget as spent at its start (AssumeSpent), so that a
  // restart after a kill waits one window rather than going over the limit.
  std::string SaveBudgets();
  void RestoreBudgets(const std::string& saved);
  void AssumeSpent(Time at);
  // What a new process starts from: the budgets saved by the one before, or (nothing saved: it
  // did not stop cleanly) every budget spent at `now`.
  void Resume(const std::optional<std::string>& saved, Time now) {
    if (saved)
      RestoreBudgets(*saved);
    else
      AssumeSpent(now);
  }
  const Counters& counters() const { return counters_; }
  const std::map<std::string, Counters>& counters_by_class() const { return by_class_; }

 private:
  Millis Backoff(int attempt);
  RateBudget& Budget(const std::string& bucket);

  Client& client_;
  Clock& clock_;
  int limit_;
  Millis window_;
  RetryPolicy policy_;
  std::mt19937_64 rng_;
  std::string log_name_;
  std::string network_;
  std::map<std::string, RateBudget> budgets_;
  std::optional<Time> spent_at_;  // budgets made later are spent at this time too
  Counters counters_;
  std::map<std::string, Counters> by_class_;
  TokenSource* tokens_ = nullptr;
};

}  // namespace learnloop::connectors::http
