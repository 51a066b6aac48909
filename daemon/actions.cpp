#include "daemon/actions.h"

#include "bot/bot.h"
#include "connectors/common/archive.h"

namespace learnloop::daemon {

namespace {

// The people a command names: by learnloop id or by email address.
Result<std::vector<User>> FindPeople(store::AnalyticsReader& store, const std::string& who) {
  std::vector<User> found;
  LL_ASSIGN_OR_RETURN(auto users, store.AllUsers());
  for (const auto& u : users)
    if (u.id == who || (u.email && *u.email == who)) found.push_back(u);
  return found;
}

// The store could not do it: the caller may try again.
ActionOutcome StoreFailed(const Error& e) { return {503, "the store: " + e.message, ""}; }

ActionOutcome Failed(int status, std::string why) { return {status, std::move(why), ""}; }

}  // namespace

ActionOutcome CampaignAction(const config::Config& cfg, store::Store& store, Clock& clock,
                             const std::string& action, const std::string& name) {
  if (action != "pause" && action != "resume" && action != "skip" && action != "post-now")
    return Failed(400, "unknown action '" + action + "' (pause, resume, skip, post-now)");
  const config::CampaignConfig* c = nullptr;
  for (const auto& x : cfg.campaigns)
    if (x.name == name) c = &x;
  if (!c) return Failed(404, "no campaign named '" + name + "'");
  bot::Bot b(cfg, store, clock, {});
  if (action == "pause" || action == "resume") {
    auto s = b.SetPaused(name, action == "pause");
    if (!s.ok()) return Failed(409, s.message());
    return {200, "campaign " + name + (action == "pause" ? " paused" : " resumed"), ""};
  }
  if (action == "skip") {
    auto t = b.SkipNext(name);
    if (!t.ok()) return Failed(409, t.error().message);
    return {200,
            "campaign " + name + ": the prompt of " + FormatLocal(c->tz, *t) + " (" +
                FormatIso(*t) + ") will not be posted",
            ""};
  }
  auto key = b.PostNow(name);
  if (!key.ok()) return Failed(409, key.error().message);
  return {200, "campaign " + name + ": " + *key + " queued, posted at the daemon's next tick", ""};
}

ActionOutcome PeopleAction(store::Store& store, const std::string& action, const std::string& who) {
  if (action != "opt-out" && action != "opt-in")
    return Failed(400, "unknown action '" + action + "' (opt-out, opt-in)");
  auto people = FindPeople(store, who);
  if (!people.ok()) return StoreFailed(people.error());
  const auto& found = *people;
  if (found.empty()) return Failed(404, "nobody in the store is '" + who + "'");
  bool out = action == "opt-out";
  ActionOutcome o;
  for (const auto& u : found) {
    if (auto s = bot::Bot::SetOptOut(store, u.id, out); !s.ok()) return StoreFailed(s.error());
    if (!o.message.empty()) o.message += "\n";
    o.message += u.id + (out ? " opted out: never named in reminders or leaderboards"
                             : " opted in: shown on the leaderboards of campaigns that post one");
  }
  return o;
}

ActionOutcome Forget(const config::Config& cfg, store::Store& store, Clock& clock,
                     const std::string& who) {
  auto people = FindPeople(store, who);
  if (!people.ok()) return StoreFailed(people.error());
  auto found = std::move(*people);
  if (found.empty() && who.find(':') != std::string::npos)
    found.push_back(User{who, "", "", {}, {}, "", false, {}});  // only traces left
  if (found.empty()) return Failed(404, "nobody in the store is '" + who + "'");
  ActionOutcome o;
  auto line = [&](const std::string& l) { o.message += (o.message.empty() ? "" : "\n") + l; };
  for (const auto& u : found) {
    auto forgot = store.ForgetUser(u.id, clock.Now());
    if (!forgot.ok()) return StoreFailed(forgot.error());
    const auto& n = *forgot;
    line(u.id + " forgotten: " + std::to_string(n.messages) + " message(s), " +
         std::to_string(n.reactions) + " reaction(s), " + std::to_string(n.answers) +
         " answer(s), " + std::to_string(n.memberships) + " membership(s), " +
         std::to_string(n.mentions) + " mention(s) by others");
    for (const auto& net : cfg.networks) {
      if (net.archive.empty() || u.id.rfind(net.name + ":", 0) != 0) continue;
      auto r = connectors::archive::Forget(net.archive, net.name, NativeId(u.id),
                                           {u.name, u.email.value_or("")});
      if (!r.ok()) return Failed(500, "archive of " + net.name + ": " + r.error().message);
      line("  archive of " + net.name + ": " + std::to_string(*r) + " file(s) rewritten");
    }
  }
  // Deleted rows linger in free pages and in the log until both are rewritten.
  auto compacted = store.Compact();
  if (!compacted.ok())
    o.warning = "the store could not be rewritten without the erased data (" +
                compacted.error().message + "); forget again to try once more";
  else if (!*compacted)
    o.warning =
        "the store's log is in use by another connection (learnloop run?); it still holds "
        "erased data until that process checkpoints it - forget again once it is stopped";
  return o;
}

}  // namespace learnloop::daemon
