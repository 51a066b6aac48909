#include "sim/identity.h"

#include <cstdio>

#include "core/json.h"

namespace learnloop::sim {

namespace {

SimReply EntraError(int status, const std::string& error, int code, const std::string& description,
                    Time now) {
  json::Writer w;
  w.BeginObject().Key("error").String(error);
  w.Key("error_description").String("AADSTS" + std::to_string(code) + ": " + description);
  w.Key("error_codes").BeginArray().Int(code).EndArray();
  w.Key("timestamp")
      .String(FormatIso(now))
      .Key("trace_id")
      .String("00000000-0000-0000-0000-000000000001");
  w.Key("correlation_id").String("00000000-0000-0000-0000-000000000002").EndObject();
  SimReply r;
  r.status = status;
  r.body = w.Take();
  return r;
}

}  // namespace

SimReply GraphError(int status, const std::string& code, const std::string& message, Time now) {
  json::Writer w;
  w.BeginObject().Key("error").BeginObject().Key("code").String(code).Key("message").String(
      message);
  w.Key("innerError")
      .BeginObject()
      .Key("request-id")
      .String("sim-" + std::to_string(ToUnixMillis(now)));
  w.Key("date").String(FormatIso(now)).Key("client-request-id").String("sim").EndObject();
  w.EndObject().EndObject();
  SimReply r;
  r.status = status;
  r.body = w.Take();
  return r;
}

SimReply Identity::Token(const SimRequest& r, const std::string& tenant) {
  Time now = world_.Now();
  auto f = ParseForm(r.body);
  const std::string grant = f["grant_type"];
  if (grant != "client_credentials" && grant != "refresh_token")
    return EntraError(400, "unsupported_grant_type", 70003,
                      "The app requested an unsupported grant type.", now);
  std::string scope = f["scope"];
  std::string audience;
  if (grant == "client_credentials" && scope == "https://graph.microsoft.com/.default")
    audience = "graph";
  else if (grant == "client_credentials" && scope == "https://api.botframework.com/.default")
    audience = "botframework";
  else if (grant == "refresh_token" &&
           (scope.find("https://www.yammer.com/.default") != std::string::npos ||
            scope.find("https://api.yammer.com/.default") != std::string::npos))
    audience = "yammer";
  else
    return EntraError(400, "invalid_scope", 70011,
                      "The provided value for the input parameter 'scope' is not valid.", now);
  bool tenant_ok =
      tenant == opt_.tenant || (audience == "botframework" && tenant == "botframework.com");
  if (!tenant_ok)
    return EntraError(400, "invalid_request", 90002, "Tenant '" + tenant + "' not found.", now);
  // The bot may be an app registration of its own.
  const bool bot = audience == "botframework";
  if (f["client_id"] != (bot ? opt_.BotAppId() : opt_.client_id))
    return EntraError(400, "unauthorized_client", 700016,
                      "Application with identifier '" + f["client_id"] + "' was not found.", now);
  // A public client may redeem a refresh token without a secret; a wrong secret is refused.
  bool secret_needed = grant == "client_credentials" || f.count("client_secret");
  if (secret_needed && f["client_secret"] != (bot ? opt_.BotSecret() : opt_.client_secret))
    return EntraError(401, "invalid_client", 7000215, "Invalid client secret provided.", now);
  std::string new_refresh;
  if (grant == "refresh_token") {
    if (!refresh_tokens_.count(f["refresh_token"]))
      return EntraError(400, "invalid_grant", 70000,
                        "The provided value for 'refresh_token' is not valid.", now);
    new_refresh = opt_.refresh_token + "-" + std::to_string(++counter_);
    refresh_tokens_.insert(new_refresh);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "sim.%s.%016llx", audience.c_str(),
                static_cast<unsigned long long>(++counter_ * 0x9E3779B97F4A7C15ull));
  tokens_[buf] = Issued{audience, now + opt_.token_lifetime};
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(opt_.token_lifetime).count();
  json::Writer w;
  w.BeginObject().Key("token_type").String("Bearer").Key("expires_in").Int(secs);
  w.Key("ext_expires_in").Int(secs).Key("access_token").String(buf);
  if (!new_refresh.empty()) w.Key("scope").String(scope).Key("refresh_token").String(new_refresh);
  w.EndObject();
  SimReply rep;
  rep.body = w.Take();
  return rep;
}

Identity::Check Identity::Validate(const std::string& bearer, const std::string& audience) const {
  auto it = tokens_.find(bearer);
  if (it == tokens_.end() || it->second.audience != audience) return Check::kUnknown;
  if (world_.Now() >= it->second.expires) return Check::kExpired;
  return Check::kOk;
}

}  // namespace learnloop::sim
