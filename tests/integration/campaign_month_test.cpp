// A month of campaigns on Viva Engage and Teams against esn-sim, lived as a community lives it:
// a question of the day with reminders, quiet hours and a holiday; a spaced-repetition practice
// asked privately; an onboarding sequence on days after joining; a Teams question with buttons.
// The daemon is a real `learnloop run` process on esn-sim's clock, killed (SIGKILL) at 20 and
// more random points and started again at once, or after minutes, hours or days down, some
// times with every issued token revoked; a fifth of the ESN's answers go wrong (5xx and resets
// after the request took effect, cut bodies, slow answers, 429s). Every post is checked
// against the schedule: what was due while the daemon ran goes out once at its time; of what
// was missed, at most the latest of each campaign and community, at the restart, and only
// within catch_up. Every message, like and button press is stored once, every simulated
// answer is recognised, and no rate limit is ever exceeded, restarts included.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "bot/bot.h"
#include "bot/schedule.h"
#include "daemon/daemon.h"
#include "daemon/sim_process.h"
#include "sim_harness.h"
#include "tests/support/ok.h"

using learnloop::testing::Ok;

using namespace learnloop;

namespace {

const std::string kYaml = it::ReadConfig("campaign-month.yaml");

struct Post {
  Time at;
  std::string body;
  bool reply = false;
};

}  // namespace

TEST(CampaignMonth, EveryPostOnScheduleAcrossKillsAndDowntimeAndEveryAnswerRecognised) {
  setenv("LEARNLOOP_IT_SECRET", "sim-secret", 1);
  it::SimRun run;
  const Time start = *ParseIso("2026-11-02T06:00:00Z");  // a Monday
  const Time end = start + std::chrono::hours{24 * 30};
  const int port = it::FreePort();
  std::string yaml = kYaml;
  yaml.replace(yaml.find("PORT"), 4, std::to_string(port));
  ASSERT_EQ(
      run.Start(start,
                {"--people",        "135",  "--seed",          "31",   "--history-days", "3",
                 "--horizon-days",  "32",   "--teams",         "2",    "--error-rate",   "0.08",
                 "--truncate-rate", "0.04", "--reset-rate",    "0.04", "--slow-rate",    "0.02",
                 "--slow-ms",       "20",   "--throttle-rate", "0.02"},
                yaml),
      "");
  const std::string config = run.WriteConfig();
  // where the simulator's Teams sends card presses: the daemon's fixed address
  ASSERT_EQ(run.RegisterBot("http://127.0.0.1:" + std::to_string(port) + "/api/messages"), "");
  run.store.reset();  // the daemon's process has the store now

  // Kills at random points (a fixed seed, so a failure can be replayed), each followed by a
  // downtime: mostly none or minutes, sometimes hours, once three days. At some restarts
  // every token the identity platform issued is revoked too.
  struct Down {
    Time from, to;  // killed at `from` (the simulator's clock), started again at `to`
  };
  std::vector<Down> downs;
  const std::vector<Millis> downtimes = {
      Millis{0}, std::chrono::minutes{20}, Millis{0}, std::chrono::hours{3},
      Millis{0}, std::chrono::minutes{5},  Millis{0}, std::chrono::hours{9},
      Millis{0}, std::chrono::minutes{40}, Millis{0}, std::chrono::hours{24 * 3},
      Millis{0}, std::chrono::minutes{15}, Millis{0}, std::chrono::hours{2},
      Millis{0}, std::chrono::minutes{1},  Millis{0}, std::chrono::hours{5},
      Millis{0}, std::chrono::minutes{30}, Millis{0}, std::chrono::hours{1}};
  std::mt19937_64 rng(20261102);
  Time resume = start;
  for (size_t k = 0; k < downtimes.size(); ++k) {
    Millis downtime = downtimes[k];
    Time kill_at = resume + Millis{std::uniform_int_distribution<int64_t>(4 * 3600 * 1000LL,
                                                                          28 * 3600 * 1000LL)(rng)};
    if (kill_at + downtime >= end - std::chrono::hours{24}) break;
    ASSERT_EQ(it::RunLearnloop(config, run.sim.base_url(), end, kill_at, run.dir + "/log"), -9);
    Time killed = run.SimNow();
    Down d{killed, killed + downtime};
    if (downtime > Millis{0}) {
      ASSERT_EQ(run.SetClock(d.to), "");
    }
    if (k % 4 == 3) {
      connectors::http::Request revoke;
      revoke.method = "POST";
      revoke.url = run.sim.base_url() + "/_sim/tokens";
      revoke.body = R"({"revoke_issued": true})";
      auto r = run.http->Send(revoke);
      ASSERT_TRUE(r.ok() && r->status == 200);
    }
    downs.push_back(d);
    resume = d.to;
  }
  ASSERT_GE(downs.size(), 20u);
  ASSERT_EQ(it::RunLearnloop(config, run.sim.base_url(), end, std::nullopt, run.dir + "/log"), 0);
  // A quiet end, so that one last sync reads everything.
  {
    auto reopened = store::OpenSqlite(run.cfg->store_path);
    ASSERT_TRUE(reopened.ok());
    run.store = std::move(*reopened);
  }
  run.clock = std::make_unique<ManualClock>(run.SimNow());
  daemon::KeepInStep(*run.clock, run.sim);  // waits for the rate limits move the simulator too
  ASSERT_EQ(run.StopFaults(), "");
  {
    daemon::Daemon d(*run.cfg, *run.store, *run.clock);
    ASSERT_TRUE(d.Start().ok());
    ASSERT_TRUE(d.SyncUntilCaughtUp().ok());
  }

  // Whether the daemon may have missed a time (down at it, or killed within half an hour
  // after it), and the restarts.
  const Millis kLate{std::chrono::minutes{30}};
  auto around_a_kill = [&](Time t) {
    for (const auto& d : downs)
      if (d.from < t + kLate && t <= d.to) return true;
    return false;
  };
  // An item due at `due` posted at `at`: on time, or at a restart after missing it, within
  // catch_up (6 h).
  auto on_schedule = [&](Time due, Time at) {
    if (at < due - std::chrono::seconds{1}) return false;
    if (at < due + kLate) return true;
    for (const auto& d : downs)
      if (d.to >= due && at >= d.to && at < d.to + kLate && d.to - due <= std::chrono::hours{6})
        return true;
    return false;
  };

  std::map<int64_t, Post> posts_by_id;
  std::map<int64_t, int64_t> sent_to;  // private message → the person it went to
  int bot_posts = 0;
  const json::Value posts = run.Get("/_sim/bot_posts");
  for (const auto& p : posts.as_array()) {
    Post post{*ParseIso(*json::GetString(p, "created_at")), *json::GetString(p, "body"),
              json::GetInt64(p, "replied_to_id").has_value()};
    EXPECT_EQ(post.body.find("ll-"), std::string::npos) << post.body;
    posts_by_id[*json::GetInt64(p, "id")] = post;
    if (auto to = json::GetInt64(p, "to")) sent_to[*json::GetInt64(p, "id")] = *to;
    ++bot_posts;
  }
  auto post_of = [&](const store::OutboxItem& item) -> const Post* {
    if (!item.native_id) return nullptr;
    auto it = posts_by_id.find(std::stoll(item.native_id->substr(item.native_id->rfind('/') + 1)));
    return it == posts_by_id.end() ? nullptr : &it->second;
  };
  // Every post of the bot belongs to one outbox item, and went out on schedule: at its time,
  // or at a restart within catch_up of it.
  std::map<int64_t, std::string> owner;  // post → outbox item
  for (const auto& item : Ok(run.store->AllOutbox())) {
    if (!item.native_id) continue;
    int64_t id = std::stoll(item.native_id->substr(item.native_id->rfind('/') + 1));
    EXPECT_TRUE(owner.emplace(id, item.key).second) << "one post for two items: " << item.key;
    const Post* post = post_of(item);
    ASSERT_NE(post, nullptr) << item.key << " recorded but not in the ESN";
    EXPECT_TRUE(on_schedule(item.due_at, post->at))
        << item.key << " due " << FormatIso(item.due_at) << ", posted " << FormatIso(post->at);
  }
  for (const auto& [id, post] : posts_by_id)  // nothing was posted twice (feedback included)
    EXPECT_TRUE(owner.count(id)) << "a post no item owns (a second one?): " << post.body;
  // No flood after a restart: of the prompts missed, at most one time per campaign and
  // community (and, for onboarding, join day) goes out.
  for (const auto& d : downs) {
    std::map<std::string, std::set<Time>> missed;  // campaign, group (join day) → due times
    for (const auto& item : Ok(run.store->AllOutbox())) {
      const Post* post = post_of(item);
      auto p = Ok(run.store->GetPrompt(item.key));
      if (!post || !p || item.due_at >= d.to || post->at < d.to || post->at >= d.to + kLate)
        continue;
      auto joined = item.key.find(":joined:");
      std::string unit = p->campaign + " " + p->group_id +
                         (joined == std::string::npos ? "" : item.key.substr(joined, 18));
      missed[unit].insert(item.due_at);
    }
    for (const auto& [unit, times] : missed)
      EXPECT_EQ(times.size(), 1u) << unit << " after the restart at " << FormatIso(d.to);
  }
  int checked_posts = 0;
  // Due while the daemon ran, clear of every kill: posted once, at its time.
  auto posted_once_at = [&](const std::string& key, Time due, const char* what) {
    auto item = Ok(run.store->GetOutbox(key));
    if (!item || item->state != "posted") {
      ADD_FAILURE() << what << " never posted: " << key;
      return;
    }
    const Post* post = post_of(*item);
    ASSERT_NE(post, nullptr) << what << " recorded but not in the ESN: " << key;
    EXPECT_GE(post->at, due) << key;
    EXPECT_LT(post->at, due + kLate) << key;
    ++checked_posts;
  };

  auto campaign = [&](const std::string& name) -> const config::CampaignConfig& {
    for (const auto& c : run.cfg->campaigns)
      if (c.name == name) return c;
    throw std::runtime_error("no campaign " + name);
  };
  std::map<std::string, std::vector<Prompt>> prompts;  // by campaign
  for (const auto& p : Ok(run.store->AllPrompts())) prompts[p.campaign].push_back(p);
  for (const auto& item : Ok(run.store->UnfinishedOutbox()))  // only what is not due yet
    EXPECT_GT(item.due_at, run.clock->Now()) << item.key << " " << item.state;

  // Cron campaigns: each occurrence of the month, as the preview computes it: once at its time
  // when the daemon ran; missed while it was down, only the latest, at the restart, when that
  // is within catch_up and before the close.
  int missed_posted = 0, missed_dropped = 0;
  for (const char* name : {"question-of-the-day", "teams-weekly"}) {
    const auto& c = campaign(name);
    for (const auto& o : bot::Occurrences(c, start, end)) {
      if (!o.post_at) continue;
      std::string key = "prompt:" + c.name + ":" + FormatIso(o.scheduled);
      if (!around_a_kill(o.scheduled) && !around_a_kill(*o.post_at)) {
        posted_once_at(key, *o.post_at, "prompt");
        continue;
      }
      const Down* in = nullptr;
      for (const auto& d : downs)
        if (d.from + kLate <= o.scheduled && o.scheduled <= d.to) in = &d;
      if (!in) continue;  // killed about then: on_schedule above checked it
      bool latest = true;
      for (const auto& other : bot::Occurrences(c, o.scheduled, in->to))
        latest &= other.scheduled == o.scheduled;
      auto at = bot::PostTimeSeenAt(c, o.scheduled, in->to);
      auto item = Ok(run.store->GetOutbox(key));
      bool posted = item && item->state == "posted";
      if (latest && in->to - o.scheduled <= c.catch_up && at) {
        EXPECT_TRUE(posted) << key << " was due again at the restart at " << FormatIso(in->to);
        if (posted) {
          EXPECT_LT(post_of(*item)->at, *at + kLate) << key;
        }
        ++missed_posted;
      } else {
        EXPECT_FALSE(posted) << key << ": missed while down, and not the latest or too late";
        ++missed_dropped;
      }
    }
  }
  EXPECT_GT(missed_dropped, 0);  // three days down drop some
  EXPECT_GE(prompts["question-of-the-day"].size(), 15u);
  EXPECT_GE(prompts["teams-weekly"].size(), 9u);

  // Onboarding: every newcomer of the two communities gets days 1, 3 and 7, at 09:30 local,
  // in one post per community and join day that names them (when the daemon ran then).
  const auto& onboarding = campaign("onboarding");
  auto truth = it::ReadTruth(run.Get("/_sim/truth"));
  // Every message and like of the month, once: kills, faults and downtimes lose or double
  // none (likes are read again within the refresh window: those on older messages are owed
  // only as far as they were there when last read).
  EXPECT_EQ(
      it::CheckIngestedExactlyOnce(truth, *run.store, run.SimNow() - std::chrono::hours{24 * 3}),
      "");
  std::map<std::string, std::set<std::string>> members;  // community → user ids
  for (const auto& g : Ok(run.store->AllGroups()))
    members[g.id].insert(g.members.begin(), g.members.end());
  int newcomers = 0;
  for (const auto& u : Ok(run.store->AllUsers())) {
    if (!u.joined_at || u.is_bot || u.state != "active") continue;
    for (const auto& community : onboarding.communities) {
      if (!members[MakeId("yammer", community)].count(u.id)) continue;
      std::string day = bot::JoinDay(onboarding, *u.joined_at);
      bool any = false;
      for (size_t i = 0; i < onboarding.after_joining.size(); ++i) {
        Time due = bot::DayAfterJoining(onboarding, day, static_cast<int>(i));
        if (due < start + std::chrono::minutes{1} || due > end || around_a_kill(due)) continue;
        // (A directory sync a few hours late may bring someone after their day's post.)
        if (*u.joined_at > due - std::chrono::hours{12}) continue;
        std::string key = "prompt:onboarding:" + community + ":joined:" + day + ":day" +
                          std::to_string(onboarding.after_joining[i]);
        posted_once_at(key, due, "onboarding prompt");
        auto p = Ok(run.store->GetPrompt(key));
        ASSERT_TRUE(p);
        EXPECT_NE(std::find(p->audience.begin(), p->audience.end(), u.id), p->audience.end());
        any = true;
      }
      newcomers += any;
    }
  }
  EXPECT_GE(newcomers, 2);
  for (const auto& p : prompts["onboarding"]) {
    if (!around_a_kill(p.posted_at - kLate)) {
      EXPECT_EQ(FormatLocal(onboarding.tz, p.posted_at).substr(11, 5), "09:30") << p.id;
    }
  }

  // Practice rounds: a private message to each person (the one the prompt names), at its
  // round; nobody asked more than twice a day, and never a question still open for them.
  const auto& practice = campaign("practice");
  std::map<std::pair<std::string, std::string>, int> per_day;
  int privately = 0;
  for (const auto& p : prompts["practice"]) {
    EXPECT_TRUE(p.id.find(":q") != std::string::npos) << p.id;
    auto item = Ok(run.store->GetOutbox(p.id));
    ASSERT_TRUE(item);
    std::string local = FormatLocal(practice.tz, item->due_at);
    // (A round missed while the daemon was down, or due while it started again, is planned
    // at the restart: its time is the restart's.)
    if (!around_a_kill(item->due_at) && !around_a_kill(item->due_at - kLate)) {
      EXPECT_TRUE(local.substr(11, 5) == "09:00" || local.substr(11, 5) == "14:00") << local;
      posted_once_at(p.id, item->due_at, "practice question");
    }
    ASSERT_EQ(p.audience.size(), p.is_private ? 1u : p.audience.size());
    if (p.is_private) {
      ++privately;
      int64_t id = std::stoll(NativeId(p.message_id));
      ASSERT_TRUE(sent_to.count(id)) << p.id << " is not a private message";
      EXPECT_EQ(it::Y(sent_to[id]), p.audience[0]) << p.id;
    }
    for (const auto& uid : p.audience)
      ++per_day[{uid, FormatLocal(practice.tz, p.posted_at).substr(0, 10)}];
  }
  EXPECT_GT(privately, 100);  // Viva Engage takes private messages to anyone
  for (const auto& [who_day, n] : per_day)
    EXPECT_LE(n, 2) << who_day.first << " " << who_day.second;
  bot::Bot b(*run.cfg, *run.store, *run.clock, {});
  for (const auto& p : prompts["practice"]) {
    // (Whether it was due depends on answers the daemon had read by then; the unit tests
    // check the order. An open question has no answer at all, which the daemon knew too.)
    auto state = Ok(b.Practices(practice, NativeId(p.group_id), p.posted_at - Millis{1}));
    for (const auto& uid : p.audience) {
      auto& mine = state.by_user[uid];
      auto q = mine.find(p.step - 1);
      if (q != mine.end()) {
        EXPECT_FALSE(q->second.open) << p.id << " " << uid;
      }
    }
  }

  // Reminders: at 2 h (3 h, 4 h) after each prompt, past quiet hours, before the close; once
  // (when the daemon ran then).
  int reminders = 0;
  for (const auto& [name, list] : prompts) {
    const auto& c = campaign(name);
    if (!c.reminders.enabled) continue;
    for (const auto& p : list) {
      auto answers = Ok(run.store->AnswersTo(p.id));
      // Whether everyone a prompt names had answered by t (a community's prompt: never).
      auto all_answered = [&](Time t) {
        if (p.audience.empty()) return false;
        std::set<std::string> done;
        for (const auto& a : answers)
          if (a.answered_at < t) done.insert(a.user_id);
        for (const auto& uid : p.audience)
          if (!done.count(uid)) return false;
        return true;
      };
      for (int k = 1; k <= c.reminders.max; ++k) {
        auto at = bot::PostTime(c, p.posted_at + c.reminders.after * k);
        if (!at || *at >= *p.closes_at || *at > end || around_a_kill(*at)) continue;
        std::string key = "reminder:" + p.id + ":" + std::to_string(k);
        if (all_answered(*at - std::chrono::minutes{35})) {  // read by then (30 min polls)
          auto item = Ok(run.store->GetOutbox(key));
          EXPECT_FALSE(item && item->state == "posted") << "nobody to remind: " << key;
        } else if (!all_answered(*at)) {
          posted_once_at(key, *at, "reminder");
          ++reminders;
        }  // answered just before: the bot may not have read it yet
      }
    }
  }
  EXPECT_GT(reminders, 30);
  EXPECT_GT(checked_posts, 100);

  // Every reply by a person in a prompt's thread (a private question's included) is an answer,
  // read as its author meant it (nearly always, and never as something else: esn-sim's people
  // write in phrasings of their own); every button pressed before the close is that person's
  // answer with that choice, but for those pressed while the daemon was down (Teams does not
  // send them again for long).
  std::map<std::string, std::string> meant;  // learnloop message id → what was meant
  for (const auto& m : truth.messages)
    if (!m.meant.empty()) meant[it::MessageId(truth, m, m.id)] = m.meant;
  it::Reading reading;
  std::map<std::string, Answer> answers;
  for (const auto& a : Ok(run.store->AllAnswers())) answers[a.message_id] = a;
  std::set<std::string> bots;
  for (const auto& u : Ok(run.store->AllUsers()))
    if (u.is_bot) bots.insert(u.id);
  int replies = 0, presses = 0, private_replies = 0;
  for (const auto& [name, list] : prompts)
    for (const auto& p : list) {
      for (const auto& m : Ok(run.store->MessagesInThread(p.message_id))) {
        if (m.id == p.message_id || m.deleted || bots.count(m.author_id)) continue;
        auto a = answers.find(m.id);
        ASSERT_NE(a, answers.end()) << p.id << " " << m.id << " '" << m.text << "'";
        EXPECT_EQ(a->second.prompt_id, p.id);
        ++replies;
        private_replies += p.is_private;
        if (m.created_at >= *p.closes_at) {
          EXPECT_EQ(a->second.points, 0) << "late, not scored";
          continue;
        }
        if (auto what = meant.find(m.id); what != meant.end() && p.type != "free_text")
          reading.Add(m.text, what->second, a->second.choice);
      }
    }
  // Every press the daemon acknowledged is stored, kills or not (it is queued in the store
  // before the answer); one made while the daemon was down is retried by the Bot Framework for
  // a while, then dropped.
  auto lost = [&](Time t) {
    for (const auto& d : downs)
      if (t >= d.from && t < d.to + std::chrono::minutes{70}) return true;
    return false;
  };
  EXPECT_EQ(it::CheckCardPresses(truth, *run.store, &presses, lost), "");
  EXPECT_GT(replies, 200);
  EXPECT_GT(private_replies, 50);
  EXPECT_GT(reading.meant, 50);
  EXPECT_EQ(reading.wrong, 0) << reading.first_wrong;
  EXPECT_GE(reading.Recall(), 95.0) << reading.right << " of " << reading.meant;
  EXPECT_GT(presses, 10);
  auto stats = run.Get("/_sim/stats");
  EXPECT_GT(*json::GetInt64(stats, "faults"), 20);
  EXPECT_EQ(*json::GetInt64(stats, "violations"), 0);
  std::cout << "month: " << bot_posts << " bot posts (" << privately << " private), "
            << checked_posts << " prompts and reminders checked on time, " << missed_posted
            << " missed prompts posted at a restart and " << missed_dropped << " dropped, "
            << replies << " replies and " << presses << " presses recognised (" << reading.right
            << " of " << reading.meant << " answers read as meant), "
            << *json::GetInt64(stats, "faults") << " faults; killed and down:";
  for (const auto& d : downs)
    std::cout << " " << FormatIso(d.from) << " +"
              << std::chrono::duration_cast<std::chrono::minutes>(d.to - d.from).count() << " min";
  std::cout << "\n";
}
