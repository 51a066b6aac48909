#pragma once
// The one YAML configuration file: networks, store, time zone, campaigns, reports, privacy.
// Every key is declared once with its type and default: those of the file and of campaigns in
// config.cpp, those of every network in settings.cpp, a network kind's by its connector
// (connectors/<type>/settings.cpp). Unknown keys, keys of another kind of network, wrong types,
// missing values and bad schedules/zones are errors with FILE:LINE:COL.
#include <optional>
#include <string>
#include <vector>

#include "config/settings.h"
#include "core/cron.h"
#include "core/result.h"
#include "core/secret.h"
#include "core/time.h"

namespace learnloop::config {

struct Diagnostic {
  std::string file;
  int line = 0;  // 1-based
  int col = 0;   // 1-based
  std::string message;
  std::string ToString() const;  // FILE:LINE:COL: message
};

// One network: the keys every network has, and its kind's (read by its connector).
struct NetworkConfig {
  std::string name;  // id prefix of everything it feeds ("yammer" → "yammer:123")
  std::string type;  // its kind: a connector's type (connectors/registry.cpp)
  const NetworkKind* kind = nullptr;  // of `type`
  Millis poll_interval{std::chrono::minutes{5}};
  std::optional<Time> backfill_since;
  // A folder for the raw archive of every page read (compressed, without credentials); "" is off.
  std::string archive;
  Millis request_timeout{std::chrono::seconds{30}};
  int rate_limit_requests = 10;
  Millis rate_limit_window{std::chrono::seconds{30}};
  // Set when a campaign asks people privately here: the bot's private conversations are read
  // (Viva Engage: its private messages; Teams sends the personal chats' messages to the bot).
  bool private_messages = false;
  Settings settings;  // the keys of its kind, as its connector declares them
};

// One prompt of a campaign.
struct StepConfig {
  std::string text;
  std::string kind = "free_text";    // free_text | choice | poll | rating
  std::vector<std::string> options;  // choice and poll, shown as A), B), …
  std::optional<int> correct;        // choice: the right option (0-based); none: not scored
  std::string explanation;           // choice: why, shown in the feedback at close
};

struct ReminderConfig {
  bool enabled = false;  // a `reminders` block was given
  Millis after{std::chrono::hours{2}};
  int max = 1;
  bool mention = true;  // mention who has not answered; false: no reminder is posted
};

struct LeaderboardConfig {
  bool enabled = false;  // a `leaderboard` block was given
  std::string schedule_text;
  CronSchedule schedule;
  int top = 10;
};

struct CampaignConfig {
  std::string name;
  std::string network;
  std::vector<std::string> communities;  // native group ids (`community` or `communities`)
  std::string schedule_text;
  CronSchedule schedule;
  std::string timezone;
  TimeZone tz = nullptr;
  Millis open_for{std::chrono::hours{72}};
  Millis catch_up{std::chrono::hours{6}};
  std::vector<StepConfig> steps;  // posted in turn, one per scheduled time (`steps` or `prompts`)
  // A sequence ends after its last step, unless it starts again from the first (`repeat`).
  bool repeat = false;
  // Whether the campaign posts its steps in turn (not a spaced pool, not days after joining).
  bool Sequence() const { return !relative() && !spaced.enabled; }
  // Whether it ends after its last step: a sequence of several steps that does not repeat (a
  // single question is asked again at every scheduled time).
  bool Ends() const { return Sequence() && !repeat && steps.size() > 1; }
  // The first instant the campaign posts, and the first it no longer does: `start` and `end`
  // are local dates in its zone, both days included.
  std::optional<Time> start, end;
  bool paused = false;
  // Local minutes of the day [from, to) when nothing is posted (wraps midnight when from > to);
  // a prompt or reminder due then is deferred to its end, or skipped.
  std::optional<std::pair<int, int>> quiet_hours;
  bool quiet_skip = false;
  std::vector<std::string> holidays;  // local dates (YYYY-MM-DD): nothing is posted
  ReminderConfig reminders;
  LeaderboardConfig leaderboard;  // posted only with people who opted in
  // A cohort within the communities: only people who joined in [joined_from, joined_to) are
  // the campaign's audience (reminders name only them). Either end may be open.
  std::optional<Time> joined_from, joined_to;
  bool InCohort(const std::optional<Time>& joined) const {
    if (!joined_from && !joined_to) return true;
    if (!joined) return false;
    return (!joined_from || *joined >= *joined_from) && (!joined_to || *joined < *joined_to);
  }
  // Days after joining (`schedule: {after_joining: [1, 3, 7], at: "09:30"}`): step i goes to
  // the people who joined on a local date D, in their communities, on D + after_joining[i] at
  // `at_minute` local time. Empty: `schedule` is a cron rule.
  std::vector<int> after_joining;
  int at_minute = 9 * 60;
  bool relative() const { return !after_joining.empty(); }
  // Spaced repetition (`mode: spaced`): the steps are a pool of questions; each scheduled round
  // asks each person of the audience the question due next for them, at most `per_person` a
  // local day. A wrong (or missing) answer brings it back after `wrong_after`, a right one
  // after `right_after`; `retire_after` right answers in a row retire it. Each question goes
  // to its person privately where the network allows it; the others are asked in the
  // community, in at most `daily_cap` threads a local day that each name at most `mention_cap`
  // people (the rest wait for a later round).
  struct Spacing {
    bool enabled = false;
    int per_person = 2;
    bool privately = true;  // `delivery: private` (or `public`: the community threads only)
    int daily_cap = 1;
    int mention_cap = 10;
    Millis wrong_after{std::chrono::hours{48}};
    Millis right_after{std::chrono::hours{24 * 7}};
    int retire_after = 2;
  } spaced;
  int points_answer = 1, points_correct = 1;
  bool answers_public = false;  // feedback may say who answered what
  bool feedback = false;        // post the right answer / the poll's results at close
  bool acknowledge = false;     // like each answer (where the ESN lets apps)

  const std::string& community() const { return communities.front(); }
};

// The admin listener: health, readiness, metrics and the admin API (docs/operations.md).
struct AdminConfig {
  std::string listen = "127.0.0.1:9464";  // host:port; "" when `off`
  bool listen_given = false;              // set in the file (else the default above)
  // The bearer token of /api/v1/ (none: the API answers 403 to everyone).
  Secret token;
  // With both, the listener speaks HTTPS (PEM files).
  std::string tls_cert, tls_key;
};

struct Config {
  std::string file;
  std::string timezone = "UTC";
  TimeZone tz = nullptr;
  std::string store_path = "learnloop.db";
  std::string report_dir = "reports";
  std::vector<std::string> report_formats{"json", "md", "html"};
  // Where the weekly Markdown digest is posted (through the outbox), at `digest_minute` local
  // time on the Monday after the week; empty network: not posted.
  std::string digest_network, digest_community;
  // Where leaders find the full report, in the digest's last line ("{week}" becomes the week).
  std::string digest_link;
  int digest_minute = 8 * 60;
  int min_group_size = 5;
  // The key of pseudonymous ids in reports; empty: one is made and kept in the store.
  Secret pseudonym_key;
  std::string log_level = "info";
  std::string log_format = "text";  // text | json
  AdminConfig admin;
  // The daemon's HTTP listener (change notifications, bot activities); off when empty.
  std::string listen;      // host:port; port 0 picks a free one
  std::string public_url;  // how the ESN reaches the listener; default http://<listen>
  std::vector<NetworkConfig> networks;
  std::vector<CampaignConfig> campaigns;
  // Secrets of the networks that could not be read (FILE:LINE:COL): the commands that talk to
  // the ESN refuse to start with any; the others (export, report, …) do not need them.
  std::vector<Diagnostic> network_secret_errors;

  const NetworkConfig* FindNetwork(const std::string& name) const;
};

struct LoadResult {
  std::optional<Config> config;  // set when there are no errors
  std::vector<Diagnostic> errors;
  // What is allowed but probably a mistake (an end date passed, reminders after the close):
  // said, and the configuration still loads.
  std::vector<Diagnostic> warnings;
};

// `kinds`: the kinds of network there are (connectors::Kinds()).
LoadResult LoadFile(const std::string& path, const NetworkKinds& kinds);

// The campaigns of a campaign file (a list of campaigns, a mapping with `campaigns:`, or a
// whole configuration), checked as the configuration checks them; network names only against
// `base` when it is given, which also gives the default time zone.
struct CampaignFileResult {
  std::vector<CampaignConfig> campaigns;
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
};
CampaignFileResult LoadCampaignFile(const std::string& path, const Config* base = nullptr);
LoadResult LoadString(const std::string& text, const std::string& name, const NetworkKinds& kinds);

}  // namespace learnloop::config
