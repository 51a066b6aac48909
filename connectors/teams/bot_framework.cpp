#include <algorithm>
#include <sstream>

#include "connectors/common/mentions.h"
#include "connectors/teams/keys.h"
#include "connectors/teams/teams_connector.h"
#include "core/json.h"
#include "core/log.h"

namespace learnloop::connectors::teams {

namespace {

// A question with buttons: an Adaptive Card under the text (nothing without choices), its
// first line as the card's plain text (a TextBlock is no HTML); a press comes back as a message
// activity with value {"choice": …} (§3.2).
void WriteCard(json::Writer& w, const PostRequest& r) {
  const auto& choices = r.choices;
  if (choices.empty()) return;
  std::string text = RenderMentions(r.body, [](const MentionRef& m) { return m.name; });
  w.Key("attachments").BeginArray().BeginObject();
  w.Key("contentType").String("application/vnd.microsoft.card.adaptive");
  w.Key("content").BeginObject().Key("type").String("AdaptiveCard");
  w.Key("version").String("1.4").Key("body").BeginArray().BeginObject();
  w.Key("type").String("TextBlock").Key("wrap").Bool(true);
  w.Key("text").String(text.substr(0, text.find('\n'))).EndObject().EndArray();
  w.Key("actions").BeginArray();
  for (const auto& [value, title] : choices) {
    w.BeginObject().Key("type").String("Action.Submit").Key("title").String(title);
    w.Key("data").BeginObject().Key("choice").String(value).EndObject().EndObject();
  }
  w.EndArray().EndObject().EndObject().EndArray();
}

}  // namespace

bool TeamsConnector::IsActivityPath(const std::string& path) const {
  return path == kActivityPath || path == OwnPath("messages");
}

bool TeamsConnector::ClaimsPush(const net::Request& r) const {
  if (r.path == OwnPath("notify") || r.path == OwnPath("lifecycle") ||
      r.path == OwnPath("messages"))
    return true;
  if (IsHandshake(r)) return true;  // answered by whichever takes it
  auto v = json::Parse(r.body);
  if (!v.ok() || !v->is_object()) return false;
  std::lock_guard lock(push_mu_);
  if (IsActivityPath(r.path)) {
    // Addressed to our bot, in a channel we read or a personal chat with it.
    const json::Value* to = json::Find(*v, "recipient");
    std::string recipient = to ? json::GetString(*to, "id").value_or("") : "";
    if (!recipient.empty() && recipient != "28:" + s_.bot.client_id) return false;
    const json::Value* conv = json::Find(*v, "conversation");
    std::string conversation = conv ? json::GetString(*conv, "id").value_or("") : "";
    std::string type = conv ? json::GetString(*conv, "conversationType").value_or("") : "";
    if (type == "personal" || conversation.rfind("a:", 0) == 0) return true;
    return team_of_.count(conversation.substr(0, conversation.find(";messageid="))) > 0;
  }
  const json::Value* items = json::Find(*v, "value");
  if (!items || !items->is_array()) return false;
  for (const auto& item : items->as_array()) {
    std::string sub = json::GetString(item, "subscriptionId").value_or("");
    if (subscription_of_.count(sub) ||
        team_of_.count(ChannelOfResource(json::GetString(item, "resource").value_or(""))))
      return true;
  }
  return false;
}

net::Reply TeamsConnector::OnActivity(const net::Request& r) {
  net::Reply rep;
  auto v = json::Parse(r.body);
  if (!v.ok() || !v->is_object()) {
    rep.status = 400;
    return rep;
  }
  std::string service_url = json::GetString(*v, "serviceUrl").value_or("");
  if (auto s = bot_auth_->Validate(r.Header("authorization"), service_url); !s.ok()) {
    Logger("connector.teams")->warn("bot activity refused: {}", s.message());
    rep.status = 403;
    rep.body = R"({"error":"forbidden"})";
    return rep;
  }
  // "<channel>;messageid=<root>" names the thread; the sender by Entra object id.
  std::string type = json::GetString(*v, "type").value_or("");
  const json::Value* conv = json::Find(*v, "conversation");
  std::string conversation = conv ? json::GetString(*conv, "id").value_or("") : "";
  auto mark = conversation.find(";messageid=");
  const json::Value* from = json::Find(*v, "from");
  std::string aad = from ? json::GetString(*from, "aadObjectId").value_or("") : "";
  auto at = ParseIso(json::GetString(*v, "timestamp").value_or(""));
  std::string id = json::GetString(*v, "id").value_or("");
  std::string conversation_type =
      conv ? json::GetString(*conv, "conversationType").value_or("") : "";
  // A personal chat with the bot (answers to private questions: the chat is their thread, and
  // a card pressed there names the card's message), or a channel thread.
  bool personal = conversation_type == "personal" || conversation.rfind("a:", 0) == 0;
  rep.status = 200;  // what is not an activity we read is acknowledged and ignored
  if (aad.empty() || !at || id.empty() || (!personal && mark == std::string::npos)) return rep;
  std::string scope = personal ? conversation : conversation.substr(0, mark);  // of message ids
  std::string root = personal ? "" : conversation.substr(mark + 11);
  const json::Value* value = json::Find(*v, "value");
  bool invoke = type == "invoke" && json::GetString(*v, "name") == "adaptiveCard/action";
  std::lock_guard lock(push_mu_);
  if (!personal && !team_of_.count(scope)) return rep;
  if ((type == "message" && value) || invoke) {
    // A card button (Action.Submit: message with value; Action.Execute: invoke).
    const json::Value* data = value;
    if (invoke)
      if (const json::Value* action = json::Find(*value, "action"))
        data = json::Find(*action, "data");
    CardAction a;
    a.id = MakeId(cfg_.name, id);
    a.network = cfg_.name;
    std::string card = json::GetString(*v, "replyToId").value_or(root);
    a.message_id = MakeId(cfg_.name, MessageNativeId(scope, card));
    a.user_id = MakeId(cfg_.name, aad);
    a.value = data ? json::Dump(*data) : "{}";
    a.at = *at;
    inbound_actions_.push_back(std::move(a));
    if (invoke) {
      rep.body = R"({"statusCode":200,"type":"application/vnd.microsoft.activity.message",)"
                 R"("value":"Thanks, your answer is in."})";
    }
    return rep;
  }
  if (type == "message") {
    Message m;
    m.network = cfg_.name;
    m.id = MakeId(cfg_.name, MessageNativeId(scope, id));
    m.thread_id = MakeId(cfg_.name, personal ? conversation : MessageNativeId(scope, root));
    bool starts_thread = !personal && id == root;
    if (!starts_thread) m.reply_to_id = m.thread_id;
    m.kind = starts_thread ? "post" : "reply";
    m.group_id = MakeId(cfg_.name, personal ? std::string(kPrivateGroup) : scope);
    m.author_id = MakeId(cfg_.name, aad);
    m.created_at = *at;
    m.text = json::GetString(*v, "text").value_or("");
    inbound_messages_.push_back(std::move(m));
  }
  return rep;
}

std::string TeamsConnector::ConversationOf(const std::string& native_message_id) const {
  if (native_message_id.rfind("a:", 0) != 0) return native_message_id;
  return native_message_id.substr(0, native_message_id.rfind('/'));
}

Result<std::string> TeamsConnector::RosterId(const std::string& channel,
                                             const std::string& aad_id) {
  if (auto it = roster_ids_.find(aad_id); it != roster_ids_.end()) return it->second;
  // The roster of the channel's team (Bot Framework GET v3/conversations/{id}/members), read
  // again at most once an hour for someone it did not list.
  if (auto read = roster_read_.find(channel);
      read != roster_read_.end() && clock_.Now() - read->second < std::chrono::hours{1})
    return Result<std::string>::Fail(aad_id + " is not in the roster of channel " + channel, 404);
  http::Request req;
  req.url = service_url_ + "v3/conversations/" + http::UrlEncode(channel) + "/members";
  req.headers = {{"Accept", "application/json"}};
  auto res = bot_.Send(req, kBot);
  if (!res.ok()) return Result<std::string>::Fail(res.error().message);
  if (res->status != 200)
    return Result<std::string>::Fail("Bot Framework roster of " + channel + ": HTTP " +
                                         std::to_string(res->status) + " " +
                                         res->body.substr(0, 200),
                                     res->status == 404 ? 502 : res->status);
  auto v = json::Parse(res->body);
  if (!v.ok() || !v->is_array())
    return Result<std::string>::Fail("Bot Framework roster of " + channel + ": not a list");
  roster_read_[channel] = clock_.Now();
  for (const auto& m : v->as_array()) {
    auto id = json::GetString(m, "id"), aad = json::GetString(m, "aadObjectId");
    if (id && aad) roster_ids_[*aad] = *id;
  }
  if (auto it = roster_ids_.find(aad_id); it != roster_ids_.end()) return it->second;
  return Result<std::string>::Fail(aad_id + " is not in the roster of channel " + channel, 404);
}

Result<Posted> TeamsConnector::PostPrivately(const PostRequest& r, const std::string& text) {
  const std::string& aad = *r.to_user;
  std::string conversation;
  if (auto it = personal_chat_.find(aad); it != personal_chat_.end()) {
    conversation = it->second;
  } else {
    auto member = RosterId(r.group_id, aad);
    if (!member.ok()) return member.error();
    // The documented 1:1 creation: one member, not a group, the tenant (§3.2). Made again, it
    // gives the same chat; refused (403) when the app is not installed for the person.
    http::Request req;
    req.method = "POST";
    req.idempotent = true;
    req.headers = {{"Accept", "application/json"}};
    req.url = service_url_ + "v3/conversations";
    json::Writer w;
    w.BeginObject().Key("isGroup").Bool(false);
    w.Key("bot").BeginObject().Key("id").String("28:" + s_.bot.client_id).EndObject();
    w.Key("members").BeginArray().BeginObject().Key("id").String(*member).EndObject().EndArray();
    w.Key("tenantId").String(s_.auth.tenant);
    w.Key("channelData").BeginObject().Key("tenant").BeginObject().Key("id").String(s_.auth.tenant);
    w.EndObject().EndObject().EndObject();
    req.body = w.Take();
    auto res = bot_.Send(req, kBot);
    if (!res.ok()) return Result<Posted>::Fail(res.error().message);
    if (res->status != 200 && res->status != 201)
      return Result<Posted>::Fail("Bot Framework: a personal chat with " + aad + ": HTTP " +
                                      std::to_string(res->status) + " " + res->body.substr(0, 200),
                                  res->status);
    auto v = json::Parse(res->body);
    conversation = v.ok() ? json::GetString(*v, "id").value_or("") : "";
    if (conversation.empty())
      return Result<Posted>::Fail("Bot Framework: no conversation id in the answer");
    personal_chat_[aad] = conversation;
  }
  http::Request req;
  req.method = "POST";
  req.idempotent = false;
  req.headers = {{"Accept", "application/json"}};
  req.url = service_url_ + "v3/conversations/" + http::UrlEncode(conversation) + "/activities";
  json::Writer w;
  w.BeginObject().Key("type").String("message").Key("text").String(text);
  WriteCard(w, r);
  w.EndObject();
  req.body = w.Take();
  auto res = bot_.Send(req, kBot);
  if (!res.ok()) return Result<Posted>::Fail(res.error().message);
  if (res->status == 403 || res->status == 404) personal_chat_.erase(aad);  // made anew next time
  if (res->status != 200 && res->status != 201)
    return Result<Posted>::Fail("Bot Framework: a message to " + aad + ": HTTP " +
                                    std::to_string(res->status) + " " + res->body.substr(0, 200),
                                res->status);
  auto v = json::Parse(res->body);
  std::string id = v.ok() ? json::GetString(*v, "id").value_or("") : "";
  if (id.empty()) return Result<Posted>::Fail("Bot Framework: no activity id in the answer");
  return Posted{MessageNativeId(conversation, id), clock_.Now()};
}

Result<Posted> TeamsConnector::Post(const PostRequest& r) {
  // Bot Framework (§3.2): a new thread through v3/conversations, a reply through activities.
  http::Request req;
  req.method = "POST";
  req.idempotent = false;
  req.headers = {{"Accept", "application/json"}};
  json::Writer w;
  std::string channel = r.group_id;
  std::string root;
  // Teams reads the text as HTML: everything escaped, names too; mentions as <at>Name</at> in
  // the text and a mention entity each with the same <at> text (Bot Framework schema).
  std::vector<MentionRef> mentioned;
  auto at = [](const MentionRef& m) { return "<at>" + EscapeHtml(m.name) + "</at>"; };
  std::string text;
  {
    // Mentions as markers (control characters escaping leaves alone), the rest escaped, then
    // the markers replaced by the mentions.
    std::string marked = EscapeHtml(RenderMentions(
        r.body, [](const MentionRef&) { return std::string("\x01"); }, &mentioned));
    size_t k = 0;
    for (char c : marked) {
      if (c == '\x01' && k < mentioned.size())
        text += at(mentioned[k++]);
      else
        text.push_back(c);
    }
  }
  if (r.to_user) return PostPrivately(r, text);
  auto entities = [&](json::Writer& out) {
    if (mentioned.empty()) return;
    out.Key("entities").BeginArray();
    for (const auto& m : mentioned) {
      out.BeginObject().Key("type").String("mention").Key("text").String(at(m));
      out.Key("mentioned").BeginObject().Key("id").String(m.native_id).Key("name").String(m.name);
      out.EndObject().EndObject();
    }
    out.EndArray();
  };
  if (r.reply_to) {
    auto slash = r.reply_to->rfind('/');
    if (slash == std::string::npos)
      return Result<Posted>::Fail("not a Teams message id: " + *r.reply_to);
    channel = r.reply_to->substr(0, slash);
    root = r.reply_to->substr(slash + 1);
    std::string conversation = channel + ";messageid=" + root;
    req.url =
        service_url_ + "v3/conversations/" + http::UrlEncode(conversation) + "/activities/" + root;
    w.BeginObject().Key("type").String("message").Key("text").String(text);
    entities(w);
    w.Key("replyToId").String(root).EndObject();
  } else {
    // The shape of the documented request (§3.2): the bot, the tenant, the channel.
    req.url = service_url_ + "v3/conversations";
    w.BeginObject().Key("isGroup").Bool(true);
    w.Key("bot").BeginObject().Key("id").String("28:" + s_.bot.client_id).EndObject();
    w.Key("tenantId").String(s_.auth.tenant).Key("channelData").BeginObject();
    w.Key("teamsChannelId").String(channel);
    w.Key("channel").BeginObject().Key("id").String(channel).EndObject();
    w.Key("tenant").BeginObject().Key("id").String(s_.auth.tenant).EndObject().EndObject();
    w.Key("activity").BeginObject().Key("type").String("message").Key("text").String(text);
    entities(w);
    WriteCard(w, r);
    w.EndObject().EndObject();
  }
  req.body = w.Take();
  auto res = bot_.Send(req, kBot);
  if (!res.ok()) return Result<Posted>::Fail(res.error().message);
  if (res->status != 200 && res->status != 201)
    return Result<Posted>::Fail(
        "Bot Framework: HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 200),
        res->status);
  auto v = json::Parse(res->body);
  if (!v.ok()) return Result<Posted>::Fail("Bot Framework: the answer is not JSON");
  std::string id = r.reply_to ? json::GetString(*v, "id").value_or("")
                              : json::GetString(*v, "activityId").value_or("");
  if (id.empty()) return Result<Posted>::Fail("Bot Framework: no activity id in the answer");
  return Posted{MessageNativeId(channel, id), clock_.Now()};
}

Result<std::vector<Posted>> TeamsConnector::FindPosted(const PostRequest& r, Time since) {
  if (r.to_user) return std::vector<Posted>{};
  // Our own messages, newest first, until they are older than `since` (§2.5), with the text we
  // send: mentions as <at>Name</at>, which Graph shows as the name.
  std::string channel = r.group_id, url;
  if (r.reply_to) {
    auto slash = r.reply_to->rfind('/');
    channel = r.reply_to->substr(0, slash);
    url = RepliesUrl(*r.reply_to);
  } else {
    url = ChannelUrl(channel) + "/messages?$top=" + std::to_string(kPageSize);
  }
  const std::string self = *SelfUserId();
  const std::string want = TextKey(
      RenderMentions(r.body, [](const MentionRef& m) { return "<at>" + m.name + "</at>"; }));
  std::vector<Posted> found;
  while (!url.empty()) {
    auto res = Get(url);
    if (!res.ok()) return res.error();
    if (res->status != 200)
      return Result<std::vector<Posted>>::Fail("GET messages: HTTP " + std::to_string(res->status),
                                               res->status);
    auto page = ParseMessagePage(res->body, cfg_.name, channel);
    if (!page.ok()) return page.error();
    bool older = false;
    for (const auto& p : page->messages) {
      const Message& m = p.message;
      if (m.created_at < since) {
        older = true;
        continue;
      }
      if (m.author_id == self && TextKey(m.text) == want)
        found.push_back(Posted{NativeId(m.id), m.created_at});
    }
    if (older) break;
    url = page->next_link.value_or("");
  }
  std::sort(found.begin(), found.end(),
            [](const Posted& a, const Posted& b) { return a.created_at < b.created_at; });
  return found;
}

}  // namespace learnloop::connectors::teams
