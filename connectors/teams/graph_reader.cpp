#include <algorithm>
#include <sstream>

#include "connectors/common/mentions.h"
#include "connectors/teams/keys.h"
#include "connectors/teams/teams_connector.h"
#include "core/json.h"
#include "core/log.h"

namespace learnloop::connectors::teams {

namespace {

bool IsStaleDeltaToken(const http::Response& r) {
  if (r.status == 410) return true;
  if (r.status != 400) return false;
  return r.body.find("resyncRequired") != std::string::npos ||
         r.body.find("syncStateNotFound") != std::string::npos;
}

}  // namespace

Status TeamsConnector::SyncDirectory(EventSink& sink) {
  User self;
  self.id = *SelfUserId();
  self.network = cfg_.name;
  self.name = "learnloop";
  self.is_bot = true;
  sink.OnUser(self);
  std::set<std::string> wanted(s_.channels.begin(), s_.channels.end());
  std::map<std::string, std::string> found;  // channel → team
  for (const auto& team : s_.teams) {
    // Members: a refusal (a missing permission, say) leaves them unknown; the channels are
    // still read.
    std::optional<std::vector<std::string>> members = std::vector<std::string>{};
    int pages = 0;
    for (std::string url = base_ + "/teams/" + team + "/members"; !url.empty();) {
      if (++pages > kMaxPagesPerPoll) {
        // A list that never ends: what came is kept, the rest is said.
        degraded_.Note("members " + team, "the members of team " + team + " ran over " +
                                              std::to_string(kMaxPagesPerPoll) + " pages");
        break;
      }
      auto got = GetJson(url);
      if (!got.ok()) {
        if (got.error().code == 401) return got.status();
        degraded_.Note("members " + team,
                       "the members of team " + team + " could not be read (" +
                           got.error().message +
                           "): its channels' membership is unknown, their messages "
                           "are read");
        members.reset();
        break;
      }
      const json::Value& v = *got;
      if (const json::Value* value = json::Find(v, "value"); value && value->is_array())
        for (const auto& m : value->as_array()) {
          auto uid = json::GetString(m, "userId");
          if (!uid) continue;
          User u;
          u.id = MakeId(cfg_.name, *uid);
          u.network = cfg_.name;
          u.name = json::GetString(m, "displayName").value_or("");
          u.email = json::GetString(m, "email");
          sink.OnUser(u);
          members->push_back(u.id);
        }
      std::string next = json::GetString(v, "@odata.nextLink").value_or("");
      url = next == url ? "" : next;  // a page that names itself next ends the list
    }
    if (members && pages <= kMaxPagesPerPoll) degraded_.Clear("members " + team);
    auto got = GetJson(base_ + "/teams/" + team + "/channels");
    if (!got.ok()) {
      if (got.error().code == 401) return got.status();
      // The channels known before are still read.
      degraded_.Note("channels " + team, "the channels of team " + team + " could not be listed (" +
                                             got.error().message +
                                             "); those known before are read");
      for (const auto& [channel, t] : team_of_)
        if (t == team) found[channel] = team;
      continue;
    }
    degraded_.Clear("channels " + team);
    const json::Value& v = *got;
    if (const json::Value* value = json::Find(v, "value"); value && value->is_array())
      for (const auto& c : value->as_array()) {
        auto id = json::GetString(c, "id");
        if (!id || (!wanted.empty() && !wanted.count(*id))) continue;
        found[*id] = team;
        Group g;
        g.id = MakeId(cfg_.name, *id);
        g.network = cfg_.name;
        g.name = json::GetString(c, "displayName").value_or(*id);
        g.kind = "channel";
        g.members_known = members.has_value();
        if (members) g.members = *members;  // a standard channel has the team's members
        sink.OnGroup(g);
      }
  }
  std::lock_guard lock(push_mu_);  // OnPush reads it on the listener's threads
  team_of_ = std::move(found);
  return Status::Ok();
}

void TeamsConnector::Emit(const std::string& channel, const std::vector<ParsedMessage>& messages,
                          EventSink& sink, PollStats& stats) {
  auto& threads = threads_[channel];
  for (const auto& p : messages) {
    sink.OnMessage(p.message);
    ++stats.messages;
    // The complete set, every kind (emoji and custom ones too): one taken back disappears.
    sink.OnReactionSnapshot(p.message.id, "", p.reactions);
    // The thread is followed while it is recent (a reply stands for its root until that is seen).
    std::string root = GraphMessageId(NativeId(p.message.thread_id));
    Time at = std::min(p.message.created_at, clock_.Now() + kFutureMargin);
    auto [it, fresh] = threads.emplace(root, at);
    if (!fresh && !p.message.reply_to_id) it->second = at;
  }
}

Time TeamsConnector::ThreadsReadAt(const std::string& channel) const {
  if (auto it = cursors_.find(ThreadsReadKey(channel)); it != cursors_.end())
    if (auto ms = json::ParseInt64(it->second)) return std::min(clock_.Now(), FromUnixMillis(*ms));
  return clock_.Now();
}

void TeamsConnector::SaveThreads(const std::string& channel) {
  // Only the threads recent when their replies were last all read are kept (followed prompt
  // threads are read anyway): after days down, those of before the gap are still read once.
  Time from = ThreadsReadAt(channel) - s_.refresh_window;
  auto& threads = threads_[channel];
  std::string text;
  for (auto it = threads.begin(); it != threads.end();) {
    if (it->second < from) {
      replies_read_.erase(MessageNativeId(channel, it->first));
      it = threads.erase(it);
      continue;
    }
    text += (text.empty() ? "" : ",") + it->first + "@" + std::to_string(ToUnixMillis(it->second));
    ++it;
  }
  cursors_[ThreadsKey(channel)] = text;
}

Status TeamsConnector::ReadReplies(const std::string& channel, const std::string& url,
                                   EventSink& sink, PollStats& stats) {
  int pages = 0;
  for (std::string next = url; !next.empty();) {
    if (++pages > kMaxPagesPerPoll)
      return Status::Fail("replies of a thread in channel " + channel + ": more than " +
                          std::to_string(kMaxPagesPerPoll) + " pages");
    auto res = Get(next, &stats);
    if (!res.ok()) return res.status();
    if (res->status == 404) return Status::Ok();  // the thread is gone
    if (res->status != 200) return Status::Fail("GET replies: HTTP " + std::to_string(res->status));
    auto page = ParseMessagePage(res->body, cfg_.name, channel);
    if (!page.ok()) return page.status();
    Emit(channel, page->messages, sink, stats);
    if (page->next_link && *page->next_link == next)
      return Status::Fail("replies of a thread in channel " + channel +
                          ": a page names itself next");
    next = page->next_link.value_or("");
  }
  return Status::Ok();
}

Status TeamsConnector::ReadReply(const std::string& channel, const std::string& root,
                                 const std::string& reply, EventSink& sink, PollStats& stats) {
  std::string url = ChannelUrl(channel) + "/messages/" + root + "/replies/" + reply;
  auto res = Get(url, &stats);
  if (!res.ok()) return res.status();
  if (res->status == 404) return Status::Ok();  // gone again
  if (res->status != 200) return Status::Fail("GET reply: HTTP " + std::to_string(res->status));
  auto one = ParseOneMessage(res->body, cfg_.name, channel);
  if (one.ok()) Emit(channel, {*one}, sink, stats);  // else not a person's message: skipped
  return Status::Ok();
}

Status TeamsConnector::DeltaRound(const std::string& channel, EventSink& sink, PollStats& stats) {
  Time round_start = clock_.Now();
  std::string first = ChannelUrl(channel) + "/messages/delta?$top=" + std::to_string(kPageSize) +
                      "&$expand=replies";
  auto fresh = [&](std::optional<Time> since) {
    return since ? first + "&$filter=" +
                       http::UrlEncode("lastModifiedDateTime gt " + FormatIsoMillis(*since))
                 : first;
  };
  std::string url;
  if (auto it = cursors_.find(DeltaKey(channel)); it != cursors_.end() && !it->second.empty())
    url = it->second;  // the stored link, verbatim
  else
    url = fresh(cfg_.backfill_since);
  bool restarted = false;
  int pages = 0;
  while (!url.empty()) {
    if (++pages > kMaxPagesPerPoll) {
      // Enough for one poll: the next goes on from this page (a next link continues a round
      // as a delta link does).
      Logger("connector.teams")
          ->warn("channel {}: {} delta pages in one poll; going on at the next", channel,
                 kMaxPagesPerPoll);
      cursors_[DeltaKey(channel)] = url;
      return Status::Ok();
    }
    auto res = Get(url, &stats);
    if (!res.ok()) return res.status();
    if (IsStaleDeltaToken(*res) && !restarted) {
      // The delta token expired: a new round from shortly before the last good one.
      std::optional<Time> since;
      if (auto it = cursors_.find(RoundKey(channel)); it != cursors_.end())
        if (auto t = ParseIso(it->second)) since = *t - kResyncOverlap;
      Logger("connector.teams")
          ->info("channel {}: delta token expired, reading changes since {}", channel,
                 since ? FormatIso(*since) : std::string("the start"));
      url = fresh(since ? since : cfg_.backfill_since);
      restarted = true;
      continue;
    }
    if (res->status != 200)
      return Status::Fail("GET " + url.substr(0, url.find('?')) + ": HTTP " +
                          std::to_string(res->status));
    auto page = ParseMessagePage(res->body, cfg_.name, channel);
    if (!page.ok()) return page.status();
    Emit(channel, page->messages, sink, stats);
    if (!page->messages.empty()) stats.advanced = true;
    for (const auto& p : page->messages) {
      if (p.replies_next) {
        auto s = ReadReplies(channel, *p.replies_next, sink, stats);
        if (!s.ok()) return s;
      }
      // A root comes with its replies (expanded): the thread has just been read.
      if (!p.message.reply_to_id) replies_read_[NativeId(p.message.id)] = clock_.Now();
    }
    if (page->delta_link) {
      cursors_[DeltaKey(channel)] = *page->delta_link;
      cursors_[RoundKey(channel)] = FormatIsoMillis(round_start);
      SaveThreads(channel);  // the roots it brought, for the replies read later
      return Status::Ok();
    }
    if (page->next_link && *page->next_link == url)
      return Status::Fail("channel " + channel + ": a delta page names itself next");
    url = page->next_link.value_or("");
  }
  return Status::Fail("channel " + channel + ": a delta page with neither next nor delta link");
}

std::string TeamsConnector::RepliesUrl(const std::string& thread) const {
  auto slash = thread.rfind('/');
  return ChannelUrl(thread.substr(0, slash)) + "/messages/" + thread.substr(slash + 1) +
         "/replies?$top=" + std::to_string(kPageSize);
}

void TeamsConnector::ReadThreads(const std::string& channel, Time read_since, EventSink& sink,
                                 PollStats& stats) {
  // The threads recent when their replies were last all read, not only those recent now: a
  // reply made just before a long downtime, to a thread that left the window meanwhile, is
  // read all the same (its notification was lost with the daemon down).
  const Time started = clock_.Now(), last = ThreadsReadAt(channel);
  read_since = std::min(read_since, last);
  std::set<std::string> roots;
  for (const auto& [root, created] : threads_[channel])
    if (created >= last - s_.refresh_window) roots.insert(root);
  for (const auto& thread : follow_) {
    auto slash = thread.rfind('/');
    if (slash != std::string::npos && thread.substr(0, slash) == channel)
      roots.insert(thread.substr(slash + 1));
  }
  bool all_read = true;
  for (const auto& root : roots) {
    std::string thread = MessageNativeId(channel, root);
    if (auto it = replies_read_.find(thread); it != replies_read_.end() && it->second > read_since)
      continue;
    Time at = clock_.Now();
    auto s = ReadReplies(channel, RepliesUrl(thread), sink, stats);
    if (!s.ok()) {
      stats.errors.push_back(s.message());
      all_read = false;
      continue;
    }
    replies_read_[thread] = at;
  }
  if (all_read) cursors_[ThreadsReadKey(channel)] = std::to_string(ToUnixMillis(started));
  SaveThreads(channel);
}

PollStats TeamsConnector::Poll(EventSink& sink, bool refresh_now) {
  PollStats stats;
  int64_t done = 0, total = static_cast<int64_t>(team_of_.size());
  for (const auto& [channel, team] : team_of_) {
    (void)team;
    sink.OnProgress("channel", ++done, total);
    auto s = DeltaRound(channel, sink, stats);
    if (!s.ok()) stats.errors.push_back(s.message());
  }
  // Replies of every recent thread, whether or not it came back in the delta round (the
  // reference does not promise that a reply brings its root back, §2.6); each thread at most
  // once a poll interval (or, asked to refresh, unless read just now).
  Time since = clock_.Now() - (refresh_now ? Millis{1} : cfg_.poll_interval);
  for (const auto& [channel, team] : team_of_) {
    (void)team;
    ReadThreads(channel, since, sink, stats);
  }
  return stats;
}

}  // namespace learnloop::connectors::teams
