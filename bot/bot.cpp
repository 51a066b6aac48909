#include "bot/bot.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include "bot/answers.h"
#include "bot/schedule.h"
#include "connectors/common/mentions.h"
#include "core/json.h"
#include "core/log.h"

namespace learnloop::bot {

namespace {

constexpr size_t kMaxMentions = 25;  // a post names a few people, not a whole community

std::string LocalDay(TimeZone tz, Time t) { return FormatLocal(tz, t).substr(0, 10); }

// "3 h 20 min", "45 min", "2 d 1 h": how late something is, as people read it.
std::string MinutesText(Millis d) {
  auto m = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  if (m < 60) return std::to_string(m) + " min";
  if (m < 24 * 60) return std::to_string(m / 60) + " h " + std::to_string(m % 60) + " min";
  return std::to_string(m / (24 * 60)) + " d " + std::to_string(m / 60 % 24) + " h";
}

// "A, B, C and 3 more colleagues" as mention tokens, the first kMaxMentions by name.
std::string MentionList(const std::vector<const User*>& people) {
  std::string out;
  for (size_t i = 0; i < people.size() && i < kMaxMentions; ++i)
    out += (i ? ", " : "") + connectors::MentionToken(NativeId(people[i]->id), people[i]->name);
  if (people.size() > kMaxMentions)
    out += " and " + std::to_string(people.size() - kMaxMentions) + " more colleagues";
  return out;
}

// Each person's first answer before the close that says something readable (any reply for
// free text): the one that counts. `answers` in time order.
std::map<std::string, Answer> FirstAnswers(const Prompt& p, const std::string& kind,
                                           const std::vector<Answer>& answers) {
  std::map<std::string, Answer> first;
  for (const auto& a : answers) {
    if (p.closes_at && a.answered_at >= *p.closes_at) continue;
    bool readable = kind == "free_text" || a.choice.has_value();
    if (readable) first.emplace(a.user_id, a);
  }
  return first;
}

// The prompt key for one community: a single-community campaign's keys stay as they always were.
std::string PromptKey(const config::CampaignConfig& c, const std::string& community,
                      const std::string& rest) {
  return c.communities.size() == 1 ? "prompt:" + c.name + ":" + rest
                                   : "prompt:" + c.name + ":" + community + ":" + rest;
}

}  // namespace

Bot::Bot(const config::Config& cfg, store::Store& store, Clock& clock,
         std::map<std::string, connectors::Poster*> posters)
    : cfg_(cfg), store_(store), clock_(clock), posters_(std::move(posters)) {}

std::string Bot::PromptBody(const config::CampaignConfig& c, const config::StepConfig& step,
                            Time closes) {
  std::string body = step.text;
  std::string how = "Reply in this thread to answer";
  if (step.kind == "choice" || step.kind == "poll") {
    body += "\n";
    for (size_t i = 0; i < step.options.size(); ++i)
      body += "\n" + OptionLabel(static_cast<int>(i)) + ") " + step.options[i];
    how = "Reply in this thread with the letter of your answer";
  } else if (step.kind == "rating") {
    how = "Reply in this thread with a number from 1 to 5";
  }
  return body + "\n\n" + how + " - open until " + FormatLocal(c.tz, closes) + ".";
}

std::optional<Time> Bot::ScheduleFrom(const config::CampaignConfig& c, Time now) const {
  Time from = now - c.catch_up;
  if (c.start && *c.start - Millis{1} > from) from = *c.start - Millis{1};
  // Nothing due before this store first saw the campaign (a new campaign, a first start).
  auto state = store_.GetCampaignState(c.name);
  if (state.first_seen && *state.first_seen - Millis{1} > from)
    from = *state.first_seen - Millis{1};
  if (state.last_due && *state.last_due > from) from = *state.last_due;
  return from;
}

const config::CampaignConfig* Bot::FindCampaign(const std::string& name) const {
  for (const auto& c : cfg_.campaigns)
    if (c.name == name) return &c;
  return nullptr;
}

bool Bot::EnqueuePromptIn(const config::CampaignConfig& c, const std::string& key,
                          const std::string& community, int step, Time post,
                          std::vector<std::string> audience, const std::string& lead,
                          const std::optional<std::string>& to_user) {
  const config::StepConfig& st = c.steps[static_cast<size_t>(step) % c.steps.size()];
  Prompt p;
  p.id = key;
  p.campaign = c.name;
  p.step = step % static_cast<int>(c.steps.size()) + 1;  // a repeating sequence starts again
  p.network = c.network;
  p.group_id = MakeId(c.network, community);
  p.type = st.kind;
  if (st.correct) p.correct = OptionLabel(*st.correct);
  p.posted_at = post;
  p.closes_at = post + c.open_for;
  p.audience = std::move(audience);
  if (c.Ends()) p.last_step = static_cast<int>(c.steps.size());
  p.spaced = c.spaced.enabled;
  p.is_private = to_user.has_value();
  store::OutboxItem item;
  item.key = key;
  item.network = c.network;
  item.group_id = community;
  item.to_user = to_user;
  item.body = lead.empty() ? st.text : lead + "\n\n" + st.text;
  item.due_at = post;  // later than scheduled when deferred past quiet hours or a holiday
  if (!store_.EnqueueOutbox(item)) return false;
  store_.UpsertPrompt(p);
  return true;
}

bool Bot::EnqueuePrompt(const config::CampaignConfig& c, const std::string& key_time, Time post) {
  if (c.spaced.enabled) return EnqueueRound(c, key_time, post);
  // A prompt still waiting to go out (deferred past quiet hours, or due just before the daemon
  // stopped) gives way to this one, which takes its step: a community gets the latest, not a
  // backlog.
  bool superseded = false;
  for (const auto& item : store_.UnfinishedOutbox()) {
    if (item.state != "pending" || item.network != c.network || item.to_user || item.reply_to)
      continue;
    auto older = store_.GetPrompt(item.key);
    if (!older || older->campaign != c.name || !older->message_id.empty()) continue;
    store_.MarkOutboxFailed(item.key, "not posted: a later prompt of the campaign is due", true);
    store_.DeletePrompt(item.key);
    Logger("bot")->info("campaign {}: prompt {} gives way to a later one", c.name, item.key);
    superseded = true;
  }
  int step = StepsPosted(c) - (superseded ? 1 : 0);
  if (c.Ends() && step >= static_cast<int>(c.steps.size())) {
    // The sequence is over: nothing more is posted (said once).
    store_.UpdateCampaignState(c.name, [&](store::CampaignState& state) {
      if (state.ended_at) return;
      Logger("bot")->info(
          "campaign {}: its {} steps have all been posted; it has ended (give "
          "'repeat: true' to start again from the first)",
          c.name, c.steps.size());
      state.ended_at = post;
    });
    return false;
  }
  bool any = false;
  for (const auto& community : c.communities)  // one prompt per community
    any |= EnqueuePromptIn(c, PromptKey(c, community, key_time), community, step, post, {}, "");
  if (any) {
    store_.UpdateCampaignState(c.name,
                               [&](store::CampaignState& state) { state.steps_posted = step + 1; });
    ++stats_.enqueued;
  }
  return any;
}

int Bot::StepsPosted(const config::CampaignConfig& c) const {
  return store_.GetCampaignState(c.name).steps_posted;
}

std::vector<User> Bot::Audience(const config::CampaignConfig& c, const std::string& community) {
  std::vector<User> out;
  std::string group = MakeId(c.network, community);
  std::set<std::string> members;
  for (const auto& g : Groups())
    if (g.id == group) members.insert(g.members.begin(), g.members.end());
  for (const auto& u : Users())
    if (members.count(u.id) && !u.is_bot && u.state == "active" && c.InCohort(u.joined_at))
      out.push_back(u);
  return out;  // by id
}

void Bot::ScheduleAfterJoining(const config::CampaignConfig& c, Time now) {
  auto log = Logger("bot");
  Time from = now - c.catch_up;
  if (c.start && *c.start > from) from = *c.start;
  auto state = store_.GetCampaignState(c.name);
  if (state.first_seen && *state.first_seen > from) from = *state.first_seen;
  std::optional<Time> skip_through = state.skip_through;
  for (const auto& community : c.communities) {
    std::map<std::string, std::vector<const User*>> by_day;  // newcomers by local join date
    auto people = Audience(c, community);
    for (const auto& u : people)
      if (u.joined_at) by_day[JoinDay(c, *u.joined_at)].push_back(&u);
    for (const auto& [day, who] : by_day) {
      // The steps due for that day's newcomers since the last look: after downtime, only the
      // latest is posted, and only while it is open.
      std::optional<size_t> latest;
      for (size_t i = 0; i < c.after_joining.size(); ++i) {
        Time t = DayAfterJoining(c, day, static_cast<int>(i));
        if (t >= from && t <= now && (!c.end || t < *c.end)) latest = i;
      }
      for (size_t i = 0; i < c.after_joining.size(); ++i) {
        Time t = DayAfterJoining(c, day, static_cast<int>(i));
        if (t < from || t > now || (c.end && t >= *c.end)) continue;
        std::string key =
            PromptKey(c, community, "joined:" + day + ":day" + std::to_string(c.after_joining[i]));
        if (store_.GetOutbox(key) || store_.SkippedPrompt(key)) continue;
        store_.Transaction([&] {
          std::string why;
          std::optional<Time> post;
          if (skip_through && t <= *skip_through) {
            why = "skipped by an operator";
          } else if (i != *latest) {
            why = "not posted: a later step is due too";
          } else if (now >= t + c.open_for) {
            why = "skipped: closed before it could be posted";
          } else if (!(post = PostTimeSeenAt(c, t, now, &why))) {
            why = "skipped (" + why + ")";
          } else {
            std::vector<std::string> ids;
            std::vector<const User*> named;
            for (const User* u : who) {
              ids.push_back(u->id);
              if (!OptedOut(u->id)) named.push_back(u);
            }
            std::string lead = (named.empty() ? std::string("For those who joined on ") + day
                                              : "For " + MentionList(named)) +
                               " - day " + std::to_string(c.after_joining[i]) + " after joining:";
            if (EnqueuePromptIn(c, key, community, static_cast<int>(i), *post, ids, lead))
              ++stats_.enqueued;
            return;
          }
          log->info("campaign {}: prompt {} of {} {}", c.name, key, FormatIso(t), why);
          store_.SkipPrompt(key, why);
        });
      }
    }
  }
}

Bot::PracticeState Bot::Practices(const config::CampaignConfig& c, const std::string& community,
                                  Time at) {
  PracticeState s;
  std::string group = MakeId(c.network, community);
  for (const auto& p : store_.PromptsOf(c.name)) {
    int q = p.step - 1;
    if (p.group_id != group || p.audience.empty() || p.posted_at > at) continue;
    if (q < 0 || q >= static_cast<int>(c.steps.size())) continue;
    std::map<std::string, Answer> first;
    if (!p.message_id.empty()) {
      auto answers = store_.AnswersTo(p.id);  // as they stood at `at`
      answers.erase(std::remove_if(answers.begin(), answers.end(),
                                   [&](const Answer& a) { return a.answered_at > at; }),
                    answers.end());
      first = FirstAnswers(p, "choice", answers);
    }
    bool closed = p.closes_at && at >= *p.closes_at;
    std::string day = LocalDay(c.tz, p.posted_at);
    if (!p.is_private) ++s.threads_per_day[day];
    for (const auto& uid : p.audience) {
      ++s.asked_per_day[uid][day];
      Practice& pr = s.by_user[uid][q];
      pr.asked = true;
      pr.open = false;
      if (auto a = first.find(uid); a != first.end()) {
        bool right = a->second.correct.value_or(false);
        pr.right_in_a_row = right ? pr.right_in_a_row + 1 : 0;
        pr.due = a->second.answered_at + (right ? c.spaced.right_after : c.spaced.wrong_after);
      } else if (closed) {  // not answered: as if wrong, back after the short interval
        pr.right_in_a_row = 0;
        pr.due = std::max(*p.closes_at, p.posted_at + c.spaced.wrong_after);
      } else {
        pr.open = true;
      }
      pr.retired = pr.right_in_a_row >= c.spaced.retire_after;
    }
  }
  return s;
}

std::optional<int> Bot::NextQuestion(const config::CampaignConfig& c, const PracticeState& s,
                                     const std::string& user_id, Time at) {
  if (auto d = s.asked_per_day.find(user_id); d != s.asked_per_day.end()) {
    auto n = d->second.find(LocalDay(c.tz, at));
    if (n != d->second.end() && n->second >= c.spaced.per_person) return std::nullopt;
  }
  static const std::map<int, Practice> kNone;
  auto u = s.by_user.find(user_id);
  const auto& mine = u == s.by_user.end() ? kNone : u->second;
  std::optional<int> best;
  for (const auto& [q, pr] : mine)  // a due repeat, the longest due first
    if (!pr.retired && !pr.open && pr.due <= at && (!best || pr.due < mine.at(*best).due)) best = q;
  if (best) return best;
  for (int q = 0; q < static_cast<int>(c.steps.size()); ++q)  // a question never asked
    if (!mine.count(q)) return q;
  return std::nullopt;
}

bool Bot::EnqueueRound(const config::CampaignConfig& c, const std::string& key_time, Time post) {
  auto log = Logger("bot");
  auto poster = posters_.find(c.network);
  const bool privately = c.spaced.privately && poster != posters_.end() && poster->second &&
                         poster->second->PostsPrivately();
  const std::string total = std::to_string(c.steps.size());
  bool any = false;
  for (const auto& community : c.communities) {
    PracticeState state = Practices(c, community, post);
    // Everyone's next question: privately where that reaches them, else in the community.
    std::map<int, std::vector<const User*>> in_public;  // by question
    auto people = Audience(c, community);
    for (const auto& u : people) {
      if (OptedOut(u.id)) continue;  // never named, so never asked
      auto q = NextQuestion(c, state, u.id, post);
      if (!q) continue;
      if (privately && Reachable(u.id)) {
        std::string key = PromptKey(
            c, community, key_time + ":q" + std::to_string(*q + 1) + ":" + NativeId(u.id));
        // Their name makes each text one of a kind: a message whose answer was lost is found
        // again by its text, never taken for another person's.
        any |= EnqueuePromptIn(c, key, community, *q, post, {u.id},
                               "Hi " + u.name + " - practice question " + std::to_string(*q + 1) +
                                   " of " + total + " (" + c.name + "):",
                               NativeId(u.id));
      } else {
        in_public[*q].push_back(&u);
      }
    }
    // The community's threads: at most daily_cap a local day, the question most people wait
    // for first, each naming at most mention_cap of them; the others wait for a later round.
    std::vector<std::pair<int, std::vector<const User*>>> waiting(in_public.begin(),
                                                                  in_public.end());
    std::stable_sort(waiting.begin(), waiting.end(), [](const auto& a, const auto& b) {
      return a.second.size() > b.second.size();
    });
    int threads = state.threads_per_day[LocalDay(c.tz, post)];
    size_t left_waiting = 0;
    for (auto& [q, who] : waiting) {
      if (threads >= c.spaced.daily_cap) {
        left_waiting += who.size();
        continue;
      }
      size_t named_n = std::min(who.size(), static_cast<size_t>(c.spaced.mention_cap));
      left_waiting += who.size() - named_n;
      std::vector<const User*> named(who.begin(),
                                     who.begin() + static_cast<std::ptrdiff_t>(named_n));
      std::vector<std::string> ids;
      for (const User* u : named) ids.push_back(u->id);
      std::string key = PromptKey(c, community, key_time + ":q" + std::to_string(q + 1));
      std::string lead = "For " + MentionList(named) + " - practice question " +
                         std::to_string(q + 1) + " of " + total + ":";
      if (EnqueuePromptIn(c, key, community, q, post, std::move(ids), lead)) {
        any = true;
        ++threads;
      }
    }
    if (left_waiting)
      log->info(
          "campaign {}: {} people of {} wait for a later round (at most {} thread(s) a "
          "day in the community, {} people named in each)",
          c.name, left_waiting, community, c.spaced.daily_cap, c.spaced.mention_cap);
  }
  if (any) ++stats_.enqueued;
  return any;
}

bool Bot::Reachable(const std::string& user_id) const {
  auto mark = store_.UnreachableSince(user_id);
  return !mark || clock_.Now() - mark->since >= std::chrono::hours{24 * 7};
}

bool Bot::Paused(const config::CampaignConfig& c) const {
  // An operator's pause (learnloop campaigns pause) lasts until resumed, whatever the file says.
  return store_.GetCampaignState(c.name).paused.value_or(c.paused);
}

std::vector<Prompt> Bot::RecentPrompts() {
  return store_.PromptsOpenAfter(clock_.Now() - std::chrono::hours{24 * 7});
}

const std::vector<User>& Bot::Users() {
  if (!in_tick_ || !tick_users_) tick_users_ = store_.AllUsers();
  return *tick_users_;
}

const std::vector<Group>& Bot::Groups() {
  if (!in_tick_ || !tick_groups_) tick_groups_ = store_.AllGroups();
  return *tick_groups_;
}

void Bot::Tick() {
  // The directory changes only with a sync, between ticks: read it once for the whole tick.
  struct Forget {
    Bot& b;
    ~Forget() {
      b.tick_users_.reset();
      b.tick_groups_.reset();
      b.in_tick_ = false;
    }
  } forget{*this};
  in_tick_ = true;
  auto prompts = RecentPrompts();  // posted ones: Schedule only adds to the outbox
  RecognizeAnswers(prompts);
  Schedule();       // after the answers: a spaced round sees the latest
  Remind(prompts);  // after the answers are read: nobody who answered is reminded
  Feedback(prompts);
  Acknowledge(prompts);
  Leaderboards();
  Dispatch();
}

void Bot::Schedule() {
  auto log = Logger("bot");
  Time now = clock_.Now();
  for (const auto& c : cfg_.campaigns) {
    if (Paused(c)) continue;
    if (!store_.GetCampaignState(c.name).first_seen)
      store_.UpdateCampaignState(c.name, [&](store::CampaignState& state) {
        if (!state.first_seen) state.first_seen = now;
      });
    if (c.relative()) {
      ScheduleAfterJoining(c, now);
      continue;
    }
    Time from = *ScheduleFrom(c, now);
    std::optional<Time> skip_through = store_.GetCampaignState(c.name).skip_through;
    // The times due since the last look. After downtime there may be several: only the latest
    // is posted (a community gets one prompt, not the backlog), and only while it is open.
    std::vector<Time> due;
    for (auto t = c.schedule.Next(c.tz, from); t && *t <= now; t = c.schedule.Next(c.tz, *t)) {
      if (c.end && *t >= *c.end) break;
      due.push_back(*t);
    }
    for (size_t i = 0; i < due.size(); ++i) {
      Time t = due[i];
      store_.Transaction([&] {
        std::string why;
        std::optional<Time> post;
        if (skip_through && t <= *skip_through) {
          log->info("campaign {}: prompt of {} skipped by an operator", c.name, FormatIso(t));
        } else if (i + 1 < due.size()) {
          log->info("campaign {}: prompt of {} not posted: a later one ({}) is due too", c.name,
                    FormatIso(t), FormatIso(due.back()));
        } else if (now - t > c.catch_up || now >= t + c.open_for) {
          log->warn("campaign {}: prompt of {} skipped: {} late, past catch_up or closed", c.name,
                    FormatIso(t), MinutesText(now - t));
        } else if (!(post = PostTimeSeenAt(c, t, now, &why))) {
          log->info("campaign {}: prompt of {} skipped ({})", c.name, FormatIso(t), why);
        } else {
          EnqueuePrompt(c, FormatIso(t), *post);
        }
        store_.UpdateCampaignState(c.name,
                                   [&](store::CampaignState& state) { state.last_due = t; });
      });
    }
  }
}

Status Bot::SetPaused(const std::string& campaign, bool paused) {
  if (!FindCampaign(campaign)) return Status::Fail("no campaign named '" + campaign + "'");
  store_.UpdateCampaignState(campaign, [&](store::CampaignState& state) { state.paused = paused; });
  return Status::Ok();
}

Result<Time> Bot::SkipNext(const std::string& campaign) {
  const config::CampaignConfig* c = FindCampaign(campaign);
  if (!c) return Result<Time>::Fail("no campaign named '" + campaign + "'");
  Time now = clock_.Now();
  Time from = std::max(*ScheduleFrom(*c, now), now);
  if (auto t = store_.GetCampaignState(campaign).skip_through; t && *t > from) from = *t;
  auto next = c->relative() ? NextAfterJoining(*c, from) : c->schedule.Next(c->tz, from);
  if (!next || (c->end && *next >= *c->end))
    return Result<Time>::Fail("campaign '" + campaign + "' has no prompt left to skip");
  store_.UpdateCampaignState(campaign,
                             [&](store::CampaignState& state) { state.skip_through = next; });
  return *next;
}

Result<std::string> Bot::PostNow(const std::string& campaign) {
  const config::CampaignConfig* c = FindCampaign(campaign);
  if (!c) return Result<std::string>::Fail("no campaign named '" + campaign + "'");
  if (c->relative())
    return Result<std::string>::Fail("campaign '" + campaign +
                                     "' posts on days after joining, to each day's newcomers: "
                                     "there is no next prompt to post now");
  Time now = clock_.Now();
  std::string key_time = "now:" + FormatIsoMillis(now);
  bool any = false;
  store_.Transaction([&] { any = EnqueuePrompt(*c, key_time, now); });
  if (!any) return Result<std::string>::Fail("nothing was queued");
  return "prompt:" + c->name + ":" + key_time;
}

void Bot::Dispatch() {
  auto log = Logger("bot");
  for (const auto& item : store_.UnfinishedOutbox()) {
    // Stopping: what is left waits in the outbox for the next start (said once, at the stop).
    if (clock_.Interrupted()) return;
    Time now = clock_.Now();
    if (item.due_at > now) continue;
    auto pit = posters_.find(item.network);
    if (pit == posters_.end() || !pit->second) {
      store_.MarkOutboxFailed(item.key, "network '" + item.network + "' cannot post", true);
      ++stats_.failed;
      continue;
    }
    connectors::Poster& poster = *pit->second;
    auto prompt = store_.GetPrompt(item.key);
    const config::CampaignConfig* campaign = prompt ? FindCampaign(prompt->campaign) : nullptr;
    // A prompt that waited past its campaign's catch_up (the ESN was down, say) is not posted
    // late: dropped, and said so. One that may have gone out already is looked for first.
    const bool aged = campaign && now - item.due_at > campaign->catch_up;
    // An item that will never go out takes its prompt with it: nobody was asked.
    auto give_up = [&](const std::string& why) {
      store_.Transaction([&] {
        store_.MarkOutboxFailed(item.key, why, true);
        if (prompt && prompt->message_id.empty()) store_.DeletePrompt(prompt->id);
      });
      ++stats_.failed;
    };
    auto drop = [&] {
      std::string why = "not posted: due at " + FormatIso(item.due_at) + ", " +
                        MinutesText(now - item.due_at) + " ago, past the campaign's catch_up";
      give_up(why);
      log->warn("outbox {}: {}", item.key, why);
    };
    if (aged && item.state == "pending") {
      drop();
      continue;
    }
    connectors::PostRequest req;
    req.group_id = item.group_id;
    req.reply_to = item.reply_to;
    req.to_user = item.to_user;
    // Every attempt sends the text of the first (its close time included): that is how an
    // attempt that went through unseen is found again.
    Time opened = item.sent_at.value_or(now);
    Millis open_for = campaign ? campaign->open_for : Millis{std::chrono::hours{72}};
    if (campaign) {
      config::StepConfig step =
          campaign
              ->steps[static_cast<size_t>(std::max(0, prompt->step - 1)) % campaign->steps.size()];
      step.text = item.body;  // what was scheduled, even if the file changed since
      req.body = PromptBody(*campaign, step, opened + open_for);
      if (!item.reply_to && (step.kind == "choice" || step.kind == "poll"))
        for (size_t i = 0; i < step.options.size(); ++i)
          req.choices.push_back({OptionLabel(static_cast<int>(i)),
                                 OptionLabel(static_cast<int>(i)) + ") " + step.options[i]});
    } else {
      req.body = item.body;
    }
    if (item.sent_body) req.body = *item.sent_body;

    auto record = [&](const connectors::Posted& posted) {
      store_.Transaction([&] {
        store_.MarkOutboxPosted(item.key, posted.native_id, posted.created_at);
        if (prompt) {
          Prompt p = *prompt;
          p.message_id = MakeId(item.network, posted.native_id);
          p.posted_at = posted.created_at;
          // Open as long as it says (from the first attempt), and at least open_for once out.
          p.closes_at = std::max(opened + open_for, posted.created_at + open_for);
          store_.UpsertPrompt(p);
        }
      });
    };

    if (item.state == "sending") {
      // The last attempt may have reached the ESN before we could record it: a post of ours
      // with this very text since the first attempt, that no other item has claimed.
      auto found =
          poster.FindPosted(req, item.sent_at.value_or(item.due_at) - std::chrono::minutes{5});
      if (!found.ok()) {
        log->warn("outbox {}: cannot check for an earlier post: {}", item.key,
                  found.error().message);
        continue;
      }
      const connectors::Posted* mine = nullptr;
      for (const auto& p : *found) {
        auto owner = store_.OutboxKeyOfPost(item.network, p.native_id);
        if (!owner || *owner == item.key) {
          mine = &p;
          break;
        }
      }
      if (mine) {
        record(*mine);
        ++stats_.reconciled;
        continue;
      }
      if (aged) {
        drop();
        continue;
      }
    }
    store_.MarkOutboxSending(item.key, req.body, now);
    auto res = poster.Post(req);
    if (res.ok()) {
      record(*res);
      ++stats_.posted;
      log->info("posted {} as {}", item.key, res->native_id);
    } else if (clock_.Interrupted()) {
      return;  // the attempt was cut short by the stop: tried again at the next start
    } else {
      int code = res.error().code;
      bool final = code >= 400 && code < 500 && code != 429 && code != 401;
      bool unreachable = final && item.to_user && (code == 403 || code == 404);
      if (unreachable) {
        // The person cannot be reached privately (Teams: the app is not installed for them):
        // asked in the community from the next round on, privately again in a week.
        std::string user = MakeId(item.network, *item.to_user);
        store_.MarkUnreachable(user, {now, res.error().message});
        log->info(
            "outbox {}: {} cannot be sent a private message ({}); asked in the "
            "community from the next round",
            item.key, user, res.error().message);
      }
      if (final) {
        give_up(res.error().message);
      } else {
        store_.MarkOutboxFailed(item.key, res.error().message, false);
        ++stats_.failed;
      }
      if (!unreachable)
        log->warn("outbox {}: {}{}", item.key, res.error().message,
                  final ? " (given up)" : " (will retry)");
    }
  }
}

std::optional<int> Bot::ReadChoice(const std::string& text,
                                   const std::vector<std::string>& options) {
  std::string key;
  for (const auto& o : options) key += o + '\x1f';
  key += '\x1e' + text;
  if (auto it = choices_read_.find(key); it != choices_read_.end()) return it->second;
  if (choices_read_.size() >= 100000) choices_read_.clear();
  auto option = ParseChoice(text, options);
  choices_read_.emplace(std::move(key), option);
  return option;
}

void Bot::RecognizeAnswers(const std::vector<Prompt>& prompts) {
  Time now = clock_.Now();
  if (prompts.empty()) return;
  std::set<std::string> bots;
  for (const auto& u : Users())
    if (u.is_bot) bots.insert(u.id);
  // The prompts looked at (replies written before the close may be fetched a little later: a
  // while past it), and what they hold, read at once.
  std::vector<const Prompt*> todo;
  std::vector<std::string> threads, ids, posts;
  for (const auto& p : prompts) {
    if (p.closes_at && now > *p.closes_at + std::chrono::hours{24 * 7}) continue;
    todo.push_back(&p);
    threads.push_back(AnswerThread(p));
    ids.push_back(p.id);
    posts.push_back(p.message_id);
  }
  auto in_thread = store_.MessagesInThreads(threads);
  auto recognised = store_.AnswersToPrompts(ids);
  auto pressed = store_.CardActionsOnMessages(posts);
  // Private prompts in a conversation they share (a Teams personal chat), by time.
  std::map<std::string, std::vector<Time>> private_in;
  for (size_t i = 0; i < todo.size(); ++i)
    if (todo[i]->is_private && threads[i] != todo[i]->message_id)
      private_in[threads[i]].push_back(todo[i]->posted_at);
  for (auto& [thread, times] : private_in) std::sort(times.begin(), times.end());

  for (size_t i = 0; i < todo.size(); ++i) {
    const Prompt& p = *todo[i];
    const std::vector<Message>& messages = in_thread[threads[i]];
    const std::vector<CardAction>& presses = pressed[p.message_id];
    std::map<std::string, Answer> before;  // what was recognised earlier, by message
    for (auto& a : recognised[p.id]) before[a.message_id] = a;
    if (messages.empty() && presses.empty() && before.empty()) continue;
    const config::CampaignConfig* c = FindCampaign(p.campaign);
    const config::StepConfig* step =
        c ? &c->steps[static_cast<size_t>(std::max(0, p.step - 1)) % c->steps.size()] : nullptr;
    std::string kind = step ? step->kind : "free_text";
    int points_answer = c ? c->points_answer : 1, points_correct = c ? c->points_correct : 0;

    // What an answer chose, and whether that is right.
    auto read = [&](Answer& a, const std::string& text, std::optional<std::string> pressed) {
      std::optional<int> option;
      if (kind == "choice" || kind == "poll") {
        if (pressed && pressed->size() == 1 &&
            std::isalpha(static_cast<unsigned char>((*pressed)[0])))
          option = std::toupper(static_cast<unsigned char>((*pressed)[0])) - 'A';
        else
          option = ReadChoice(pressed.value_or(text), step->options);
        if (option && (*option < 0 || *option >= static_cast<int>(step->options.size())))
          option.reset();
        if (option) a.choice = OptionLabel(*option);
        if (option && kind == "choice" && step->correct) a.correct = *option == *step->correct;
      } else if (kind == "rating") {
        if (auto r = ParseRating(pressed.value_or(text))) a.choice = std::to_string(*r);
      } else if (pressed) {
        a.choice = pressed;
      }
    };
    // In a conversation of the bot with one person, their messages from this prompt on, up to
    // the next private prompt there, answer it.
    std::optional<Time> next;
    if (auto shared = private_in.find(threads[i]); shared != private_in.end()) {
      auto after = std::upper_bound(shared->second.begin(), shared->second.end(), p.posted_at);
      if (after != shared->second.end()) next = *after;
    }

    std::vector<std::string> withdrawn;
    std::vector<Answer> answers;
    for (const auto& m : messages) {
      if (p.is_private &&
          ((next && m.created_at >= *next) ||
           std::find(p.audience.begin(), p.audience.end(), m.author_id) == p.audience.end()))
        continue;
      if (m.deleted) {  // a deleted reply withdraws its answer
        if (before.count(m.id)) withdrawn.push_back(m.id);
        continue;
      }
      if (m.id == p.message_id || bots.count(m.author_id)) continue;
      if (m.created_at < p.posted_at) continue;
      Answer a;
      a.prompt_id = p.id;
      a.user_id = m.author_id;
      a.message_id = m.id;
      a.answered_at = m.created_at;
      bool late = p.closes_at && m.created_at >= *p.closes_at;
      auto was = before.find(m.id);
      if (was != before.end() && p.closes_at && m.edited_at && *m.edited_at >= *p.closes_at) {
        answers.push_back(was->second);  // edited after the close: the answer stays as it was
        continue;
      }
      if (!late) read(a, m.text, std::nullopt);
      answers.push_back(std::move(a));
    }
    // Buttons pressed on the prompt's card are answers too; the choice is the button's
    // "choice" (or its whole data).
    for (const auto& ca : presses) {
      if (bots.count(ca.user_id) || ca.at < p.posted_at) continue;
      Answer a;
      a.prompt_id = p.id;
      a.user_id = ca.user_id;
      a.message_id = ca.id;
      a.answered_at = ca.at;
      auto data = json::Parse(ca.value);
      auto choice = data.ok() ? json::GetString(*data, "choice") : std::nullopt;
      if (!(p.closes_at && ca.at >= *p.closes_at)) read(a, "", choice.value_or(ca.value));
      answers.push_back(std::move(a));
    }
    // Points: each person's first answer in time that says something readable (any reply
    // for free text); later, late and unreadable ones score nothing.
    std::sort(answers.begin(), answers.end(), [](const Answer& x, const Answer& y) {
      return x.answered_at != y.answered_at ? x.answered_at < y.answered_at
                                            : x.message_id < y.message_id;
    });
    std::set<std::string> scored;
    std::vector<const Answer*> changed;
    for (auto& a : answers) {
      bool late = p.closes_at && a.answered_at >= *p.closes_at;
      bool readable = kind == "free_text" || a.choice.has_value();
      a.points = 0;
      if (!late && readable && scored.insert(a.user_id).second)
        a.points = points_answer + (a.correct.value_or(false) ? points_correct : 0);
      auto was = before.find(a.message_id);
      bool same = was != before.end() && was->second.user_id == a.user_id &&
                  was->second.answered_at == a.answered_at && was->second.choice == a.choice &&
                  was->second.correct == a.correct && was->second.points == a.points;
      if (!same) changed.push_back(&a);  // written only when something changed
    }
    if (changed.empty() && withdrawn.empty()) continue;
    store_.Transaction([&] {
      for (const auto& id : withdrawn) store_.DeleteAnswer(p.id, id);
      for (const Answer* a : changed) store_.UpsertAnswer(*a);
    });
  }
}

std::string Bot::AnswerThread(const Prompt& p) const {
  // Its own thread; for a private one, the conversation replies arrive in: its own thread (a
  // Viva Engage private message), or the person's chat with the bot (Teams).
  if (!p.is_private || p.message_id.empty()) return p.message_id;
  auto poster = posters_.find(p.network);
  if (poster == posters_.end() || !poster->second) return p.message_id;
  return MakeId(p.network, poster->second->ConversationOf(NativeId(p.message_id)));
}

std::vector<Bot::Standing> Bot::Standings(const config::CampaignConfig& c,
                                          const std::string& community) {
  std::vector<Prompt> prompts;  // of the campaign, oldest first
  for (auto& p : store_.AllPrompts())
    if (p.campaign == c.name) prompts.push_back(std::move(p));
  std::map<std::string, int> points;
  // Per prompt of this community: who answered, and whom it was put to (empty: everyone).
  std::vector<std::pair<std::set<std::string>, std::set<std::string>>> answered_here;
  std::string group = MakeId(c.network, community);
  for (const auto& p : prompts) {
    std::set<std::string> who;
    for (const auto& a : store_.AnswersTo(p.id)) {
      if (a.points <= 0) continue;
      points[a.user_id] += a.points;
      who.insert(a.user_id);
    }
    if (p.group_id == group)
      answered_here.emplace_back(std::move(who),
                                 std::set<std::string>(p.audience.begin(), p.audience.end()));
  }
  std::vector<Standing> out;
  for (const auto& [uid, pts] : points) {
    if (store_.OptedOut(uid) != false) continue;  // opted in only
    Standing s;
    s.user_id = uid;
    auto u = store_.GetUser(uid);
    s.name = u ? u->name : uid;
    s.points = pts;
    for (auto it = answered_here.rbegin(); it != answered_here.rend(); ++it) {
      if (!it->second.empty() && !it->second.count(uid)) continue;  // not put to them
      if (!it->first.count(uid)) break;
      ++s.streak;
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const Standing& a, const Standing& b) {
    if (a.points != b.points) return a.points > b.points;
    if (a.streak != b.streak) return a.streak > b.streak;
    return a.name < b.name;
  });
  return out;
}

void Bot::Leaderboards() {
  auto log = Logger("bot");
  Time now = clock_.Now();
  for (const auto& c : cfg_.campaigns) {
    if (!c.leaderboard.enabled || Paused(c)) continue;
    Time from = now - c.catch_up;
    if (auto last = store_.GetCampaignState(c.name).leaderboard_at; last && *last > from)
      from = *last;
    for (auto t = c.leaderboard.schedule.Next(c.tz, from); t && *t <= now;
         t = c.leaderboard.schedule.Next(c.tz, *t)) {
      store_.Transaction([&] {
        std::string why;
        auto at = PostTime(c, *t, &why);
        if (!at) {
          log->info("campaign {}: leaderboard of {} skipped ({})", c.name, FormatIso(*t), why);
        } else {
          for (const auto& community : c.communities) {
            auto standings = Standings(c, community);
            std::string body = "Leaderboard - " + c.name +
                               " (only colleagues who chose to be "
                               "shown here):";
            if (standings.empty()) body += "\nNobody has joined the leaderboard yet.";
            for (size_t i = 0; i < standings.size() && static_cast<int>(i) < c.leaderboard.top; ++i)
              body += "\n" + std::to_string(i + 1) + ". " + standings[i].name + " - " +
                      std::to_string(standings[i].points) + " points, " +
                      std::to_string(standings[i].streak) + " in a row";
            store::OutboxItem item;
            item.key = "leaderboard:" + c.name + ":" + community + ":" + FormatIso(*t);
            item.network = c.network;
            item.group_id = community;
            item.body = body;
            item.due_at = *at;
            store_.EnqueueOutbox(item);
          }
        }
        store_.UpdateCampaignState(c.name,
                                   [&](store::CampaignState& state) { state.leaderboard_at = *t; });
      });
    }
  }
}

bool Bot::EnqueueReply(const Prompt& p, const std::string& key, const std::string& body, Time at) {
  store::OutboxItem item;
  item.key = key;
  item.network = p.network;
  item.group_id = NativeId(p.group_id);
  item.reply_to = NativeId(p.message_id);
  item.body = body;
  item.due_at = at;
  return store_.EnqueueOutbox(item);
}

bool Bot::OptedOut(const std::string& user_id) const {
  return store_.OptedOut(user_id).value_or(false);
}

void Bot::Remind(const std::vector<Prompt>& prompts) {
  Time now = clock_.Now();
  std::optional<std::map<std::string, User>> users;
  std::optional<std::map<std::string, Group>> groups;
  for (const auto& p : prompts) {
    const config::CampaignConfig* c = FindCampaign(p.campaign);
    if (!c || !c->reminders.enabled || !c->reminders.mention || c->reminders.max <= 0) continue;
    if (p.closes_at && now >= *p.closes_at) continue;
    if (p.is_private) continue;  // a private question is not chased
    // Only the latest reminder due: after downtime the ones missed are not sent in a row,
    // and one missed by more than catch_up not at all.
    int k = static_cast<int>(std::min<int64_t>(
        c->reminders.max, (now - p.posted_at) / std::max(Millis{1}, c->reminders.after)));
    for (; k >= 1; k = 0) {
      Time due = p.posted_at + c->reminders.after * k;
      std::string key = "reminder:" + p.id + ":" + std::to_string(k);
      if (store_.GetOutbox(key) || now - due > c->catch_up) continue;
      std::optional<Time> at = PostTimeSeenAt(*c, due, now);
      if (!at || (p.closes_at && *at >= *p.closes_at)) continue;  // quiet until the close
      if (!users) {
        users.emplace();
        for (const auto& u : Users()) (*users)[u.id] = u;
        groups.emplace();
        for (const auto& g : Groups()) (*groups)[g.id] = g;
      }
      std::set<std::string> answered;
      for (const auto& a : store_.AnswersTo(p.id)) answered.insert(a.user_id);
      std::vector<const User*> missing;
      // Those it was addressed to (a cohort's day, a practice round), else its community.
      const std::vector<std::string>* audience = &p.audience;
      if (p.audience.empty()) {
        auto g = groups->find(p.group_id);
        static const std::vector<std::string> kNobody;
        audience = g != groups->end() ? &g->second.members : &kNobody;
      }
      for (const auto& uid : *audience) {
        auto u = users->find(uid);
        if (u == users->end() || u->second.is_bot || u->second.state != "active") continue;
        if (OptedOut(uid)) continue;                      // never named again
        if (!c->InCohort(u->second.joined_at)) continue;  // not in the campaign's cohort
        if (!answered.count(uid)) missing.push_back(&u->second);
      }
      if (missing.empty()) continue;  // everyone has answered: nothing to remind
      std::sort(missing.begin(), missing.end(),
                [](const User* a, const User* b) { return a->id < b->id; });
      std::string body = "Reminder: this question is open until " +
                         FormatLocal(c->tz, p.closes_at.value_or(now)) + " - " +
                         MentionList(missing) + ", we would love to read your answer.";
      if (EnqueueReply(p, key, body, *at)) ++stats_.reminders;
    }
  }
}

void Bot::Feedback(const std::vector<Prompt>& prompts) {
  Time now = clock_.Now();
  std::optional<std::map<std::string, User>> users;
  for (const auto& p : prompts) {
    const config::CampaignConfig* c = FindCampaign(p.campaign);
    if (!c || !c->feedback || !p.closes_at || now < *p.closes_at) continue;
    if (p.is_private) continue;                      // feedback is a reply in a community thread
    if (now - *p.closes_at > c->catch_up) continue;  // closed while we were down: not now
    std::string key = "feedback:" + p.id;
    if (store_.GetOutbox(key)) continue;
    std::optional<Time> at = PostTime(*c, std::max(*p.closes_at, now));
    if (!at) at = std::max(*p.closes_at, now);  // quiet hours skip: it still goes, at once
    const config::StepConfig& step =
        c->steps[static_cast<size_t>(std::max(0, p.step - 1)) % c->steps.size()];
    std::map<std::string, Answer> first = FirstAnswers(p, step.kind, store_.AnswersTo(p.id));
    if (c->answers_public && !users) {
      users.emplace();
      for (const auto& u : Users()) (*users)[u.id] = u;
    }
    auto names = [&](const std::vector<std::string>& ids) {
      std::string out;
      for (const auto& id : ids) {
        auto u = users->find(id);
        out += (out.empty() ? "" : ", ") + (u != users->end() ? u->second.name : id);
      }
      return out;
    };
    size_t n = first.size();
    std::string body = "This question is now closed. ";
    if (step.kind == "choice" || step.kind == "poll") {
      std::vector<std::vector<std::string>> by_option(step.options.size());
      for (const auto& [uid, a] : first) {
        int i = std::toupper(static_cast<unsigned char>((*a.choice)[0])) - 'A';
        if (i >= 0 && i < static_cast<int>(by_option.size())) by_option[i].push_back(uid);
      }
      if (step.kind == "choice" && step.correct) {
        body +=
            "The answer: " + OptionLabel(*step.correct) + ") " + step.options[*step.correct] + ".";
        if (!step.explanation.empty()) body += " " + step.explanation;
        size_t right = by_option[static_cast<size_t>(*step.correct)].size();
        body += "\n" + std::to_string(n) + " answer(s)";
        if (n) body += ", " + std::to_string(right * 100 / n) + "% right";
        body += ".";
      } else {
        body += "Results from " + std::to_string(n) + " answer(s):";
      }
      for (size_t i = 0; i < by_option.size(); ++i) {
        body += "\n" + OptionLabel(static_cast<int>(i)) + ") " + step.options[i] + ": " +
                std::to_string(by_option[i].size());
        if (c->answers_public && !by_option[i].empty()) body += " (" + names(by_option[i]) + ")";
      }
    } else if (step.kind == "rating") {
      double sum = 0;
      for (const auto& [uid, a] : first) sum += std::stod(*a.choice);
      char avg[32];
      std::snprintf(avg, sizeof avg, "%.1f", n ? sum / static_cast<double>(n) : 0.0);
      body += std::to_string(n) + " rating(s)" + (n ? std::string(", on average ") + avg : "") +
              " out of 5.";
    } else {
      body += "Thank you to the " + std::to_string(n) + " colleague(s) who answered" +
              (n ? " - do read each other's answers above." : ".");
    }
    if (EnqueueReply(p, key, body, *at)) ++stats_.feedback;
  }
}

void Bot::Acknowledge(const std::vector<Prompt>& prompts) {
  Time now = clock_.Now();
  auto log = Logger("bot");
  for (const auto& p : prompts) {
    const config::CampaignConfig* c = FindCampaign(p.campaign);
    if (!c || !c->acknowledge) continue;
    if (p.closes_at && now > *p.closes_at + std::chrono::hours{24}) continue;
    auto poster = posters_.find(p.network);
    if (poster == posters_.end() || !poster->second) continue;
    for (const auto& a : store_.AnswersTo(p.id)) {
      if (a.points <= 0) continue;  // only each person's scored answer
      if (store_.Acknowledged(a.message_id)) continue;
      auto s = poster->second->Acknowledge(NativeId(a.message_id));
      if (s.ok()) {
        store_.MarkAcknowledged(a.message_id, now);
        ++stats_.acknowledged;
      } else if (s.error().code == 501 || (s.error().code >= 400 && s.error().code < 500 &&
                                           s.error().code != 429 && s.error().code != 401)) {
        store_.MarkAcknowledged(a.message_id, now, "not possible: " + s.message());  // not again
        log->info("answer {} not acknowledged: {}", a.message_id, s.message());
      }  // otherwise tried again at the next tick
    }
  }
}

std::optional<Time> Bot::NextAfterJoining(const config::CampaignConfig& c, Time after) const {
  std::optional<Time> best;
  std::set<std::string> days;
  for (const auto& u : store_.AllUsers())
    if (u.joined_at && !u.is_bot && u.state == "active" && c.InCohort(u.joined_at))
      days.insert(JoinDay(c, *u.joined_at));
  for (const auto& day : days)
    for (size_t i = 0; i < c.after_joining.size(); ++i) {
      Time t = DayAfterJoining(c, day, static_cast<int>(i));
      if (t > after && (!c.end || t < *c.end) && (!best || t < *best)) best = t;
    }
  return best;
}

std::optional<Time> Bot::NextDue() const {
  Time now = clock_.Now();
  std::optional<Time> best;
  for (const auto& c : cfg_.campaigns) {
    if (Paused(c)) continue;
    if (c.Ends() && StepsPosted(c) >= static_cast<int>(c.steps.size())) continue;  // ended
    auto t = c.relative() ? NextAfterJoining(c, now)
                          : c.schedule.Next(c.tz, std::max(*ScheduleFrom(c, now), now - Millis{1}));
    if (t && (!c.end || *t < *c.end) && (!best || *t < *best)) best = t;
  }
  // The next reminder of an open prompt.
  for (const auto& p : store_.PromptsOpenAfter(now)) {
    const config::CampaignConfig* c = FindCampaign(p.campaign);
    if (!c || !c->reminders.enabled || !c->reminders.mention || p.is_private) continue;
    if (p.closes_at && now >= *p.closes_at) continue;
    for (int k = 1; k <= c->reminders.max; ++k) {
      Time due = p.posted_at + c->reminders.after * k;
      if (due > now && (!p.closes_at || due < *p.closes_at)) {
        if (!best || due < *best) best = due;
        break;
      }
    }
  }
  // A prompt deferred past quiet hours or a holiday waits in the outbox.
  // (Items already due are retried at the daemon's regular ticks.)
  for (const auto& item : store_.UnfinishedOutbox())
    if (item.due_at > now && (!best || item.due_at < *best)) best = item.due_at;
  return best;
}

}  // namespace learnloop::bot
