#include <algorithm>
#include <sstream>

#include "connectors/common/mentions.h"
#include "connectors/teams/keys.h"
#include "connectors/teams/teams_connector.h"
#include "core/json.h"
#include "core/log.h"

namespace learnloop::connectors::teams {

bool TeamsConnector::PushPending() const {
  std::lock_guard lock(push_mu_);
  return !pushed_.empty() || !catch_up_.empty() || !pushed_replies_.empty() ||
         !inbound_messages_.empty() || !inbound_actions_.empty();
}

void TeamsConnector::CatchUp(const std::string& channel, Time since) {
  // Two catch-ups not yet made are one: the later one re-reads what the earlier would.
  auto [it, fresh] = catch_up_.emplace(channel, since);
  if (!fresh) it->second = std::max(it->second, since);
}

bool TeamsConnector::MaintenanceDue() const {
  std::lock_guard lock(push_mu_);
  return !renew_.empty() || !recreate_.empty();
}

std::optional<Time> TeamsConnector::NextMaintenance() const {
  std::optional<Time> next;
  if (MaintenanceDue()) return clock_.Now();
  for (const auto& [channel, team] : team_of_) {
    (void)team;
    auto it = cursors_.find(SubscriptionKey(channel));
    std::optional<Time> expires;
    if (it != cursors_.end() && it->second.find(' ') != std::string::npos)
      expires = ParseIso(it->second.substr(it->second.find(' ') + 1));
    Time due = expires ? *expires - kRenewBefore : clock_.Now();
    if (!next || due < *next) next = due;
  }
  return next;
}

bool TeamsConnector::SubscriptionsLive() const {
  if (MaintenanceDue()) return false;
  std::lock_guard lock(push_mu_);
  if (team_of_.empty()) return false;
  for (const auto& [channel, team] : team_of_) {
    (void)team;
    auto it = cursors_.find(SubscriptionKey(channel));
    if (it == cursors_.end() || it->second.find(' ') == std::string::npos) return false;
    auto expires = ParseIso(it->second.substr(it->second.find(' ') + 1));
    if (!expires || *expires <= clock_.Now()) return false;
  }
  return true;
}

Status TeamsConnector::MaintainSubscriptions(const std::string& public_url) {
  Time now = clock_.Now();
  std::set<std::string> renew_now, recreate_now;
  {
    std::lock_guard lock(push_mu_);
    recreate_now.swap(recreate_);
    if (client_state_.empty()) {
      // A secret of ours that every notification must carry back (§2.12).
      std::random_device rd;
      char buf[33];
      std::snprintf(buf, sizeof buf, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
      client_state_ = buf;
    }
    renew_now.swap(renew_);
  }
  // A subscription Graph removed is forgotten: a new one is made now (no renewal of the removed
  // one is tried), or at the next maintenance if that fails.
  for (const auto& channel : recreate_now) cursors_.erase(SubscriptionKey(channel));
  Status result = Status::Ok();
  for (const auto& [channel, team] : team_of_) {
    std::string id;
    std::optional<Time> expires;
    if (auto it = cursors_.find(SubscriptionKey(channel)); it != cursors_.end()) {
      id = it->second.substr(0, it->second.find(' '));
      if (it->second.find(' ') != std::string::npos)
        expires = ParseIso(it->second.substr(it->second.find(' ') + 1));
    }
    if (!id.empty() && expires && *expires - kRenewBefore > now && !renew_now.count(id)) continue;
    Time until = now + kSubscriptionLife;
    json::Writer when;
    when.BeginObject().Key("expirationDateTime").String(FormatIsoMillis(until)).EndObject();
    if (!id.empty() && expires && *expires > now) {
      http::Request patch;
      patch.method = "PATCH";
      patch.url = base_ + "/subscriptions/" + id;
      patch.body = when.Take();
      auto res = graph_.Send(patch, kGraph);
      if (res.ok() && res->status == 200) {
        cursors_[SubscriptionKey(channel)] = id + " " + FormatIsoMillis(until);
        continue;
      }
      if (!res.ok() || res->status != 404) {
        result =
            Status::Fail("renewing the subscription of channel " + channel + ": " +
                         (res.ok() ? "HTTP " + std::to_string(res->status) : res.error().message));
        continue;
      }
    }
    // Gone or never made: a new subscription, and a catch-up for what came in between (a delta
    // round, and the replies of the threads not read since).
    json::Writer w;
    w.BeginObject().Key("changeType").String("created,updated,deleted");
    w.Key("notificationUrl").String(public_url + net::PathEncode(OwnPath("notify")));
    w.Key("lifecycleNotificationUrl").String(public_url + net::PathEncode(OwnPath("lifecycle")));
    w.Key("resource").String("/teams/" + team + "/channels/" + channel + "/messages");
    w.Key("includeResourceData").Bool(false);
    w.Key("expirationDateTime").String(FormatIsoMillis(until));
    w.Key("clientState").String(client_state_).EndObject();
    http::Request post;
    post.method = "POST";
    post.idempotent = false;  // a second one would double every notification
    post.url = base_ + "/subscriptions";
    post.body = w.Take();
    auto res = graph_.Send(post, kGraph);
    auto v = res.ok() ? json::Parse(res->body) : Result<json::Value>::Fail("");
    if (!res.ok() || res->status != 201 || !v.ok() || !json::GetString(*v, "id")) {
      result = Status::Fail(
          "subscribing to channel " + channel + ": " +
          (res.ok() ? "HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200)
                    : res.error().message));
      continue;
    }
    std::string new_id = *json::GetString(*v, "id");
    cursors_[SubscriptionKey(channel)] = new_id + " " + FormatIsoMillis(until);
    std::lock_guard lock(push_mu_);
    if (!id.empty()) subscription_of_.erase(id);
    subscription_of_[new_id] = channel;
    CatchUp(channel, now - Millis{1});
  }
  return result;
}

net::Reply TeamsConnector::OnPush(const net::Request& r) {
  if (IsActivityPath(r.path)) return OnActivity(r);
  net::Reply rep;
  // The validation handshake: the token comes back as plain text, at once (§2.12).
  if (IsHandshake(r)) {
    rep.content_type = "text/plain";
    rep.body = r.query.at("validationToken");
    return rep;
  }
  auto v = json::Parse(r.body);
  const json::Value* items = v.ok() ? json::Find(*v, "value") : nullptr;
  if (!items || !items->is_array()) {
    rep.status = 400;
    return rep;
  }
  bool lifecycle = r.path == kLifecyclePath || r.path == OwnPath("lifecycle");
  // A request says at most this much in the log, however many items it holds.
  int wrong_state = 0, events_logged = 0;
  std::lock_guard lock(push_mu_);
  for (const auto& item : items->as_array()) {
    // Of a channel of another network (a shared path): not ours to read.
    std::string sub = json::GetString(item, "subscriptionId").value_or("");
    auto known = subscription_of_.find(sub);
    std::string channel = known != subscription_of_.end()
                              ? known->second
                              : ChannelOfResource(json::GetString(item, "resource").value_or(""));
    if (!team_of_.count(channel)) continue;
    // Not from our subscription (no or another clientState): ignored.
    if (client_state_.empty() || json::GetString(item, "clientState") != client_state_) {
      ++wrong_state;
      continue;
    }
    if (!lifecycle) {
      // A reply is read exactly ("…/messages('root')/replies('id')"); a root through the
      // channel's delta round, which brings every root changed since the last one.
      std::string resource = json::GetString(item, "resource").value_or("");
      std::string root = PartOfResource(resource, "messages");
      std::string reply = PartOfResource(resource, "replies");
      if (!root.empty() && !reply.empty())
        pushed_replies_.insert({channel, root, reply});
      else
        pushed_.insert(channel);
      continue;
    }
    std::string event = json::GetString(item, "lifecycleEvent").value_or("");
    if (++events_logged <= 3)
      Logger("connector.teams")->info("channel {}: lifecycle event {}", channel, event);
    if (event == "reauthorizationRequired") {
      renew_.insert(sub);
    } else if (event == "subscriptionRemoved") {
      // Made again at the next tick, then caught up from its creation.
      recreate_.insert(channel);
      subscription_of_.erase(sub);
    } else {
      // missed (or an event this version does not know): what was not told is read again.
      CatchUp(channel, clock_.Now());
    }
  }
  if (wrong_state > 0)
    Logger("connector.teams")
        ->warn("{} notification(s) with a wrong clientState ignored", wrong_state);
  if (events_logged > 3)
    Logger("connector.teams")->info("{} more lifecycle events", events_logged - 3);
  rep.status = 202;
  return rep;
}

std::string TeamsConnector::TakePushed() {
  std::set<std::string> channels;
  std::map<std::string, Time> catch_up;
  std::set<std::array<std::string, 3>> replies;
  std::vector<Message> messages;
  std::vector<CardAction> actions;
  {
    std::lock_guard lock(push_mu_);
    channels.swap(pushed_);
    catch_up.swap(catch_up_);
    replies.swap(pushed_replies_);
    messages.swap(inbound_messages_);
    actions.swap(inbound_actions_);
  }
  json::Writer w;
  w.BeginObject().Key("channels").BeginArray();
  for (const auto& c : channels) w.String(c);
  w.EndArray().Key("catch_up").BeginArray();
  for (const auto& [c, since] : catch_up)
    w.BeginObject()
        .Key("channel")
        .String(c)
        .Key("since")
        .String(FormatIsoMillis(since))
        .EndObject();
  w.EndArray().Key("replies").BeginArray();
  for (const auto& [c, root, reply] : replies)
    w.BeginObject()
        .Key("channel")
        .String(c)
        .Key("root")
        .String(root)
        .Key("reply")
        .String(reply)
        .EndObject();
  w.EndArray().Key("messages").BeginArray();
  for (const auto& m : messages) {
    w.BeginObject().Key("id").String(m.id).Key("thread_id").String(m.thread_id);
    w.Key("reply_to_id").OptString(m.reply_to_id).Key("kind").String(m.kind);
    w.Key("group_id").OptString(m.group_id).Key("author_id").String(m.author_id);
    w.Key("created_at").String(FormatIso(m.created_at)).Key("text").String(m.text);
    w.EndObject();
  }
  w.EndArray().Key("actions").BeginArray();
  for (const auto& a : actions) {
    w.BeginObject().Key("id").String(a.id).Key("message_id").String(a.message_id);
    w.Key("user_id").String(a.user_id).Key("value").String(a.value);
    w.Key("at").String(FormatIso(a.at)).EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

PollStats TeamsConnector::ReadPushed(const std::string& pushed, EventSink& sink) {
  std::set<std::string> channels;
  std::map<std::string, Time> catch_up;
  std::set<std::array<std::string, 3>> replies;
  std::vector<Message> messages;
  std::vector<CardAction> actions;
  PollStats stats;
  auto in = json::Parse(pushed);
  if (!in.ok() || !in->is_object()) {
    stats.errors.push_back("pushed input is not valid: " +
                           (in.ok() ? std::string("not an object") : in.error().message));
    return stats;
  }
  for (const auto& c : json::GetStringArray(*in, "channels").value_or(std::vector<std::string>{}))
    channels.insert(c);
  if (const json::Value* cs = json::Find(*in, "catch_up"); cs && cs->is_array())
    for (const auto& o : cs->as_array()) {
      auto c = json::GetString(o, "channel");
      auto since = ParseIso(json::GetString(o, "since").value_or(""));
      if (c && since) catch_up.emplace(*c, *since);
    }
  if (const json::Value* rs = json::Find(*in, "replies"); rs && rs->is_array())
    for (const auto& o : rs->as_array()) {
      auto c = json::GetString(o, "channel"), root = json::GetString(o, "root"),
           reply = json::GetString(o, "reply");
      if (c && root && reply) replies.insert({*c, *root, *reply});
    }
  if (const json::Value* ms = json::Find(*in, "messages"); ms && ms->is_array()) {
    for (const auto& o : ms->as_array()) {
      Message m;
      m.network = cfg_.name;
      m.id = json::GetString(o, "id").value_or("");
      m.thread_id = json::GetString(o, "thread_id").value_or("");
      m.reply_to_id = json::GetString(o, "reply_to_id");
      m.kind = json::GetString(o, "kind").value_or("post");
      m.group_id = json::GetString(o, "group_id");
      m.author_id = json::GetString(o, "author_id").value_or("");
      m.created_at = ParseIso(json::GetString(o, "created_at").value_or("")).value_or(Time{});
      m.text = json::GetString(o, "text").value_or("");
      messages.push_back(std::move(m));
    }
  }
  if (const json::Value* as = json::Find(*in, "actions"); as && as->is_array()) {
    for (const auto& o : as->as_array()) {
      CardAction a;
      a.network = cfg_.name;
      a.id = json::GetString(o, "id").value_or("");
      a.message_id = json::GetString(o, "message_id").value_or("");
      a.user_id = json::GetString(o, "user_id").value_or("");
      a.value = json::GetString(o, "value").value_or("{}");
      a.at = ParseIso(json::GetString(o, "at").value_or("")).value_or(Time{});
      actions.push_back(std::move(a));
    }
  }
  // What the bot was told comes first; a delta round may bring the same messages again, in
  // full (reactions, edits), under the same ids.
  for (const auto& m : messages) {
    sink.OnMessage(m);
    ++stats.messages;
  }
  for (const auto& a : actions) sink.OnCardAction(a);
  for (const auto& [channel, since] : catch_up) channels.insert(channel);
  for (const auto& channel : channels) {
    if (!team_of_.count(channel)) continue;
    auto s = DeltaRound(channel, sink, stats);
    if (!s.ok()) {
      stats.errors.push_back(s.message());
      std::lock_guard lock(push_mu_);
      pushed_.insert(channel);  // tried again at the next tick
    }
  }
  // A catch-up also reads the replies of the recent threads not read since (a reply does not
  // reliably bring its root back into the delta round).
  for (const auto& [channel, since] : catch_up) {
    if (!team_of_.count(channel)) continue;
    int before = stats.requests;
    ReadThreads(channel, since, sink, stats);
    Logger("connector.teams")
        ->info("channel {}: caught up since {} ({} requests)", channel, FormatIsoMillis(since),
               stats.requests - before);
  }
  for (const auto& [channel, root, reply] : replies) {
    if (!team_of_.count(channel)) continue;
    auto s = ReadReply(channel, root, reply, sink, stats);
    if (!s.ok()) {
      stats.errors.push_back(s.message());
      std::lock_guard lock(push_mu_);
      pushed_replies_.insert({channel, root, reply});  // tried again at the next tick
    }
  }
  return stats;
}

}  // namespace learnloop::connectors::teams
