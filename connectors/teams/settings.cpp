#include "connectors/teams/settings.h"

namespace learnloop::connectors::teams {

const config::NetworkKind& Kind() {
  using config::Key;
  using T = config::KeyType;
  static const config::NetworkKind kKind = [] {
    config::NetworkKind k;
    k.type = "teams";
    k.title = "Teams";
    k.keys = {
        Key("base_url", T::kUrl, "Microsoft Graph's root (a proxy, or esn-sim in tests)")
            .Default("https://graph.microsoft.com/v1.0"),
        AuthKey("OAuth with Microsoft Entra ID: the app registration that reads with an "
                "app-only token (its `client_secret` is required)",
                "https://graph.microsoft.com/.default", false),
        Key("teams", T::kList, "the team (Microsoft 365 group) ids whose channels are read")
            .Required(),
        Key("channels", T::kList,
            "only these channel ids (`19:…@thread.tacv2`; default: every channel)"),
        Key("push", T::kBool,
            "subscribe to change notifications when the daemon listens (`server.listen`)")
            .Default("true"),
        Key("refresh_window", T::kDuration,
            "the threads whose replies are read on each poll: those of this window")
            .Default("7d"),
        Key("bot", T::kMap,
            "the Bot Framework side: Graph does not let an application post in channels, so "
            "learnloop posts as a bot")
            .With({
                Key("service_url", T::kUrl,
                    "the Bot Connector service of the tenant's region (the `serviceUrl` of "
                    "activities Teams sends)")
                    .Default("https://smba.trafficmanager.net/emea/"),
                Key("token_url", T::kUrl, "where the bot token comes from")
                    .Default(
                        "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"),
                Key("openid_url", T::kUrl,
                    "where the keys that sign inbound activities are published")
                    .Default("https://login.botframework.com/v1/.well-known/openidconfiguration"),
                Key("client_id", T::kString,
                    "the bot's Microsoft app id, when the bot is an app registration of its own "
                    "(default: `auth.client_id`)")
                    .AlsoNamed("app_id"),
                Key("client_secret", T::kSecret,
                    "the bot app's client secret (default: `auth.client_secret`)"),
            }),
    };
    k.check = [](const config::Settings& s, const config::NetworkKind::ErrorFn& error) {
      if (!s.Given("auth"))
        error("", "give 'auth'");
      else if (!s.Map("auth").Given("client_secret"))
        error("auth",
              "Teams reads with an app-only token: give 'client_secret' (or "
              "'client_secret_file')");
    };
    k.scope = [](const config::Settings& s) {
      return std::to_string(s.List("teams").size()) + " team(s)";
    };
    k.private_needs_listener = true;
    return k;
  }();
  return kKind;
}

Settings ReadSettings(const config::NetworkConfig& network) {
  const config::Settings& s = network.settings;
  Settings out;
  out.base_url = s.String("base_url");
  out.auth = ReadAuth(s);
  out.teams = s.List("teams");
  out.channels = s.List("channels");
  out.push = s.Bool("push");
  out.refresh_window = s.Duration("refresh_window");
  const config::Settings& b = s.Map("bot");
  out.bot.service_url = b.String("service_url");
  out.bot.token_url = b.String("token_url");
  out.bot.openid_url = b.String("openid_url");
  out.bot.client_id = b.String("client_id").empty() ? out.auth.client_id : b.String("client_id");
  out.bot.client_secret = b.SecretValue("client_secret");
  return out;
}

}  // namespace learnloop::connectors::teams
