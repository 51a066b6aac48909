#include "connectors/slack/slack_connector.h"

#include <algorithm>

#include "connectors/common/mentions.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"

namespace learnloop::connectors::slack {

namespace {
// Slack's tiers per method and workspace (reference §4.4): Tier 2 ≈ 20, Tier 3 ≈ 50, Tier 4 ≈
// 100 a minute; chat.postMessage about one a second per channel.
constexpr const char* kHistory = "conversations.history";
constexpr const char* kReplies = "conversations.replies";
constexpr const char* kPost = "chat.postMessage";
constexpr const char* kReact = "reactions.add";
constexpr int kPageLimit = 200;
constexpr int kMaxPages = 500;  // of one read: a cursor that never ends is Slack's mistake
const char* const kRefreshed = "refreshed";
// A request older than this (or as far ahead) is refused: a replayed one (reference §4.3).
constexpr auto kSignatureWindow = std::chrono::minutes{5};
constexpr size_t kEventsRemembered = 1000;

// A time as Slack's ts ("1512085950.000216").
std::string FormatTs(Time t) {
  int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  if (us < 0) us = 0;
  std::string frac = std::to_string(us % 1000000);
  return std::to_string(us / 1000000) + "." + std::string(6 - frac.size(), '0') + frac;
}

// Whether ts a is later than b (both Slack ts; "" is the earliest).
bool Later(const std::string& a, const std::string& b) {
  auto ta = ParseTs(a), tb = ParseTs(b);
  if (!ta) return false;
  if (!tb) return true;
  return *ta > *tb;
}

bool EqualInConstantTime(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  return diff == 0;
}

std::string ReadKey(const std::string& channel, const std::string& thread_ts) {
  return "thread:" + MessageNativeId(channel, thread_ts);
}
}  // namespace

SlackConnector::SlackConnector(const config::NetworkConfig& cfg, Clock& clock,
                               std::unique_ptr<http::Client> client)
    : cfg_(cfg),
      s_(ReadSettings(cfg)),
      clock_(clock),
      client_(std::move(client)),
      token_(s_.token),
      requester_(*client_, clock, cfg.rate_limit_requests, cfg.rate_limit_window,
                 http::RetryPolicy{}, std::hash<std::string>{}(cfg.name), "connector.slack") {
  requester_.set_token_source(&token_);
  requester_.set_network(cfg.name);
  const auto minute = std::chrono::minutes{1};
  for (const char* tier2 : {"users.list", "conversations.list", "conversations.members"})
    requester_.SetBudget(tier2, 20, minute);
  for (const char* tier3 : {kHistory, kReplies, kReact}) requester_.SetBudget(tier3, 50, minute);
  requester_.SetBudget("auth.test", 100, minute);
  requester_.SetBudget(kPost, 1, std::chrono::milliseconds{1100});
  SetChannels(s_.channels);
}

void SlackConnector::SetChannels(std::vector<std::string> channels) {
  channels_ = std::move(channels);
  std::lock_guard lock(push_mu_);
  push_channels_ = std::set<std::string>(channels_.begin(), channels_.end());
}

std::optional<std::string> SlackConnector::SelfUserId() const {
  if (!self_) return std::nullopt;
  return MakeId(cfg_.name, *self_);
}

void SlackConnector::FollowThreads(const std::vector<std::string>& thread_ids) {
  follow_.clear();
  for (const auto& id : thread_ids)
    if (id.rfind(cfg_.name + ":", 0) == 0) follow_.push_back(NativeId(id));
}

bool SlackConnector::Wanted(const std::string& channel) const {
  return std::find(channels_.begin(), channels_.end(), channel) != channels_.end();
}

Result<std::string> SlackConnector::Call(
    const std::string& method, const std::vector<std::pair<std::string, std::string>>& params,
    int* requests) {
  http::Request r;
  r.url = s_.base_url + "/" + method;
  for (size_t i = 0; i < params.size(); ++i)
    r.url += (i == 0 ? "?" : "&") + params[i].first + "=" + http::UrlEncode(params[i].second);
  if (requests) ++*requests;
  auto res = requester_.Send(r, method);
  if (!res.ok()) return res.error();
  if (res->status != 200)
    return Result<std::string>::Fail(method + ": HTTP " + std::to_string(res->status), res->status);
  return res->body;
}

Result<json::Value> SlackConnector::PostJson(const std::string& method, const std::string& body,
                                             bool idempotent) {
  http::Request r;
  r.method = "POST";
  r.url = s_.base_url + "/" + method;
  r.body = body;
  r.content_type = "application/json; charset=utf-8";
  r.idempotent = idempotent;
  auto res = requester_.Send(r, method);
  if (!res.ok()) return res.error();
  if (res->status != 200)
    return Result<json::Value>::Fail(method + ": HTTP " + std::to_string(res->status), res->status);
  auto v = ParseAnswer(res->body);
  if (!v.ok()) return Result<json::Value>::Fail(method + ": " + v.error().message, v.error().code);
  return v;
}

Status SlackConnector::EachPage(const std::string& method, Params params,
                                const std::function<Result<std::string>(const std::string&)>& page,
                                int* requests) {
  params.emplace_back("limit", std::to_string(kPageLimit));
  std::string cursor;
  for (int pages = 0; pages < kMaxPages; ++pages) {
    Params asked = params;
    if (!cursor.empty()) asked.emplace_back("cursor", cursor);
    auto body = Call(method, asked, requests);
    if (!body.ok()) return body.status();
    auto next = page(*body);
    if (!next.ok()) return Status::Fail(method + ": " + next.error().message, next.error().code);
    cursor = *next;
    if (cursor.empty()) return Status::Ok();
  }
  return Status::Fail(method + ": more than " + std::to_string(kMaxPages) + " pages", 502);
}

Status SlackConnector::ListChannels() {
  std::vector<std::string> mine;
  auto s = EachPage("conversations.list",
                    {{"types", "public_channel,private_channel"}, {"exclude_archived", "true"}},
                    [&](const std::string& body) -> Result<std::string> {
                      auto page = ParseChannels(body);
                      if (!page.ok()) return page.error();
                      for (const auto& c : page->channels) {
                        if (!c.name.empty()) channel_names_[c.id] = c.name;
                        if (c.is_member && !c.is_archived) mine.push_back(c.id);
                      }
                      return page->next_cursor;
                    });
  if (!s.ok()) return s;
  if (s_.channels.empty()) SetChannels(std::move(mine));
  return Status::Ok();
}

Status SlackConnector::SyncDirectory(EventSink& sink) {
  auto log = Logger("connector.slack");
  // Who the bot is (its posts are not answers; FindPosted looks for them).
  auto me = Call("auth.test", {});
  if (!me.ok()) return me.status();
  auto who = ParseAnswer(*me);
  if (!who.ok()) return Status::Fail("auth.test: " + who.error().message, who.error().code);
  self_ = json::GetString(*who, "user_id").value_or("");
  if (self_->empty()) return Status::Fail("auth.test: the answer names no user", 502);

  int64_t people = 0;
  auto read = EachPage("users.list", {}, [&](const std::string& body) -> Result<std::string> {
    auto page = ParseUsers(body, cfg_.name);
    if (!page.ok()) return page.error();
    for (auto& u : page->users) {
      if (NativeId(u.id) == *self_) u.is_bot = true;
      sink.OnUser(u);
      ++people;
    }
    return page->next_cursor;
  });
  if (!read.ok()) return read;

  auto listed = ListChannels();
  if (!listed.ok()) return listed;
  int64_t done = 0;
  for (const auto& channel : channels_) {
    sink.OnProgress("channel", ++done, static_cast<int64_t>(channels_.size()));
    Group g;
    g.id = MakeId(cfg_.name, channel);
    g.network = cfg_.name;
    g.kind = "channel";
    g.name = channel;
    // Its name from the list just read; one configured but not listed (archived, or private
    // without the bot) is asked for alone.
    if (auto listed_name = channel_names_.find(channel); listed_name != channel_names_.end()) {
      g.name = "#" + listed_name->second;
    } else if (auto info = Call("conversations.info", {{"channel", channel}}); info.ok()) {
      if (auto v = ParseAnswer(*info); v.ok())
        if (const json::Value* c = json::Find(*v, "channel"))
          g.name = "#" + json::GetString(*c, "name").value_or(channel);
    }
    auto members =
        EachPage("conversations.members", {{"channel", channel}},
                 [&](const std::string& body) -> Result<std::string> {
                   auto v = ParseAnswer(body);
                   if (!v.ok()) return v.error();
                   for (const auto& id :
                        json::GetStringArray(*v, "members").value_or(std::vector<std::string>{}))
                     g.members.push_back(MakeId(cfg_.name, id));
                   return NextCursor(*v);
                 });
    if (members.ok()) {
      degraded_.Clear("members of " + channel);
    } else {
      degraded_.Note("members of " + channel,
                     "the members of channel " + channel + " could not be read (" +
                         members.message() + "): its membership is unknown, its messages are read");
      g.members.clear();
      g.members_known = false;
    }
    sink.OnGroup(g);
  }
  log->info("directory: {} people, {} channel(s)", people, channels_.size());
  return Status::Ok();
}

void SlackConnector::Emit(const MessagePage& page, EventSink& sink, PollStats& stats) {
  for (const auto& m : page.messages) {
    thread_of_[NativeId(m.id)] = SplitNativeId(NativeId(m.thread_id)).second;
    sink.OnMessage(m);
    ++stats.messages;
  }
  for (const auto& [id, reactions] : page.reactions) sink.OnReactionSnapshot(id, "", reactions);
}

Status SlackConnector::ReadMessages(const std::string& method, Params params,
                                    const std::string& channel, std::string& newest,
                                    EventSink& sink, PollStats& stats, ThreadList* threads) {
  int pages = 0;
  return EachPage(
      method, std::move(params),
      [&](const std::string& body) -> Result<std::string> {
        auto page = ParseMessages(body, cfg_.name, channel);
        if (!page.ok()) return page.error();
        for (const auto& m : page->messages) {
          std::string ts = SplitNativeId(NativeId(m.id)).second;
          if (Later(ts, newest)) {
            newest = ts;
            stats.advanced = true;
          }
        }
        if (threads) threads->insert(threads->end(), page->threads.begin(), page->threads.end());
        Emit(*page, sink, stats);
        sink.OnProgress("channel " + channel, ++pages, 0);
        return page->next_cursor;
      },
      &stats.requests);
}

Status SlackConnector::ReadThread(const std::string& channel, const std::string& thread_ts,
                                  bool all, EventSink& sink, PollStats& stats) {
  const std::string key = ReadKey(channel, thread_ts);
  std::string newest = cursors_.count(key) ? cursors_.at(key) : "";
  Params params = {{"channel", channel}, {"ts", thread_ts}};
  if (!all && !newest.empty()) params.emplace_back("oldest", newest);
  auto s = ReadMessages(kReplies, std::move(params), channel, newest, sink, stats, nullptr);
  if (!newest.empty()) cursors_[key] = newest;
  return s;
}

Status SlackConnector::ReadHistory(const std::string& channel, const std::string& oldest,
                                   bool all_threads, EventSink& sink, PollStats& stats) {
  const std::string key = "channel:" + channel;
  std::string newest = cursors_.count(key) ? cursors_.at(key) : "";
  ThreadList threads;
  Params params = {{"channel", channel}};
  if (!oldest.empty()) params.emplace_back("oldest", oldest);
  auto read = ReadMessages(kHistory, std::move(params), channel, newest, sink, stats, &threads);
  if (!read.ok()) return read;
  // Replies are not in the timeline: each thread with replies newer than what was read of it.
  for (const auto& [ts, latest] : threads) {
    std::string read_key = ReadKey(channel, ts);
    if (!all_threads && cursors_.count(read_key) && !Later(latest, cursors_.at(read_key))) continue;
    auto s = ReadThread(channel, ts, all_threads, sink, stats);
    if (!s.ok()) return s;
  }
  // Stored after the events: a crash in between reads the page again.
  if (!newest.empty()) cursors_[key] = newest;
  return Status::Ok();
}

PollStats SlackConnector::Poll(EventSink& sink, bool refresh_now) {
  PollStats stats;
  auto log = Logger("connector.slack");
  if (channels_.empty()) {
    auto s = ListChannels();
    if (!s.ok()) {
      stats.errors.push_back("channels: " + s.message());
      return stats;
    }
  }
  Time now = clock_.Now();
  Time refreshed = Time{} + Millis{cursors_.count(kRefreshed)
                                       ? json::ParseInt64(cursors_.at(kRefreshed)).value_or(0)
                                       : 0};
  bool refresh = refresh_now || now - refreshed >= s_.refresh_interval;
  for (const auto& channel : channels_) {
    // What is new since the newest message read (the first time: back to backfill_since).
    std::string key = "channel:" + channel;
    std::string oldest = cursors_.count(key)   ? cursors_.at(key)
                         : cfg_.backfill_since ? FormatTs(*cfg_.backfill_since)
                                               : "";
    auto s = ReadHistory(channel, oldest, false, sink, stats);
    // Reactions and edits come after a message was first read: the recent window again.
    if (s.ok() && refresh)
      s = ReadHistory(channel, FormatTs(now - s_.refresh_window), true, sink, stats);
    if (!s.ok()) {
      log->warn("channel {}: {}", channel, s.message());
      stats.errors.push_back("channel " + channel + ": " + s.message());
    }
  }
  // The prompts' threads, whatever the timeline said of them.
  for (const auto& thread : follow_) {
    auto [channel, ts] = SplitNativeId(thread);
    if (ts.empty() || !Wanted(channel)) continue;
    auto s = ReadThread(channel, ts, false, sink, stats);
    if (!s.ok()) {
      log->warn("thread {}: {}", thread, s.message());
      stats.errors.push_back("thread " + thread + ": " + s.message());
    }
  }
  if (refresh && stats.errors.empty()) {
    cursors_[kRefreshed] = std::to_string(ToUnixMillis(now));
    // What was read of threads older than the window is not needed any more.
    for (auto it = cursors_.begin(); it != cursors_.end();) {
      auto ts = it->first.rfind("thread:", 0) == 0 ? ParseTs(it->second) : std::nullopt;
      if (ts && *ts < now - s_.refresh_window - std::chrono::hours{24})
        it = cursors_.erase(it);
      else
        ++it;
    }
    if (thread_of_.size() > 100000) thread_of_.clear();
  }
  return stats;
}

std::string SlackConnector::TextOf(const PostRequest& r) {
  // Slack's markup: &, < and > escaped; a mention is <@U…>.
  std::string marked =
      RenderMentions(r.body, [](const MentionRef& m) { return "\x01" + m.native_id + "\x02"; });
  std::string out;
  for (size_t i = 0; i < marked.size(); ++i) {
    char c = marked[i];
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '\x01')
      out += "<@";
    else if (c == '\x02')
      out += ">";
    else
      out += c;
  }
  return out;
}

Result<Posted> SlackConnector::Post(const PostRequest& req) {
  if (req.to_user) return Result<Posted>::Fail("Slack: private questions are not sent here", 403);
  std::string text = TextOf(req);
  json::Writer w;
  w.BeginObject().Key("channel").String(req.group_id).Key("text").String(text);
  if (req.reply_to) w.Key("thread_ts").String(SplitNativeId(*req.reply_to).second);
  w.Key("unfurl_links").Bool(false);
  if (!req.choices.empty() && Buttons()) {
    // Block Kit: the text, then a button per option; a press comes back as a block_actions
    // payload whose action's value is the option's (reference §4.2).
    w.Key("blocks").BeginArray();
    w.BeginObject().Key("type").String("section").Key("text").BeginObject();
    w.Key("type").String("mrkdwn").Key("text").String(text.substr(0, 3000)).EndObject();
    w.EndObject();
    w.BeginObject().Key("type").String("actions").Key("block_id").String("learnloop_choices");
    w.Key("elements").BeginArray();
    int i = 0;
    for (const auto& [value, title] : req.choices) {
      if (i == 25) break;  // an actions block holds at most 25 elements
      w.BeginObject().Key("type").String("button");
      w.Key("action_id").String("choice_" + std::to_string(i++));
      w.Key("text").BeginObject().Key("type").String("plain_text");
      w.Key("text").String(title.substr(0, 75)).EndObject();
      w.Key("value").String(value).EndObject();
    }
    w.EndArray().EndObject().EndArray();
  }
  w.EndObject();
  auto v = PostJson(kPost, w.Take(), false);
  if (!v.ok()) return v.error();
  std::string ts = json::GetString(*v, "ts").value_or("");
  std::string channel = json::GetString(*v, "channel").value_or(req.group_id);
  auto at = ParseTs(ts);
  if (!at) return Result<Posted>::Fail("chat.postMessage: answer without the message's ts", 502);
  return Posted{MessageNativeId(channel, ts), *at};
}

Result<std::vector<Posted>> SlackConnector::FindPosted(const PostRequest& req, Time since) {
  if (!self_) {
    auto me = Call("auth.test", {});
    if (!me.ok()) return me.error();
    auto who = ParseAnswer(*me);
    if (!who.ok()) return who.error();
    self_ = json::GetString(*who, "user_id").value_or("");
  }
  const std::string want = TextKey(TextOf(req));
  std::vector<Posted> found;
  Params params = {{"channel", req.group_id}, {"oldest", FormatTs(since)}};
  if (req.reply_to) params.emplace_back("ts", SplitNativeId(*req.reply_to).second);
  auto read = EachPage(
      req.reply_to ? kReplies : kHistory, std::move(params),
      [&](const std::string& body) -> Result<std::string> {
        auto page = ParseMessages(body, cfg_.name, req.group_id);
        if (!page.ok()) return page.error();
        for (const auto& m : page->messages)
          if (NativeId(m.author_id) == *self_ && m.created_at >= since && TextKey(m.text) == want)
            found.push_back(Posted{NativeId(m.id), m.created_at});
        return page->next_cursor;
      });
  if (!read.ok()) return read.error();
  std::sort(found.begin(), found.end(),
            [](const Posted& a, const Posted& b) { return a.created_at < b.created_at; });
  return found;
}

Status SlackConnector::Acknowledge(const std::string& native_message_id) {
  auto [channel, ts] = SplitNativeId(native_message_id);
  json::Writer w;
  w.BeginObject().Key("channel").String(channel).Key("name").String("white_check_mark");
  w.Key("timestamp").String(ts).EndObject();
  auto v = PostJson(kReact, w.Take(), true);
  if (!v.ok() && v.error().message.find("already_reacted") == std::string::npos) return v.status();
  return Status::Ok();
}

Status SlackConnector::MaintainSubscriptions(const std::string& public_url) {
  (void)public_url;
  return Status::Ok();
}

std::vector<std::string> SlackConnector::PushPaths() const {
  if (s_.signing_secret.empty()) return {};
  return {"/slack/" + cfg_.name + "/events", "/slack/" + cfg_.name + "/actions"};
}

bool SlackConnector::IsHandshake(const net::Request& r) const {
  // The Events API's url_verification (reference §4.3), signed like any event.
  if (r.path != "/slack/" + cfg_.name + "/events") return false;
  auto v = json::Parse(r.body);
  return v.ok() && v->is_object() && json::GetString(*v, "type") == "url_verification";
}

net::Reply SlackConnector::OnPush(const net::Request& r) {
  net::Reply rep;
  auto refuse = [&](int status, const std::string& why) {
    Logger("connector.slack")->warn("push refused: {}", why);
    rep.status = status;
    rep.body = "{\"error\":\"" + why + "\"}";
    rep.headers.emplace_back("X-Slack-No-Retry", "1");
    return rep;
  };
  // Signed with the app's signing secret: v0=HMAC-SHA256("v0:" + timestamp + ":" + body),
  // within five minutes of now (reference §4.3).
  std::string stamp = r.Header("x-slack-request-timestamp");
  auto seconds = json::ParseInt64(stamp);
  if (!seconds) return refuse(401, "no request timestamp");
  Time sent = Time{} + std::chrono::seconds{*seconds};
  Time now = clock_.Now();
  if (sent < now - kSignatureWindow || sent > now + kSignatureWindow)
    return refuse(401, "request timestamp out of the 5-minute window");
  std::string expected =
      "v0=" + crypto::HmacSha256Hex(s_.signing_secret.Reveal(), "v0:" + stamp + ":" + r.body);
  if (!EqualInConstantTime(expected, r.Header("x-slack-signature")))
    return refuse(401, "bad signature");

  if (r.path == "/slack/" + cfg_.name + "/actions") {
    // A button pressed: a form with `payload`, a block_actions JSON.
    auto form = net::ParseForm(r.body);
    auto v = json::Parse(form["payload"]);
    if (!v.ok() || json::GetString(*v, "type") != "block_actions") return rep;
    const json::Value* user = json::Find(*v, "user");
    const json::Value* channel = json::Find(*v, "channel");
    const json::Value* container = json::Find(*v, "container");
    const json::Value* actions = json::Find(*v, "actions");
    std::string uid = user ? json::GetString(*user, "id").value_or("") : "";
    std::string cid = channel ? json::GetString(*channel, "id").value_or("") : "";
    if (cid.empty() && container) cid = json::GetString(*container, "channel_id").value_or("");
    std::string message_ts =
        container ? json::GetString(*container, "message_ts").value_or("") : "";
    if (uid.empty() || cid.empty() || message_ts.empty() || !actions || !actions->is_array() ||
        actions->as_array().size() == 0)
      return rep;
    const json::Value& action = actions->as_array().at(0);
    std::string action_ts = json::GetString(action, "action_ts").value_or("");
    auto at = ParseTs(action_ts);
    std::lock_guard lock(push_mu_);
    if (!at || !push_channels_.count(cid)) return rep;
    CardAction a;
    a.network = cfg_.name;
    a.id = MakeId(cfg_.name, MessageNativeId(cid, message_ts) + "/" + uid + "/" + action_ts);
    a.message_id = MakeId(cfg_.name, MessageNativeId(cid, message_ts));
    a.user_id = MakeId(cfg_.name, uid);
    json::Writer w;
    w.BeginObject().Key("choice").String(json::GetString(action, "value").value_or(""));
    a.value = w.EndObject().Take();
    a.at = *at;
    pushed_actions_.push_back(std::move(a));
    return rep;
  }

  auto v = json::Parse(r.body);
  if (!v.ok()) return refuse(400, "not JSON");
  std::string type = json::GetString(*v, "type").value_or("");
  if (type == "url_verification") {
    json::Writer w;
    w.BeginObject().Key("challenge").String(json::GetString(*v, "challenge").value_or(""));
    rep.body = w.EndObject().Take();
    return rep;
  }
  if (type != "event_callback") return rep;
  std::string event_id = json::GetString(*v, "event_id").value_or("");
  const json::Value* e = json::Find(*v, "event");
  if (!e) return rep;
  std::lock_guard lock(push_mu_);
  // Slack sends an event again when it was not acknowledged in time: once is enough.
  if (!event_id.empty()) {
    if (seen_event_set_.count(event_id)) return rep;
    seen_event_set_.insert(event_id);
    seen_events_.push_back(event_id);
    if (seen_events_.size() > kEventsRemembered) {
      seen_event_set_.erase(seen_events_.front());
      seen_events_.pop_front();
    }
  }
  std::string etype = json::GetString(*e, "type").value_or("");
  Read read;
  if (etype == "message") {
    read.channel = json::GetString(*e, "channel").value_or("");
    const json::Value* inner = json::Find(*e, "message");
    if (!inner) inner = json::Find(*e, "previous_message");
    const json::Value& m = inner ? *inner : *e;
    read.ts = json::GetString(m, "ts").value_or("");
    read.thread_ts = json::GetString(m, "thread_ts").value_or("");
    read.whole = inner != nullptr;  // changed or deleted: read again what was read
  } else if (etype == "reaction_added" || etype == "reaction_removed") {
    const json::Value* item = json::Find(*e, "item");
    if (!item || json::GetString(*item, "type") != "message") return rep;
    read.channel = json::GetString(*item, "channel").value_or("");
    read.ts = json::GetString(*item, "ts").value_or("");
    read.whole = true;
  } else {
    return rep;
  }
  if (read.ts.empty() || !push_channels_.count(read.channel)) return rep;
  pushed_reads_.push_back(std::move(read));
  return rep;
}

bool SlackConnector::PushPending() const {
  std::lock_guard lock(push_mu_);
  return !pushed_reads_.empty() || !pushed_actions_.empty();
}

std::string SlackConnector::TakePushed() {
  std::lock_guard lock(push_mu_);
  json::Writer w;
  w.BeginObject().Key("reads").BeginArray();
  for (const auto& r : pushed_reads_) {
    w.BeginObject().Key("channel").String(r.channel).Key("ts").String(r.ts);
    w.Key("thread_ts").String(r.thread_ts).Key("whole").Bool(r.whole).EndObject();
  }
  w.EndArray().Key("actions").BeginArray();
  for (const auto& a : pushed_actions_) {
    w.BeginObject().Key("id").String(a.id).Key("message_id").String(a.message_id);
    w.Key("user_id").String(a.user_id).Key("value").String(a.value);
    w.Key("at").String(FormatIsoMillis(a.at)).EndObject();
  }
  w.EndArray().EndObject();
  pushed_reads_.clear();
  pushed_actions_.clear();
  return w.Take();
}

PollStats SlackConnector::ReadPushed(const std::string& pushed, EventSink& sink) {
  PollStats stats;
  auto v = json::Parse(pushed);
  if (!v.ok()) {
    stats.errors.push_back("pushed: not JSON");
    return stats;
  }
  if (const json::Value* actions = json::Find(*v, "actions"); actions && actions->is_array())
    for (const auto& e : actions->as_array()) {
      CardAction a;
      a.network = cfg_.name;
      a.id = json::GetString(e, "id").value_or("");
      a.message_id = json::GetString(e, "message_id").value_or("");
      a.user_id = json::GetString(e, "user_id").value_or("");
      a.value = json::GetString(e, "value").value_or("");
      auto at = ParseIso(json::GetString(e, "at").value_or(""));
      if (a.id.empty() || !at) continue;
      a.at = *at;
      sink.OnCardAction(a);
      stats.advanced = true;
    }
  // Each thread once: from what was read of it for new replies, or whole when a reaction or an
  // edit changed something already read.
  std::map<std::pair<std::string, std::string>, bool> threads;
  if (const json::Value* reads = json::Find(*v, "reads"); reads && reads->is_array())
    for (const auto& e : reads->as_array()) {
      std::string channel = json::GetString(e, "channel").value_or("");
      std::string ts = json::GetString(e, "ts").value_or("");
      std::string thread = json::GetString(e, "thread_ts").value_or("");
      bool whole = json::GetBool(e, "whole").value_or(true);
      if (thread.empty()) {
        auto known = thread_of_.find(MessageNativeId(channel, ts));
        thread = known != thread_of_.end() ? known->second : ts;
      }
      threads[{channel, thread}] |= whole;
    }
  for (const auto& [where, whole] : threads) {
    const auto& [channel, thread] = where;
    auto s = ReadThread(channel, thread, whole, sink, stats);
    if (!s.ok())
      stats.errors.push_back("thread " + MessageNativeId(channel, thread) + ": " + s.message());
  }
  return stats;
}

Built Make(const config::NetworkConfig& cfg, Clock& clock, std::unique_ptr<http::Client> client) {
  auto s = std::make_unique<SlackConnector>(cfg, clock, std::move(client));
  Poster* p = s.get();
  PushReceiver* push = ReadSettings(cfg).signing_secret.empty() ? nullptr : s.get();
  return Built{std::move(s), p, push};
}

}  // namespace learnloop::connectors::slack
