#pragma once
// OAuth against Microsoft Entra ID (reference §1.2, §2.1, §3.1): the `auth` mapping of the
// networks that sign in there (Viva Engage, Teams), declared once for both.
#include <string>

#include "config/settings.h"
#include "core/secret.h"

namespace learnloop::connectors {

struct AuthConfig {
  bool enabled = false;  // an `auth` mapping was given
  std::string tenant;
  std::string client_id;
  Secret client_secret;
  Secret refresh_token;   // Viva Engage: the service account's delegated refresh token
  std::string token_url;  // default: https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token
  std::string scope;      // default per connector
  std::string TokenUrl() const {
    return token_url.empty() ? "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token"
                             : token_url;
  }
};

// The `auth` key; `scope` says the connector's default scope. Delegated: the service account
// signs in with a refresh token (Viva Engage); otherwise the app itself, with its secret.
config::KeySpec AuthKey(const std::string& doc, const std::string& scope, bool delegated);
// The values of a network's `auth` key.
AuthConfig ReadAuth(const config::Settings& network);

}  // namespace learnloop::connectors
