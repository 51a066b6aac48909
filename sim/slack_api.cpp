#include "sim/slack_api.h"

#include <algorithm>

#include "core/crypto.h"
#include "core/json.h"

namespace learnloop::sim {

namespace {

SimReply Answer(std::string body) {
  SimReply r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

// A method error: HTTP 200 with ok:false (reference §4).
SimReply Fail(const std::string& error) {
  return Answer(R"({"ok":false,"error":")" + error + "\"}");
}

std::string UserId(int64_t person) { return "U" + std::to_string(person); }
std::string ChannelId(const Community& c) { return "C" + std::to_string(c.id); }

// What a post's text says as the simulated world keeps texts: Slack's escapes undone.
std::string Unescape(std::string s) {
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
  }
  return s;
}

}  // namespace

std::string SlackApi::Ts(const Msg& m) {
  int64_t ms = std::chrono::duration_cast<Millis>(m.created_at.time_since_epoch()).count();
  int64_t micros = (ms % 1000) * 1000 + m.id % 1000;
  std::string frac = std::to_string(micros);
  return std::to_string(ms / 1000) + "." + std::string(6 - frac.size(), '0') + frac;
}

std::string SlackApi::Param(const SimRequest& r, const std::string& key) const {
  if (auto it = r.query.find(key); it != r.query.end()) return it->second;
  if (r.body.empty()) return "";
  if (r.body.front() == '{') {
    auto v = json::Parse(r.body);
    if (!v.ok()) return "";
    if (auto s = json::GetString(*v, key.c_str())) return *s;
    return "";
  }
  auto form = ParseForm(r.body);
  auto it = form.find(key);
  return it == form.end() ? "" : it->second;
}

const Community* SlackApi::Channel(const std::string& id) const {
  if (id.size() < 2 || id[0] != 'C') return nullptr;
  auto n = json::ParseInt64(id.substr(1));
  const Community* c = n ? world_.FindCommunity(*n) : nullptr;
  if (!c || c->IsChannel() || c->company_wide) return nullptr;
  return c;
}

std::optional<size_t> SlackApi::FindTs(const Community& c, const std::string& ts) const {
  for (size_t i : world_.InGroup(c.id))
    if (Ts(world_.messages()[i]) == ts) return i;
  return std::nullopt;
}

std::string SlackApi::Cursor(size_t offset) {
  return crypto::Base64UrlEncode("next:" + std::to_string(offset));
}

std::pair<size_t, size_t> SlackApi::Page(const SimRequest& r, size_t total, size_t max_limit) {
  size_t limit = 100;
  if (auto l = r.query.find("limit"); l != r.query.end())
    if (auto n = json::ParseInt64(l->second); n && *n > 0)
      limit = std::min<size_t>(static_cast<size_t>(*n), max_limit);
  size_t offset = 0;
  if (auto c = r.query.find("cursor"); c != r.query.end() && !c->second.empty())
    if (auto text = crypto::Base64UrlDecode(c->second); text && text->rfind("next:", 0) == 0)
      if (auto n = json::ParseInt64(text->substr(5))) offset = static_cast<size_t>(*n);
  // Sometimes fewer than asked although more exist (reference §4.1).
  if (limit > 3 && offset % 7 == 3) limit -= 2;
  return {std::min(offset, total), std::min(total, offset + limit)};
}

std::optional<SimReply> SlackApi::Limit(const std::string& method) {
  int per_minute = opt_.restricted ? 1 : opt_.tier3_per_minute;
  auto& q = calls_[method];
  Time now = world_.Now();
  while (!q.empty() && q.front() <= now - std::chrono::minutes{1}) q.pop_front();
  if (static_cast<int>(q.size()) >= per_minute) {
    ++world_.stats().throttled;
    ++world_.stats().violations;
    SimReply r;
    r.status = 429;
    r.body = R"({"ok":false,"error":"ratelimited"})";
    auto wait = std::chrono::ceil<std::chrono::seconds>(q.front() + std::chrono::minutes{1} - now);
    r.headers.push_back({"Retry-After", std::to_string(std::max<int64_t>(1, wait.count()))});
    return r;
  }
  q.push_back(now);
  return std::nullopt;
}

void SlackApi::WriteMessage(json::Writer& w, const Msg& m) const {
  const Msg& root = world_.messages()[m.thread];
  bool reply = m.parent != SIZE_MAX;
  w.BeginObject().Key("type").String("message");
  if (m.deleted) {
    // A parent deleted while it has replies stays as a tombstone.
    w.Key("subtype").String("tombstone").Key("user").String("USLACKBOT");
    w.Key("text").String("This message was deleted.");
  } else {
    w.Key("user").String(UserId(m.sender)).Key("text").String(world_.Text(m));
    if (m.by_bot) w.Key("bot_id").String("B" + std::to_string(m.sender));
  }
  w.Key("ts").String(Ts(m));
  if (m.edited_at && !m.deleted) {
    w.Key("edited").BeginObject().Key("user").String(UserId(m.sender));
    Msg when = m;
    when.created_at = *m.edited_at;
    w.Key("ts").String(Ts(when)).EndObject();
  }
  if (reply) {
    w.Key("thread_ts").String(Ts(root)).Key("parent_user_id").String(UserId(root.sender));
  } else {
    int64_t replies = 0;
    const Msg* latest = nullptr;
    for (size_t i : world_.InThread(m.id)) {
      const Msg& r = world_.messages()[i];
      if (r.parent == SIZE_MAX || r.deleted || r.system) continue;
      ++replies;
      if (!latest || r.created_at > latest->created_at) latest = &r;
    }
    if (replies) {
      w.Key("thread_ts").String(Ts(m)).Key("reply_count").Int(replies);
      w.Key("latest_reply").String(Ts(*latest));
    }
  }
  if (!m.liked_by.empty() && !m.deleted) {
    w.Key("reactions").BeginArray().BeginObject().Key("name").String("+1");
    w.Key("count").Int(static_cast<int64_t>(m.liked_by.size())).Key("users").BeginArray();
    for (int64_t u : m.liked_by) w.String(UserId(u));
    w.EndArray().EndObject().EndArray();
  }
  w.EndObject();
}

SimReply SlackApi::History(const SimRequest& r, const Community& c) {
  if (auto refused = Limit("conversations.history")) return *refused;
  std::string oldest = Param(r, "oldest"), latest = Param(r, "latest");
  bool inclusive = Param(r, "inclusive") == "true" || Param(r, "inclusive") == "1";
  auto after = [&](const std::string& a, const std::string& b) {
    return std::stod(a) > std::stod(b) || (inclusive && a == b);
  };
  // Top-level messages (and deleted parents with replies), newest first.
  std::vector<size_t> shown;
  for (size_t i : world_.InGroup(c.id)) {
    const Msg& m = world_.messages()[i];
    if (m.system || m.parent != SIZE_MAX) continue;
    if (m.deleted && world_.InThread(m.id).size() <= 1) continue;
    std::string ts = Ts(m);
    if (!oldest.empty() && !after(ts, oldest)) continue;
    if (!latest.empty() && !after(latest, ts) && !(inclusive && ts == latest)) continue;
    shown.push_back(i);
  }
  std::reverse(shown.begin(), shown.end());
  auto [from, to] = Page(r, shown.size(), opt_.restricted ? 15 : 999);
  json::Writer w;
  w.BeginObject().Key("ok").Bool(true).Key("messages").BeginArray();
  for (size_t k = from; k < to; ++k) WriteMessage(w, world_.messages()[shown[k]]);
  w.EndArray().Key("has_more").Bool(to < shown.size());
  w.Key("response_metadata").BeginObject().Key("next_cursor");
  w.String(to < shown.size() ? Cursor(to) : "").EndObject().EndObject();
  return Answer(w.Take());
}

SimReply SlackApi::Replies(const SimRequest& r, const Community& c) {
  if (auto refused = Limit("conversations.replies")) return *refused;
  auto parent = FindTs(c, Param(r, "ts"));
  if (!parent) return Fail("thread_not_found");
  const Msg& root = world_.messages()[world_.messages()[*parent].thread];
  std::string oldest = Param(r, "oldest");
  // The parent first, always; then the replies after `oldest`, oldest first.
  std::vector<size_t> shown;
  for (size_t i : world_.InThread(root.id)) {
    const Msg& m = world_.messages()[i];
    if (m.system || m.parent == SIZE_MAX || m.deleted) continue;
    if (!oldest.empty() && std::stod(Ts(m)) <= std::stod(oldest)) continue;
    shown.push_back(i);
  }
  auto [from, to] = Page(r, shown.size(), opt_.restricted ? 15 : 999);
  json::Writer w;
  w.BeginObject().Key("ok").Bool(true).Key("messages").BeginArray();
  WriteMessage(w, root);
  for (size_t k = from; k < to; ++k) WriteMessage(w, world_.messages()[shown[k]]);
  w.EndArray().Key("has_more").Bool(to < shown.size());
  w.Key("response_metadata").BeginObject().Key("next_cursor");
  w.String(to < shown.size() ? Cursor(to) : "").EndObject().EndObject();
  return Answer(w.Take());
}

SimReply SlackApi::PostMessage(const SimRequest& r) {
  auto v = json::Parse(r.body);
  if (!v.ok()) return Fail("invalid_json");
  const Community* c = Channel(json::GetString(*v, "channel").value_or(""));
  if (!c) return Fail("channel_not_found");
  std::string text = json::GetString(*v, "text").value_or("");
  if (text.empty()) return Fail("no_text");
  std::optional<size_t> parent;
  if (auto thread = json::GetString(*v, "thread_ts")) {
    parent = FindTs(*c, *thread);
    if (!parent) return Fail("thread_not_found");
  }
  // Buttons of an actions block: people press one instead of replying.
  std::vector<CardAction> actions;
  if (const json::Value* blocks = json::Find(*v, "blocks"); blocks && blocks->is_array())
    for (const auto& b : blocks->as_array()) {
      if (json::GetString(b, "type") != "actions") continue;
      if (const json::Value* els = json::Find(b, "elements"); els && els->is_array())
        for (const auto& e : els->as_array()) {
          const json::Value* label = json::Find(e, "text");
          std::string value = json::GetString(e, "value").value_or("");
          json::Writer data;
          data.BeginObject().Key("choice").String(value).EndObject();
          actions.push_back(CardAction{label ? json::GetString(*label, "text").value_or("") : "",
                                       data.Take(), false});
        }
    }
  size_t idx = world_.Post(world_.bot().id, c->id, parent, Unescape(text), true, actions);
  const Msg& m = world_.messages()[idx];
  json::Writer w;
  w.BeginObject().Key("ok").Bool(true).Key("channel").String(ChannelId(*c));
  w.Key("ts").String(Ts(m)).Key("message");
  WriteMessage(w, m);
  w.EndObject();
  return Answer(w.Take());
}

SimReply SlackApi::React(const SimRequest& r) {
  const Community* c = Channel(Param(r, "channel"));
  if (!c) return Fail("channel_not_found");
  auto msg = FindTs(*c, Param(r, "timestamp"));
  if (!msg) return Fail("message_not_found");
  if (world_.messages()[*msg].LikedBy(world_.bot().id)) return Fail("already_reacted");
  world_.Like(*msg, world_.bot().id, true);
  return Answer(R"({"ok":true})");
}

SimReply SlackApi::Handle(const SimRequest& r) {
  std::string method = r.path.substr(std::string("/slack/api/").size());
  ++world_.stats().requests["slack"];
  std::string auth = r.Header("authorization");
  if (!valid_token_(auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "")) {
    ++world_.stats().unauthorized;
    return Fail("invalid_auth");
  }
  if (method == "auth.test") {
    json::Writer w;
    w.BeginObject().Key("ok").Bool(true).Key("url").String("https://sim.slack.example/");
    w.Key("team").String("Simulated").Key("team_id").String("T0SIM");
    w.Key("user").String("learnloop").Key("user_id").String(UserId(world_.bot().id));
    w.Key("bot_id").String("B" + std::to_string(world_.bot().id)).EndObject();
    return Answer(w.Take());
  }
  if (method == "users.list") {
    const auto& people = world_.people();
    auto [from, to] = Page(r, people.size(), 1000);
    json::Writer w;
    w.BeginObject().Key("ok").Bool(true).Key("members").BeginArray();
    for (size_t k = from; k < to; ++k) {
      const Person& p = people[k];
      w.BeginObject().Key("id").String(UserId(p.id)).Key("name").String(p.first);
      w.Key("real_name").String(p.first + " " + p.last);
      w.Key("deleted").Bool(p.state != "active").Key("is_bot").Bool(p.bot);
      w.Key("profile").BeginObject().Key("real_name").String(p.first + " " + p.last);
      w.Key("email").String(p.email).Key("title").String(p.department).EndObject();
      w.EndObject();
    }
    w.EndArray().Key("response_metadata").BeginObject().Key("next_cursor");
    w.String(to < people.size() ? Cursor(to) : "").EndObject().EndObject();
    return Answer(w.Take());
  }
  if (method == "conversations.list") {
    std::vector<const Community*> channels;
    for (const auto& c : world_.communities())
      if (!c.IsChannel() && !c.company_wide) channels.push_back(&c);
    auto [from, to] = Page(r, channels.size(), 1000);
    json::Writer w;
    w.BeginObject().Key("ok").Bool(true).Key("channels").BeginArray();
    for (size_t k = from; k < to; ++k) {
      const Community& c = *channels[k];
      bool member = std::binary_search(c.members.begin(), c.members.end(), world_.bot().id);
      w.BeginObject().Key("id").String(ChannelId(c)).Key("name").String(c.name);
      w.Key("is_channel").Bool(true).Key("is_member").Bool(member);
      w.Key("is_archived").Bool(false).EndObject();
    }
    w.EndArray().Key("response_metadata").BeginObject().Key("next_cursor");
    w.String(to < channels.size() ? Cursor(to) : "").EndObject().EndObject();
    return Answer(w.Take());
  }
  if (method == "chat.postMessage") return PostMessage(r);
  if (method == "reactions.add") return React(r);
  const Community* c = Channel(Param(r, "channel"));
  if (method == "conversations.info" || method == "conversations.members" ||
      method == "conversations.history" || method == "conversations.replies") {
    if (!c) return Fail("channel_not_found");
  }
  if (method == "conversations.info") {
    json::Writer w;
    w.BeginObject().Key("ok").Bool(true).Key("channel").BeginObject();
    w.Key("id").String(ChannelId(*c)).Key("name").String(c->name).EndObject().EndObject();
    return Answer(w.Take());
  }
  if (method == "conversations.members") {
    auto [from, to] = Page(r, c->members.size(), 1000);
    json::Writer w;
    w.BeginObject().Key("ok").Bool(true).Key("members").BeginArray();
    for (size_t k = from; k < to; ++k) w.String(UserId(c->members[k]));
    w.EndArray().Key("response_metadata").BeginObject().Key("next_cursor");
    w.String(to < c->members.size() ? Cursor(to) : "").EndObject().EndObject();
    return Answer(w.Take());
  }
  if (method == "conversations.history") return History(r, *c);
  if (method == "conversations.replies") return Replies(r, *c);
  return Fail("unknown_method");
}

SimReply SlackApi::Configure(const SimRequest& r) {
  auto v = json::Parse(r.body);
  if (!v.ok()) return Answer(R"({"error":"body must be JSON"})");
  events_url_ = json::GetString(*v, "events_url").value_or("");
  actions_url_ = json::GetString(*v, "actions_url").value_or("");
  signing_secret_ = json::GetString(*v, "signing_secret").value_or("");
  return Answer(R"({"ok":true})");
}

std::vector<std::pair<std::string, std::string>> SlackApi::Sign(const std::string& body,
                                                                int attempt) const {
  std::string stamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(world_.Now().time_since_epoch()).count());
  std::vector<std::pair<std::string, std::string>> h = {
      {"X-Slack-Request-Timestamp", stamp},
      {"X-Slack-Signature",
       "v0=" + crypto::HmacSha256Hex(signing_secret_, "v0:" + stamp + ":" + body)}};
  if (attempt > 0) {
    h.push_back({"X-Slack-Retry-Num", std::to_string(attempt)});
    h.push_back({"X-Slack-Retry-Reason", "http_error"});
  }
  return h;
}

void SlackApi::OnChange(size_t idx, bool created, Notifier& out) {
  if (events_url_.empty()) return;
  const Msg& m = world_.messages()[idx];
  const Community* c = m.group ? world_.FindCommunity(m.group) : nullptr;
  if (!c || c->IsChannel() || c->company_wide || m.system || m.Private()) return;
  json::Writer w;
  w.BeginObject().Key("token").String("sim").Key("team_id").String("T0SIM");
  w.Key("api_app_id").String("A0SIM").Key("type").String("event_callback");
  w.Key("event_id").String("Ev" + std::to_string(next_event_++));
  w.Key("event_time")
      .Int(std::chrono::duration_cast<std::chrono::seconds>(world_.Now().time_since_epoch())
               .count());
  w.Key("event").BeginObject();
  const Msg& root = world_.messages()[m.thread];
  if (created) {
    w.Key("type").String("message").Key("channel").String(ChannelId(*c));
    w.Key("user").String(UserId(m.sender)).Key("text").String(world_.Text(m));
    w.Key("ts").String(Ts(m));
    if (m.parent != SIZE_MAX) w.Key("thread_ts").String(Ts(root));
  } else if (m.deleted || m.edited_at) {
    // An edit or a deletion: the message as it was, or is now, inside the event.
    w.Key("type").String("message").Key("channel").String(ChannelId(*c));
    w.Key("subtype").String(m.deleted ? "message_deleted" : "message_changed");
    w.Key(m.deleted ? "previous_message" : "message").BeginObject();
    w.Key("ts").String(Ts(m));
    if (m.parent != SIZE_MAX) w.Key("thread_ts").String(Ts(root));
    w.EndObject();
  } else {
    // A reaction given or taken back: Slack says which message, not its thread.
    w.Key("type").String("reaction_added").Key("user").String(UserId(m.sender));
    w.Key("reaction").String("+1").Key("item").BeginObject().Key("type").String("message");
    w.Key("channel").String(ChannelId(*c)).Key("ts").String(Ts(m)).EndObject();
  }
  w.EndObject().EndObject();
  Notifier::Delivery d;
  d.url = events_url_;
  d.body = w.Take();
  d.due = world_.Now();
  d.kind = "slack_event";
  out.Enqueue(std::move(d));
}

void SlackApi::OnClick(size_t k, Notifier& out) {
  if (actions_url_.empty()) return;
  const CardClick& click = world_.clicks()[k];
  const Msg& card = world_.messages()[click.card];
  const Community* c = card.group ? world_.FindCommunity(card.group) : nullptr;
  const auto* actions = world_.CardActions(click.card);
  if (!c || c->IsChannel() || c->company_wide || !actions || click.action >= actions->size())
    return;
  auto data = json::Parse((*actions)[click.action].data);
  std::string value = data.ok() ? json::GetString(*data, "choice").value_or("") : "";
  Msg when = card;
  when.created_at = click.at;
  when.id = static_cast<int64_t>(k);
  json::Writer w;
  w.BeginObject().Key("type").String("block_actions");
  w.Key("user").BeginObject().Key("id").String(UserId(click.user)).EndObject();
  w.Key("team").BeginObject().Key("id").String("T0SIM").EndObject();
  w.Key("container").BeginObject().Key("type").String("message");
  w.Key("message_ts").String(Ts(card)).Key("channel_id").String(ChannelId(*c)).EndObject();
  w.Key("channel").BeginObject().Key("id").String(ChannelId(*c)).EndObject();
  w.Key("actions").BeginArray().BeginObject();
  w.Key("action_id").String("choice_" + std::to_string(click.action));
  w.Key("block_id").String("learnloop_choices").Key("type").String("button");
  w.Key("value").String(value).Key("action_ts").String(Ts(when));
  w.EndObject().EndArray().EndObject();
  Notifier::Delivery d;
  d.url = actions_url_;
  d.body = "payload=" + UrlEncode(w.Take());
  d.due = world_.Now();
  d.kind = "slack_action";
  out.Enqueue(std::move(d));
}

}  // namespace learnloop::sim
