#include "connectors/common/entra.h"

namespace learnloop::connectors {

config::KeySpec AuthKey(const std::string& doc, const std::string& scope, bool delegated) {
  using config::Key;
  using T = config::KeyType;
  std::vector<config::KeySpec> keys = {
      Key("tenant", T::kString, "the tenant id or verified domain").Required(),
      Key("client_id", T::kString, "the app registration's id").Required(),
      Key("client_secret", T::kSecret,
          delegated ? "the app registration's secret, when it has one"
                    : "the app's secret (client credentials for Graph and the bot)"),
  };
  if (delegated)
    keys.push_back(
        Key("refresh_token", T::kSecret,
            "the service account's refresh token. Entra hands out a new one with each use; the "
            "newest is kept in the store (in its table of secrets, with a hash of the configured "
            "one) and used after a restart — unless the configured token has changed since: then "
            "the configured one is used. When Entra refuses the token (revoked, expired), the "
            "daemon stops and says to put a new one here"));
  keys.push_back(Key("token_url", T::kUrl,
                     "the token endpoint (default: "
                     "`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`)"));
  keys.push_back(Key("scope", T::kString, "the requested scope (default: `" + scope + "`)"));
  return Key("auth", T::kMap, doc).With(std::move(keys));
}

AuthConfig ReadAuth(const config::Settings& network) {
  const config::Settings& a = network.Map("auth");
  AuthConfig out;
  out.enabled = network.Given("auth");
  out.tenant = a.String("tenant");
  out.client_id = a.String("client_id");
  out.client_secret = a.SecretValue("client_secret");
  if (a.Has("refresh_token")) out.refresh_token = a.SecretValue("refresh_token");
  out.token_url = a.String("token_url");
  out.scope = a.String("scope");
  return out;
}

}  // namespace learnloop::connectors
