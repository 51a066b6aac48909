#include "connectors/teams/bot_auth.h"

#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"

namespace learnloop::connectors::teams {

namespace {
constexpr auto kSkew = std::chrono::minutes{5};
constexpr auto kKeysFresh = std::chrono::hours{24};           // keys are re-read daily
constexpr auto kUnknownKidRefetch = std::chrono::minutes{5};  // at most this often for a new kid

Result<json::Value> GetJson(http::Client& client, const std::string& url) {
  http::Request r;
  r.url = url;
  r.headers = {{"Accept", "application/json"}};
  auto res = client.Send(r);
  if (!res.ok()) return Result<json::Value>::Fail(res.error().message);
  if (res->status != 200)
    return Result<json::Value>::Fail("GET " + url + ": HTTP " + std::to_string(res->status));
  return json::Parse(res->body);
}
}  // namespace

BotTokenValidator::BotTokenValidator(http::Client& client, Clock& clock, std::string openid_url,
                                     std::string app_id)
    : client_(client),
      clock_(clock),
      openid_url_(std::move(openid_url)),
      app_id_(std::move(app_id)) {}

Status BotTokenValidator::FetchKeys() {
  auto config = GetJson(client_, openid_url_);
  if (!config.ok()) return Status::Fail("OpenID configuration: " + config.error().message);
  auto jwks_uri = json::GetString(*config, "jwks_uri");
  if (!jwks_uri) return Status::Fail("OpenID configuration without jwks_uri");
  auto set = GetJson(client_, *jwks_uri);
  if (!set.ok()) return Status::Fail("key set: " + set.error().message);
  const json::Value* keys = json::Find(*set, "keys");
  if (!keys || !keys->is_array()) return Status::Fail("key set without keys");
  std::map<std::string, Key> found;
  for (const auto& k : keys->as_array()) {
    auto kid = json::GetString(k, "kid");
    auto n = crypto::Base64UrlDecode(json::GetString(k, "n").value_or(""));
    auto e = crypto::Base64UrlDecode(json::GetString(k, "e").value_or(""));
    if (kid && n && e && !n->empty() && json::GetString(k, "kty").value_or("RSA") == "RSA")
      found[*kid] = Key{*n, *e};
  }
  keys_ = std::move(found);
  fetched_at_ = clock_.Now();
  return Status::Ok();
}

Status BotTokenValidator::Validate(const std::string& authorization,
                                   const std::string& service_url) {
  if (authorization.rfind("Bearer ", 0) != 0) return Status::Fail("no bearer token");
  std::string jwt = authorization.substr(7);
  auto dot1 = jwt.find('.'), dot2 = jwt.rfind('.');
  if (dot1 == std::string::npos || dot1 == dot2) return Status::Fail("not a JWT");
  auto header_text = crypto::Base64UrlDecode(std::string_view(jwt).substr(0, dot1));
  auto claims_text =
      crypto::Base64UrlDecode(std::string_view(jwt).substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = crypto::Base64UrlDecode(std::string_view(jwt).substr(dot2 + 1));
  if (!header_text || !claims_text || !signature) return Status::Fail("not a JWT");
  auto header = json::Parse(*header_text);
  auto claims = json::Parse(*claims_text);
  if (!header.ok() || !claims.ok()) return Status::Fail("not a JWT");
  if (json::GetString(*header, "alg").value_or("") != "RS256")
    return Status::Fail("algorithm is not RS256");
  std::string kid = json::GetString(*header, "kid").value_or("");
  Key key;
  {
    std::lock_guard lock(mu_);
    Time now = clock_.Now();
    bool stale = now - fetched_at_ > kKeysFresh;
    bool unknown = !keys_.count(kid) && now - fetched_at_ > kUnknownKidRefetch;
    if (stale || unknown) {
      if (auto s = FetchKeys(); !s.ok()) {
        Logger("connector.teams")->warn("bot keys: {}", s.message());
        if (keys_.empty()) return s;
      }
    }
    auto it = keys_.find(kid);
    if (it == keys_.end()) return Status::Fail("unknown signing key '" + kid + "'");
    key = it->second;
  }
  if (!crypto::VerifyRs256(std::string_view(jwt).substr(0, dot2), *signature, key.n, key.e))
    return Status::Fail("bad signature");
  if (json::GetString(*claims, "iss").value_or("") != "https://api.botframework.com")
    return Status::Fail("wrong issuer");
  if (json::GetString(*claims, "aud").value_or("") != app_id_)
    return Status::Fail("wrong audience");
  auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  auto skew = std::chrono::duration_cast<std::chrono::seconds>(kSkew).count();
  auto exp = json::GetInt64(*claims, "exp");
  if (!exp || *exp + skew < now_s) return Status::Fail("expired");
  if (auto nbf = json::GetInt64(*claims, "nbf"); nbf && *nbf - skew > now_s)
    return Status::Fail("not valid yet");
  if (json::GetString(*claims, "serviceUrl").value_or("") != service_url)
    return Status::Fail("serviceUrl does not match the activity's");
  return Status::Ok();
}

}  // namespace learnloop::connectors::teams
