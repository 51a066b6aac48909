#pragma once
// Bearer tokens for the HTTP layer: a fixed one, or OAuth 2.0 tokens from Microsoft Entra ID
// (client credentials for Graph and the Bot Framework, a refresh token for Viva Engage's
// delegated access; reference §1.2, §2.1, §3.1), cached and renewed before they expire.
#include <functional>
#include <optional>
#include <random>
#include <string>

#include "connectors/common/http.h"
#include "connectors/common/token_source.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/secret.h"

namespace learnloop::connectors::http {

struct OAuthSettings {
  std::string token_url;
  std::string client_id;
  Secret client_secret;  // may be empty for a public client using a refresh token
  std::string scope;
  Secret refresh_token;  // set: the refresh_token grant; empty: client_credentials
  // What the operator must do when the token endpoint refuses the refresh token
  // (invalid_grant: revoked or expired); said with the refusal.
  std::string refused_hint;
};

class OAuthTokenSource final : public TokenSource {
 public:
  OAuthTokenSource(Client& client, Clock& clock, OAuthSettings s, std::string log_name);
  Result<std::string> Get() override;
  void Invalidate() override { expires_ = Time{}; }
  bool Renewable() const override { return true; }
  // Entra hands out a new refresh token with each use; the newest must be kept so that the
  // daemon still works when the configured one has aged out.
  void OnRotate(std::function<void(const std::string&)> f) { on_rotate_ = std::move(f); }
  void UseRefreshToken(const std::string& t) { refresh_ = t; }
  int fetches() const { return fetches_; }

 private:
  Result<std::string> Fetch();

  Client& client_;
  Clock& clock_;
  OAuthSettings s_;
  std::string log_name_;
  std::string refresh_;
  std::string token_;
  Time expires_{};  // renew at or after this time
  std::function<void(const std::string&)> on_rotate_;
  std::mt19937_64 rng_{std::random_device{}()};
  int fetches_ = 0;
};

}  // namespace learnloop::connectors::http
