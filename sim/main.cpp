// esn-sim: a stand-alone simulator of Viva Engage (Yammer REST v1) on 127.0.0.1.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "core/clock.h"
#include "sim/simulator.h"

using namespace learnloop;

namespace {

const char* const kHelp = R"(esn-sim - a simulated Viva Engage (Yammer REST v1) network on 127.0.0.1

Usage: esn-sim [options]

Server
  --port N              port to listen on (default 0: a free port)
  --port-file FILE      write the chosen port to FILE once listening
  --token TOKEN         bearer token of the service account (default sim-token)
Organisation
  --seed N              seed of everything generated (default 42)
  --people N            people in the organisation (default 300)
  --communities N       communities (default: one per 40 people, at least 4)
  --timezone ZONE       the organisation's IANA time zone (default Europe/Berlin)
  --history-days N      days of activity before the start (default 28)
  --horizon-days N      days of activity generated after the start (default 70)
  --delete-rate X       share of generated messages deleted within two days (default 0.01)
  --edit-rate X         share edited within two days (default 0.03)
  --posts-per-person-day X
                        thread starters per person and day, before working-hour and
                        weekend shaping (default 0.04)
  --company-share X     Viva Engage threads posted to All Company (no group_id, only in the
                        company feed), per community thread (default 0.1)
  --unlisted-communities N
                        communities of the service account that groups.json does not list
                        (default 1)
  --like-names-without-id X
                        share of liked_by.names entries without user_id, as in old data
                        (default 0.1)
  --teams-app-share X   share of people who installed the Teams app for themselves: only
                        they can get the bot's 1:1 messages (default 0.8)
Clock
  --start TIME          the simulated time at start-up, ISO 8601 (default: now, to the minute)
  --clock manual|real   manual: moves only through POST /_sim/clock (default);
                        real: follows the wall clock from --start
Rate limits (reference §1.9)
  --rate-limit N        requests per window, per token and bucket (default 10)
  --rate-window DUR     window length, e.g. 30s (default 30s)
  --no-retry-after      answer 429 without a Retry-After header
  --no-export-admin     the service account is no verified admin: the Data Export
                        (GET /api/v1/export) answers 403
Microsoft Graph and Entra (reference §2)
  --teams N             Teams teams, each with 1-3 channels (default: one per 150 people)
  --tenant ID           the tenant in /{tenant}/oauth2/v2.0/token
  --client-id ID        the app's client id (default sim-app)
  --client-secret S     the app's client secret (default sim-secret)
  --bot-client-id ID    the bot's own app registration, when it is not the Graph reader's
  --bot-client-secret S its client secret
  --refresh-token T     the service account's refresh token for Viva Engage's delegated
                        access (scope https://www.yammer.com/.default; default sim-refresh)
  --token-lifetime DUR  lifetime of issued tokens, e.g. 10m (default 3599s)
  --graph-retry-after-rate X
                        share of Graph 429s with a Retry-After header (default 0.5)
  --delta-replies-bring-root
                        a new reply (or a reaction on one) brings its root back into the next
                        delta round; by default it does not (the reference cannot say, §2.6)
  --members-forbidden ID
                        the member list of this team (Teams id) or community (Viva Engage id)
                        answers 403, as without the permission (repeatable)
Faults (reference §5.1; also at run time through POST /_sim/faults)
  --error-rate X        share of API answers that are 500 or 503 (default 0)
  --slow-rate X         share held back by --slow-ms of wall time (default 0)
  --slow-ms N           how long a slow answer waits (default 1500)
  --truncate-rate X     share answered 200 with the JSON cut in half (default 0)
  --reset-rate X        share not answered: the connection is reset after the request took
                        effect (default 0)
  --throttle-rate X     share answered 429 although no limit was reached, without effect,
                        with Retry-After as each service gives it (default 0)
  --noise               unknown extra fields and another key order in messages
  --help                this text

Control API (JSON): GET|POST /_sim/clock {"now": ISO} or {"advance_seconds": N},
GET /_sim/stats, GET /_sim/truth, GET /_sim/bot_posts, GET /_sim/requests?limit=N,
GET|POST /_sim/faults {"error_rate", "slow_rate", "slow_ms", "truncate_rate", "reset_rate", "throttle_rate",
  "retry_after", "noise", "graph_retry_after_rate", "members_forbidden": [ID, ...]},
POST /_sim/tokens {"revoke": TOKEN, "add": TOKEN, "revoke_issued": true, "revoke_refresh": true,
  "add_refresh": TOKEN, "lifetime_seconds": N},
POST /_sim/reply {"user_id", "replied_to_id", "body"},
POST /_sim/react {"user_id", "message_id", "remove"},
POST /_sim/bot {"endpoint", "all_messages"} (where inbound bot activities go),
POST /_sim/lifecycle {"event", "subscription"} (a Graph lifecycle event now: missed,
  reauthorizationRequired or subscriptionRemoved, which also drops the subscription).
)";

int Fail(const std::string& m) {
  std::cerr << "esn-sim: " << m << "\n(see esn-sim --help)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  sim::SimOptions o;
  o.org.start = std::chrono::floor<std::chrono::minutes>(SystemClock().Now());
  int port = 0;
  std::string port_file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--help" || a == "-h") {
        std::cout << kHelp;
        return 0;
      } else if (a == "--port")
        port = std::stoi(value());
      else if (a == "--port-file")
        port_file = value();
      else if (a == "--token")
        o.token = value();
      else if (a == "--seed")
        o.org.seed = std::stoull(value());
      else if (a == "--people")
        o.org.people = std::stoi(value());
      else if (a == "--communities")
        o.org.communities = std::stoi(value());
      else if (a == "--timezone")
        o.org.timezone = value();
      else if (a == "--history-days")
        o.org.history_days = std::stoi(value());
      else if (a == "--delete-rate")
        o.org.delete_rate = std::stod(value());
      else if (a == "--edit-rate")
        o.org.edit_rate = std::stod(value());
      else if (a == "--posts-per-person-day")
        o.org.posts_per_person_day = std::stod(value());
      else if (a == "--company-share")
        o.org.company_share = std::stod(value());
      else if (a == "--unlisted-communities")
        o.org.unlisted_communities = std::stoi(value());
      else if (a == "--like-names-without-id")
        o.org.like_names_without_id = std::stod(value());
      else if (a == "--teams-app-share")
        o.org.teams_app_share = std::stod(value());
      else if (a == "--horizon-days")
        o.org.horizon_days = std::stoi(value());
      else if (a == "--start") {
        auto t = ParseIso(value());
        if (!t) return Fail("--start needs an ISO 8601 time");
        o.org.start = *t;
      } else if (a == "--clock") {
        std::string v = value();
        if (v != "manual" && v != "real") return Fail("--clock is manual or real");
        o.manual_clock = v == "manual";
      } else if (a == "--rate-limit")
        o.rate_limit = std::stoi(value());
      else if (a == "--rate-window") {
        auto d = ParseDuration(value());
        if (!d) return Fail("--rate-window needs a duration such as 30s");
        o.rate_window = *d;
      } else if (a == "--teams")
        o.org.teams = std::stoi(value());
      else if (a == "--tenant")
        o.identity.tenant = value();
      else if (a == "--client-id")
        o.identity.client_id = value();
      else if (a == "--client-secret")
        o.identity.client_secret = value();
      else if (a == "--bot-client-id")
        o.identity.bot_client_id = value();
      else if (a == "--bot-client-secret")
        o.identity.bot_client_secret = value();
      else if (a == "--refresh-token")
        o.identity.refresh_token = value();
      else if (a == "--token-lifetime") {
        auto d = ParseDuration(value());
        if (!d) return Fail("--token-lifetime needs a duration such as 10m");
        o.identity.token_lifetime = *d;
      } else if (a == "--graph-retry-after-rate")
        o.graph.retry_after_rate = std::stod(value());
      else if (a == "--delta-replies-bring-root")
        o.graph.replies_bring_root = true;
      else if (a == "--members-forbidden") {
        o.members_forbidden.insert(value());
        o.graph.members_forbidden = o.members_forbidden;
      } else if (a == "--error-rate")
        o.faults.error_rate = std::stod(value());
      else if (a == "--slow-rate")
        o.faults.slow_rate = std::stod(value());
      else if (a == "--slow-ms")
        o.faults.slow_for = Millis{std::stoll(value())};
      else if (a == "--truncate-rate")
        o.faults.truncate_rate = std::stod(value());
      else if (a == "--reset-rate")
        o.faults.reset_rate = std::stod(value());
      else if (a == "--throttle-rate")
        o.faults.throttle_rate = std::stod(value());
      else if (a == "--noise")
        o.noise = true;
      else if (a == "--no-retry-after")
        o.retry_after = false;
      else if (a == "--no-export-admin")
        o.export_admin = false;
      else
        return Fail("unknown option " + a);
    } catch (const std::exception& e) {
      return Fail(std::string("bad value for ") + a + ": " + e.what());
    }
  }
  if (o.org.people < 1 || o.rate_limit < 1)
    return Fail("--people and --rate-limit must be positive");
  if (!FindZone(o.org.timezone).ok()) return Fail("unknown time zone " + o.org.timezone);

  // Block the stop signals before any thread starts, then wait for one of them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  sim::Simulator simulator(o);
  sim::HttpServer server;
  // Slow answers (a fault) sleep in a handler: enough workers that they do not hold the rest.
  net::ServerLimits limits;
  limits.workers = 16;
  limits.max_connections = 512;
  auto started = server.Start(
      port, [&](const sim::SimRequest& r) { return simulator.Handle(r); }, "127.0.0.1", limits);
  if (!started.ok()) return Fail(started.error().message);
  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << *started << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  std::cout << "esn-sim listening on http://127.0.0.1:" << *started << " (" << o.org.people
            << " people, seed " << o.org.seed << ")" << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  server.Stop();
  return 0;
}
