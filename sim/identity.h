#pragma once
// The Microsoft Entra token endpoint (client credentials, reference §2.1 and §3.1; a refresh
// token for Viva Engage's delegated access, §1.2) and the bearer tokens it hands out, which
// expire on the simulated clock. Refresh tokens rotate; earlier ones stay valid.
#include <map>
#include <set>
#include <string>

#include "sim/http_server.h"
#include "sim/world.h"

namespace learnloop::sim {

struct IdentityOptions {
  std::string tenant = "5f1c1d0e-2b0a-4c3e-9d5e-7a1b2c3d4e5f";
  std::string client_id = "sim-app";  // the daemon's app registration (Graph, and the bot's)
  std::string client_secret = "sim-secret";
  // The bot's own app registration, when it is another app than the Graph reader's ("" : the
  // same).
  std::string bot_client_id, bot_client_secret;
  const std::string& BotAppId() const { return bot_client_id.empty() ? client_id : bot_client_id; }
  const std::string& BotSecret() const {
    return bot_client_id.empty() ? client_secret : bot_client_secret;
  }
  Millis token_lifetime{std::chrono::seconds{3599}};
  // The service account's refresh token for Viva Engage's delegated access (reference §1.2).
  std::string refresh_token = "sim-refresh";
};

class Identity {
 public:
  Identity(World& world, IdentityOptions o) : world_(world), opt_(std::move(o)) {}
  // POST /{tenant}/oauth2/v2.0/token with a form body.
  SimReply Token(const SimRequest& r, const std::string& tenant);
  enum class Check { kOk, kUnknown, kExpired };
  // audience: "graph", "botframework" or "yammer".
  Check Validate(const std::string& bearer, const std::string& audience) const;
  void set_lifetime(Millis m) { opt_.token_lifetime = m; }
  void RevokeAll() { tokens_.clear(); }
  void RevokeRefreshTokens() { refresh_tokens_.clear(); }
  void AddRefreshToken(const std::string& t) { refresh_tokens_.insert(t); }
  const IdentityOptions& options() const { return opt_; }

 private:
  struct Issued {
    std::string audience;
    Time expires;
  };
  World& world_;
  IdentityOptions opt_;
  std::map<std::string, Issued> tokens_;
  std::set<std::string> refresh_tokens_{opt_.refresh_token};
  uint64_t counter_ = 0;
};

// A Graph error envelope (reference §2.11).
SimReply GraphError(int status, const std::string& code, const std::string& message, Time now);

}  // namespace learnloop::sim
