#include "connectors/yammer/settings.h"

namespace learnloop::connectors::yammer {

const config::NetworkKind& Kind() {
  using config::Key;
  using T = config::KeyType;
  static const config::NetworkKind kKind = [] {
    config::NetworkKind k;
    k.type = "yammer";
    k.title = "Viva Engage";
    k.keys = {
        Key("base_url", T::kUrl, "the API root (a proxy, or esn-sim in tests)")
            .Default("https://www.yammer.com/api/v1"),
        Key("token", T::kSecret, "a fixed bearer token of the service account, instead of `auth`"),
        AuthKey("OAuth with Microsoft Entra ID as the service account (its `refresh_token` is "
                "required: Viva Engage accepts delegated tokens only); or `token`",
                "https://www.yammer.com/.default offline_access", true),
        Key("communities", T::kList,
            "community (group) ids to keep (default: all the account can see); All Company's "
            "messages are always kept (group `<network>:all-company`)"),
        Key("refresh_interval", T::kDuration,
            "how often recent messages are re-read, for likes that came later")
            .Default("24h"),
        Key("refresh_window", T::kDuration, "how far back such a re-read goes").Default("7d"),
        Key("backfill_source", T::kChoice,
            "backfill from the community feeds, or from one Data Export of the whole network "
            "(a verified admin's token; no likes before the re-read window)")
            .Default("feeds")
            .OneOf({"feeds", "export"}),
        Key("export_url", T::kUrl,
            "the Data Export endpoint (default: `https://export.yammer.com/api/v1/export`, or "
            "`<base_url>/export` for another `base_url`)"),
    };
    k.check = [](const config::Settings& s, const config::NetworkKind::ErrorFn& error) {
      bool token = s.Given("token"), auth = s.Given("auth");
      if (token && auth)
        error("", "give either 'token' or 'auth', not both");
      else if (!token && !auth)
        error("", "give 'auth' (or, for Viva Engage, a 'token' or 'token_file')");
      if (auth && !s.Map("auth").Given("refresh_token"))
        error("auth",
              "Viva Engage accepts only delegated tokens: give the service account's "
              "'refresh_token' (or 'refresh_token_file')");
    };
    k.scope = [](const config::Settings& s) {
      auto n = s.List("communities").size();
      return n == 0 ? std::string("every community") : std::to_string(n) + " communities";
    };
    k.join_dates = true;
    return k;
  }();
  return kKind;
}

Settings ReadSettings(const config::NetworkConfig& network) {
  const config::Settings& s = network.settings;
  Settings out;
  out.base_url = s.String("base_url");
  out.token = s.SecretValue("token");
  out.auth = ReadAuth(s);
  out.communities = s.List("communities");
  out.refresh_window = s.Duration("refresh_window");
  out.refresh_interval = s.Duration("refresh_interval");
  out.export_backfill = s.String("backfill_source") == "export";
  out.export_url = s.String("export_url");
  return out;
}

}  // namespace learnloop::connectors::yammer
