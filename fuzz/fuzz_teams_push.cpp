// What reaches the listener of a Teams network: change notifications and lifecycle events,
// Bot Framework activities with their JWT (checked against a published key set), and the
// routing of requests to a path several networks share. The first byte picks which.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "config/config.h"
#include "connectors/registry.h"
#include "core/clock.h"
#include "core/time.h"

namespace {

using namespace learnloop;

// The Bot Framework's OpenID configuration and key set; every other request fails.
class KeyServer : public connectors::http::Client {
 public:
  Result<connectors::http::Response> Send(const connectors::http::Request& r) override {
    connectors::http::Response res;
    res.status = 200;
    if (r.url == "http://fuzz.invalid/openid") {
      res.body =
          R"({"issuer":"https://api.botframework.com","jwks_uri":"http://fuzz.invalid/keys"})";
    } else if (r.url == "http://fuzz.invalid/keys") {
      res.body =
          R"({"keys":[{"kty":"RSA","use":"sig","kid":"k1","e":"AQAB","n":"oyDNXwYWb56QYpHcI2pukxHmI8BmXDQkssILjezbrgxmFaUqf-J8FTxSJphIerK34MIk0Ux7jcJZAYUuueB3LD1xPj2UTesxOP2wh7AfGAQAhs027_mdCCG_ebJY7CwKCz6V1yEewz8umgde5CuY6dyzl6z5S2tUTMkA4v_jkBFD0WY0C-ksJwi1JAjGQa1lBsyyyqqwyKdIanfom9sYrh6XjcRaGSLVUa-KuvSmhljdGC-4bpRotGGjM8YV95Y_wkgMCxQBpvJlaAnVf8vHUCsR81ezimssiSLktQ-Bfm-_UQWc8NDA5EgPTRmLuYLFQ7AxlqTetA8ZjZNwNp_QVw","endorsements":["msteams"]}]})";
    } else {
      return Result<connectors::http::Response>::Fail("unreachable");
    }
    return res;
  }
};

const char* kConfig = R"(store: {path: fuzz.db}
networks:
  - type: teams
    base_url: http://fuzz.invalid/v1.0
    auth:
      tenant: 5f1c1d0e-2b0a-4c3e-9d5e-7a1b2c3d4e5f
      client_id: fuzz-app
      client_secret: ${LEARNLOOP_FUZZ_SECRET}
      token_url: http://fuzz.invalid/token
    teams: [team-1]
    bot:
      service_url: http://fuzz.invalid/bf/
      token_url: http://fuzz.invalid/bf/token
      openid_url: http://fuzz.invalid/openid
)";

struct Network {
  ManualClock clock{*ParseIso("2026-11-02T10:00:00Z")};
  connectors::Built built;
  Network() {
    setenv("LEARNLOOP_FUZZ_SECRET", "fuzz-secret", 1);
    auto loaded = config::LoadString(kConfig, "fuzz.yaml", connectors::Kinds());
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
    if (!loaded.config) __builtin_trap();
    static config::Config cfg = *loaded.config;
    auto b = connectors::Create(cfg.networks.at(0), clock, std::make_unique<KeyServer>());
    if (!b.ok()) {
      std::fprintf(stderr, "%s\n", b.error().message.c_str());
      __builtin_trap();
    }
    built = std::move(*b);
    built.connector->RestoreSecrets({{"push.client_state", "fuzz-state"}});
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Network n;
  if (size < 1) return 0;
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  net::Request r;
  r.method = "POST";
  switch (data[0] % 4) {
    case 0:
      r.path = "/teams/teams/notify";
      r.body = rest;
      break;
    case 1:
      r.path = "/teams/lifecycle";
      r.body = rest;
      break;
    case 2: {  // the Authorization header's value, a line, then the activity
      r.path = "/api/messages";
      auto nl = rest.find('\n');
      r.headers["authorization"] = rest.substr(0, nl);
      r.body = nl == std::string::npos ? "" : rest.substr(nl + 1);
      break;
    }
    default:
      r.path = "/api/messages";
      r.body = rest;
      (void)n.built.push->ClaimsPush(r);
      return 0;
  }
  (void)n.built.push->ClaimsPush(r);
  (void)n.built.push->OnPush(r);
  (void)n.built.push->TakePushed();
  return 0;
}
