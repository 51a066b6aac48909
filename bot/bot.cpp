#include "bot/bot.h"

#include <cstdio>
#include <set>

#include "core/json.h"
#include "core/log.h"

namespace learnloop::bot {

namespace {
std::string CursorKey(const std::string& campaign, const char* what) {
  return "campaign:" + campaign + ":" + what;
}
}  // namespace

Bot::Bot(const config::Config& cfg, store::Store& store, Clock& clock,
         std::map<std::string, connectors::Poster*> posters)
    : cfg_(cfg), store_(store), clock_(clock), posters_(std::move(posters)) {}

std::string Bot::MarkerFor(const std::string& key) {
  // FNV-1a: stable across builds and platforms, unlike std::hash.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "ll-%012llx",
                static_cast<unsigned long long>(h & 0xffffffffffffull));
  return buf;
}

std::string Bot::PromptBody(const config::CampaignConfig& c, const std::string& text, Time closes,
                            const std::string& marker) {
  return text + "\n\nReply in this thread to answer - open until " + FormatLocal(c.tz, closes) +
         ". (" + c.name + " · " + marker + ")";
}

std::optional<Time> Bot::ScheduleFrom(const config::CampaignConfig& c, Time now) const {
  Time from = now - c.catch_up;
  if (c.start && *c.start - Millis{1} > from) from = *c.start - Millis{1};
  if (auto last = store_.GetCursor(CursorKey(c.name, "last")))
    if (auto t = ParseIso(*last); t && *t > from) from = *t;
  return from;
}

void Bot::Schedule() {
  auto log = Logger("bot");
  Time now = clock_.Now();
  for (const auto& c : cfg_.campaigns) {
    if (c.paused) continue;
    Time from = *ScheduleFrom(c, now);
    for (auto t = c.schedule.Next(c.tz, from); t && *t <= now; t = c.schedule.Next(c.tz, *t)) {
      if (c.end && *t >= *c.end) break;
      store_.Transaction([&] {
        if (now - *t > c.catch_up) {
          log->warn("campaign {}: prompt of {} skipped, more than {} min late", c.name,
                    FormatIso(*t),
                    std::chrono::duration_cast<std::chrono::minutes>(c.catch_up).count());
        } else {
          auto step_text = store_.GetCursor(CursorKey(c.name, "steps")).value_or("0");
          int step = std::stoi(step_text);
          std::string key = "prompt:" + c.name + ":" + FormatIso(*t);
          Prompt p;
          p.id = key;
          p.campaign = c.name;
          p.step = step + 1;
          p.network = c.network;
          p.group_id = MakeId(c.network, c.community);
          p.posted_at = *t;
          p.closes_at = *t + c.open_for;
          store::OutboxItem item;
          item.key = key;
          item.network = c.network;
          item.group_id = c.community;
          item.body = c.prompts[step % c.prompts.size()];
          item.due_at = *t;
          if (store_.EnqueueOutbox(item)) {
            store_.UpsertPrompt(p);
            store_.SetCursor(CursorKey(c.name, "steps"), std::to_string(step + 1));
            ++stats_.enqueued;
          }
        }
        store_.SetCursor(CursorKey(c.name, "last"), FormatIso(*t));
      });
    }
  }
}

void Bot::Dispatch() {
  auto log = Logger("bot");
  for (const auto& item : store_.UnfinishedOutbox()) {
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
    const config::CampaignConfig* campaign = nullptr;
    if (prompt)
      for (const auto& c : cfg_.campaigns)
        if (c.name == prompt->campaign) campaign = &c;
    connectors::PostRequest req;
    req.group_id = item.group_id;
    req.reply_to = item.reply_to;
    req.marker = MarkerFor(item.key);
    Millis open_for = campaign ? campaign->open_for : Millis{std::chrono::hours{72}};
    req.body = campaign ? PromptBody(*campaign, item.body, now + open_for, req.marker)
                        : item.body + " (" + req.marker + ")";

    auto record = [&](const connectors::Posted& posted) {
      store_.Transaction([&] {
        store_.MarkOutboxPosted(item.key, posted.native_id, posted.created_at);
        if (prompt) {
          Prompt p = *prompt;
          p.message_id = MakeId(item.network, posted.native_id);
          p.posted_at = posted.created_at;
          p.closes_at = posted.created_at + open_for;
          store_.UpsertPrompt(p);
        }
      });
    };

    if (item.state == "sending") {
      // The last attempt may have reached the ESN before we could record it.
      auto found = poster.FindPosted(req, item.due_at - std::chrono::minutes{5});
      if (!found.ok()) {
        log->warn("outbox {}: cannot check for an earlier post: {}", item.key,
                  found.error().message);
        continue;
      }
      if (*found) {
        record(**found);
        ++stats_.reconciled;
        continue;
      }
    }
    store_.MarkOutboxSending(item.key);
    auto res = poster.Post(req);
    if (res.ok()) {
      record(*res);
      ++stats_.posted;
      log->info("posted {} as {}", item.key, res->native_id);
    } else {
      int code = res.error().code;
      bool final = code >= 400 && code < 500 && code != 429 && code != 401;
      store_.MarkOutboxFailed(item.key, res.error().message, final);
      ++stats_.failed;
      log->warn("outbox {}: {}{}", item.key, res.error().message,
                final ? " (given up)" : " (will retry)");
    }
  }
}

void Bot::RecognizeAnswers() {
  Time now = clock_.Now();
  std::set<std::string> bots;
  for (const auto& u : store_.AllUsers())
    if (u.is_bot) bots.insert(u.id);
  for (const auto& p : store_.AllPrompts()) {
    // Replies written before the close may be fetched a little later: look a while past it.
    if (p.closes_at && now > *p.closes_at + std::chrono::hours{24 * 7}) continue;
    auto answer = [&](const std::string& user, const std::string& id, Time at,
                      std::optional<std::string> choice) {
      Answer a;
      a.prompt_id = p.id;
      a.user_id = user;
      a.message_id = id;
      a.answered_at = at;
      a.choice = std::move(choice);
      a.points = 1;
      store_.UpsertAnswer(a);
    };
    store_.Transaction([&] {
      for (const auto& m : store_.MessagesInThread(p.message_id)) {
        if (m.deleted) {  // a deleted reply withdraws its answer
          store_.DeleteAnswer(p.id, m.id);
          continue;
        }
        if (m.id == p.message_id || bots.count(m.author_id)) continue;
        if (m.created_at < p.posted_at) continue;
        if (p.closes_at && m.created_at >= *p.closes_at) continue;
        answer(m.author_id, m.id, m.created_at, std::nullopt);
      }
      // Buttons pressed on the prompt's card are answers too; the choice is the button's
      // "choice" (or its whole data).
      for (const auto& ca : store_.CardActionsOn(p.message_id)) {
        if (bots.count(ca.user_id) || ca.at < p.posted_at) continue;
        if (p.closes_at && ca.at >= *p.closes_at) continue;
        auto data = json::Parse(ca.value);
        auto choice = data.ok() ? json::GetString(*data, "choice") : std::nullopt;
        answer(ca.user_id, ca.id, ca.at, choice.value_or(ca.value));
      }
    });
  }
}

std::optional<Time> Bot::NextDue() const {
  Time now = clock_.Now();
  std::optional<Time> best;
  for (const auto& c : cfg_.campaigns) {
    if (c.paused) continue;
    auto t = c.schedule.Next(c.tz, std::max(*ScheduleFrom(c, now), now - Millis{1}));
    if (t && (!c.end || *t < *c.end) && (!best || *t < *best)) best = t;
  }
  return best;
}

}  // namespace learnloop::bot
