#include "connectors/common/oauth.h"

#include <algorithm>

#include "core/json.h"
#include "core/log.h"

namespace learnloop::connectors::http {

OAuthTokenSource::OAuthTokenSource(Client& client, Clock& clock, OAuthSettings s,
                                   std::string log_name)
    : client_(client),
      clock_(clock),
      s_(std::move(s)),
      log_name_(std::move(log_name)),
      refresh_(s_.refresh_token.Reveal()) {}

Result<std::string> OAuthTokenSource::Get() {
  if (!token_.empty() && clock_.Now() < expires_) return token_;
  return Fetch();
}

Result<std::string> OAuthTokenSource::Fetch() {
  auto log = Logger(log_name_);
  Request r;
  r.method = "POST";
  r.url = s_.token_url;
  r.content_type = "application/x-www-form-urlencoded";
  r.headers = {{"Accept", "application/json"}};
  r.body = "client_id=" + UrlEncode(s_.client_id) + "&scope=" + UrlEncode(s_.scope);
  if (!s_.client_secret.empty()) r.body += "&client_secret=" + UrlEncode(s_.client_secret.Reveal());
  if (refresh_.empty())
    r.body += "&grant_type=client_credentials";
  else
    r.body += "&grant_type=refresh_token&refresh_token=" + UrlEncode(refresh_);
  // Obtaining a token is idempotent: a few tries with backoff on transport errors, 429, 5xx.
  std::string last;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (attempt > 0) {
      int64_t cap = std::min<int64_t>(1000LL << attempt, 30'000);
      if (!clock_.SleepFor(Millis{std::uniform_int_distribution<int64_t>(0, cap)(rng_)}))
        return Result<std::string>::Fail("stopped");
    }
    ++fetches_;
    auto res = client_.Send(r);
    if (!res.ok()) {
      last = res.error().message;
      continue;
    }
    auto v = json::Parse(res->body);
    if (res->status == 429 || res->status >= 500 || (res->status == 200 && !v.ok())) {
      last = "HTTP " + std::to_string(res->status);
      continue;
    }
    if (res->status != 200 || !json::GetString(*v, "access_token")) {
      // Entra's error shape (reference §2.1): error, error_description (first line is enough).
      std::string err = v.ok() ? json::GetString(*v, "error").value_or("") : "";
      std::string desc = v.ok() ? json::GetString(*v, "error_description").value_or("") : "";
      desc = desc.substr(0, desc.find_first_of("\r\n"));
      std::string msg = "token request refused (HTTP " + std::to_string(res->status) + ")" +
                        (err.empty() ? "" : ": " + err) + (desc.empty() ? "" : " - " + desc);
      if (err == "invalid_grant" && !refresh_.empty() && !s_.refused_hint.empty())
        msg += ". The refresh token was revoked or has expired: " + s_.refused_hint;
      log->error("{}", msg);
      return Result<std::string>::Fail(msg, 401);  // refused: the credentials are at fault
    }
    token_ = *json::GetString(*v, "access_token");
    int64_t lifetime = json::GetInt64(*v, "expires_in").value_or(3599);
    // Renewed at 90 % of its lifetime, and at least a minute before it ends.
    int64_t margin = std::max<int64_t>(60, lifetime / 10);
    expires_ = clock_.Now() + std::chrono::seconds{std::max<int64_t>(0, lifetime - margin)};
    if (auto rt = json::GetString(*v, "refresh_token"); rt && !rt->empty() && *rt != refresh_) {
      refresh_ = *rt;
      if (on_rotate_) on_rotate_(refresh_);
    }
    log->debug("new access token, valid for {} s", lifetime);
    return token_;
  }
  log->warn("token endpoint unavailable: {}", last);
  return Result<std::string>::Fail("token endpoint unavailable: " + last);
}

}  // namespace learnloop::connectors::http
