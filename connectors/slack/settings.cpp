#include "connectors/slack/settings.h"

namespace learnloop::connectors::slack {

const config::NetworkKind& Kind() {
  using config::Key;
  using T = config::KeyType;
  static const config::NetworkKind kKind = [] {
    config::NetworkKind k;
    k.type = "slack";
    k.title = "Slack";
    k.keys = {
        Key("base_url", T::kUrl, "the Web API's root (a proxy, or esn-sim in tests)")
            .Default("https://slack.com/api"),
        Key("token", T::kSecret,
            "the app's bot token (`xoxb-…`; scopes `channels:history`, `groups:history`, "
            "`channels:read`, `groups:read`, `users:read`, `users:read.email`, `chat:write`, "
            "`reactions:read`, `reactions:write`)")
            .Required(),
        Key("signing_secret", T::kSecret,
            "the app's signing secret: with it (and `server.listen`), the Events API and button "
            "presses reach the listener at `/slack/<name>/events` and `/slack/<name>/actions`, "
            "each checked against its `X-Slack-Signature`; without it, buttons are not offered "
            "and everything is polled"),
        Key("channels", T::kList,
            "channel ids to read and post in (default: every channel the bot is a member of)"),
        Key("refresh_interval", T::kDuration,
            "how often recent messages are re-read, for reactions and replies that came later")
            .Default("24h"),
        Key("refresh_window", T::kDuration,
            "how far back such a re-read goes; the prompts' threads are read on every poll")
            .Default("7d"),
    };
    k.scope = [](const config::Settings& s) {
      auto n = s.List("channels").size();
      return n == 0 ? std::string("every channel of the bot") : std::to_string(n) + " channel(s)";
    };
    return k;
  }();
  return kKind;
}

Settings ReadSettings(const config::NetworkConfig& network) {
  const config::Settings& s = network.settings;
  Settings out;
  out.base_url = s.String("base_url");
  while (!out.base_url.empty() && out.base_url.back() == '/') out.base_url.pop_back();
  out.token = s.SecretValue("token");
  out.signing_secret = s.SecretValue("signing_secret");
  out.channels = s.List("channels");
  out.refresh_window = s.Duration("refresh_window");
  out.refresh_interval = s.Duration("refresh_interval");
  return out;
}

}  // namespace learnloop::connectors::slack
