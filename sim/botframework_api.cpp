#include "sim/botframework_api.h"

#include "core/json.h"

namespace learnloop::sim {

namespace {

SimReply BotError(int status, const std::string& code, const std::string& message) {
  json::Writer w;
  w.BeginObject().Key("error").BeginObject().Key("code").String(code).Key("message").String(
      message);
  w.EndObject().EndObject();
  SimReply r;
  r.status = status;
  r.body = w.Take();
  return r;
}

// The text a person sees: the activity's text, or the first TextBlock of an Adaptive Card.
std::string TextOf(const json::Value& activity) {
  if (auto t = json::GetString(activity, "text"); t && !t->empty()) return *t;
  if (const json::Value* atts = json::Find(activity, "attachments"); atts && atts->is_array())
    for (const auto& a : atts->as_array())
      if (const json::Value* content = json::Find(a, "content"))
        if (const json::Value* body = json::Find(*content, "body"); body && body->is_array())
          for (const auto& b : body->as_array())
            if (auto t = json::GetString(b, "text")) return *t;
  return "";
}

// The buttons of the activity's Adaptive Cards. The card content is an object in the Bot
// Framework; a card sent as a JSON string is read too.
std::vector<CardAction> ActionsOf(const json::Value& activity) {
  std::vector<CardAction> out;
  const json::Value* atts = json::Find(activity, "attachments");
  if (!atts || !atts->is_array()) return out;
  for (const auto& a : atts->as_array()) {
    if (json::GetString(a, "contentType").value_or("") != "application/vnd.microsoft.card.adaptive")
      continue;
    const json::Value* content = json::Find(a, "content");
    json::Value parsed;
    if (content && content->is_string()) {
      auto p = json::Parse(content->as_string());
      if (!p.ok()) continue;
      parsed = *p;
      content = &parsed;
    }
    const json::Value* actions = content ? json::Find(*content, "actions") : nullptr;
    if (!actions || !actions->is_array()) continue;
    for (const auto& act : actions->as_array()) {
      std::string type = json::GetString(act, "type").value_or("");
      if (type != "Action.Submit" && type != "Action.Execute") continue;
      CardAction ca;
      ca.title = json::GetString(act, "title").value_or("");
      const json::Value* data = json::Find(act, "data");
      ca.data = data ? json::Dump(*data) : "{}";
      ca.execute = type == "Action.Execute";
      out.push_back(std::move(ca));
    }
  }
  return out;
}

}  // namespace

std::optional<SimReply> BotFrameworkApi::Throttle(const std::string& thread) {
  // Per bot per thread: 7 in 1 s, 8 in 2 s, 60 in 30 s, 1800 in an hour (§3.4).
  static const std::array<std::pair<int, int>, 4> kLimits = {
      {{1, 7}, {2, 8}, {30, 60}, {3600, 1800}}};
  Time now = world_.Now();
  auto& q = sent_[thread];
  while (!q.empty() && q.front() <= now - std::chrono::hours{1}) q.pop_front();
  for (auto [secs, limit] : kLimits) {
    int n = 0;
    for (auto it = q.rbegin(); it != q.rend() && *it > now - std::chrono::seconds{secs}; ++it) ++n;
    if (n >= limit) {
      ++world_.stats().throttled;
      ++world_.stats().violations;
      SimReply r =
          BotError(429, "TooManyRequests", "The bot sent too many messages to this conversation.");
      r.headers.push_back({"Retry-After", std::to_string(secs)});
      return r;
    }
  }
  q.push_back(now);
  return std::nullopt;
}

SimReply BotFrameworkApi::Handle(const SimRequest& r) {
  ++world_.stats().requests["botframework"];
  std::string auth = r.Header("authorization");
  std::string bearer = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
  if (identity_.Validate(bearer, "botframework") != Identity::Check::kOk) {
    ++world_.stats().unauthorized;
    return BotError(401, "Unauthorized", "Authorization has been denied for this request.");
  }
  const std::string prefix = "/bf/v3/conversations";
  if (r.path.rfind(prefix, 0) != 0) return BotError(404, "NotFound", "Unknown path.");
  std::string rest = r.path.substr(prefix.size());
  if (r.method == "GET") return Members(rest);
  if (r.method != "POST" && r.method != "PUT" && r.method != "DELETE")
    return BotError(405, "BadSyntax", "Use GET, POST, PUT or DELETE.");
  auto body = json::Parse(r.method == "DELETE" ? "{}" : r.body);
  if (!body.ok() || !body->is_object())
    return BotError(400, "BadSyntax", "The body is not a JSON object.");
  if (r.method != "POST") return Change(r, rest, *body);
  SimReply out;
  out.status = 201;
  if ((rest.empty() || rest == "/") && !json::GetBool(*body, "isGroup").value_or(false))
    return Personal(*body);
  if (rest.rfind("/a:", 0) == 0) return InPersonal(rest, *body);
  if (rest.empty() || rest == "/") {
    // A new thread in a channel.
    const json::Value* cd = json::Find(*body, "channelData");
    std::string channel_id;
    if (cd) {
      if (const json::Value* ch = json::Find(*cd, "channel"))
        channel_id = json::GetString(*ch, "id").value_or("");
      if (channel_id.empty()) channel_id = json::GetString(*cd, "teamsChannelId").value_or("");
    }
    const Community* channel = nullptr;
    for (const auto& c : world_.communities())
      if (c.IsChannel() && c.channel_id == channel_id) channel = &c;
    if (!channel)
      return BotError(404, "ConversationNotFound", "Channel '" + channel_id + "' not found.");
    const json::Value* activity = json::Find(*body, "activity");
    std::string text = activity ? TextOf(*activity) : "";
    if (text.empty()) return BotError(400, "BadSyntax", "The activity has no text.");
    if (auto t = Throttle(channel_id)) return *t;
    size_t idx =
        world_.Post(world_.bot().id, channel->id, std::nullopt, text, true, ActionsOf(*activity));
    std::string id = std::to_string(world_.messages()[idx].id);
    json::Writer w;
    w.BeginObject()
        .Key("id")
        .String(channel_id + ";messageid=" + id)
        .Key("activityId")
        .String(id)
        .EndObject();
    out.body = w.Take();
    return out;
  }
  // …/{conversationId}/activities[/{activityId}]: a reply in the thread.
  auto act = rest.find("/activities");
  if (rest[0] != '/' || act == std::string::npos) return BotError(404, "NotFound", "Unknown path.");
  std::string conversation = rest.substr(1, act - 1);
  auto mark = conversation.find(";messageid=");
  if (mark == std::string::npos)
    return BotError(400, "BadSyntax", "Not a channel thread conversation.");
  std::optional<size_t> root;
  try {
    root = world_.FindMessage(std::stoll(conversation.substr(mark + 11)));
  } catch (const std::exception&) {
  }
  const Community* channel = root ? world_.FindCommunity(world_.messages()[*root].group) : nullptr;
  if (!root || !channel || !channel->IsChannel() ||
      channel->channel_id != conversation.substr(0, mark))
    return BotError(404, "ConversationNotFound", "Conversation not found.");
  std::string text = TextOf(*body);
  if (text.empty()) return BotError(400, "BadSyntax", "The activity has no text.");
  if (auto t = Throttle(conversation)) return *t;
  size_t idx = world_.Post(world_.bot().id, 0, world_.messages()[*root].thread, text, true,
                           ActionsOf(*body));
  json::Writer w;
  w.BeginObject().Key("id").String(std::to_string(world_.messages()[idx].id)).EndObject();
  out.body = w.Take();
  return out;
}

SimReply BotFrameworkApi::Members(const std::string& rest) {
  // GET …/{conversationId}/members: the roster of the team a channel (or a channel thread)
  // belongs to, as TeamsChannelAccount objects.
  auto slash = rest.rfind("/members");
  if (rest.empty() || rest[0] != '/' || slash == std::string::npos || slash + 8 != rest.size())
    return BotError(404, "NotFound", "Unknown path.");
  std::string conversation = rest.substr(1, slash - 1);
  conversation = conversation.substr(0, conversation.find(";messageid="));
  const Community* channel = nullptr;
  for (const auto& c : world_.communities())
    if (c.IsChannel() && c.channel_id == conversation) channel = &c;
  if (!channel) return BotError(404, "ConversationNotFound", "Conversation not found.");
  std::set<int64_t> team;  // everyone in one of the team's channels
  for (const auto& c : world_.communities())
    if (c.IsChannel() && c.team_id == channel->team_id)
      team.insert(c.members.begin(), c.members.end());
  json::Writer w;
  w.BeginArray();
  for (int64_t id : team) {
    const Person* p = world_.FindPerson(id);
    if (!p || p->bot) continue;
    w.BeginObject().Key("id").String(p->mri).Key("name").String(p->first + " " + p->last);
    w.Key("aadObjectId").String(p->aad_id).Key("givenName").String(p->first);
    w.Key("surname").String(p->last).Key("email").String(p->email);
    w.Key("userPrincipalName").String(p->email).Key("tenantId").String(identity_.options().tenant);
    w.Key("userRole").String("user").EndObject();
  }
  w.EndArray();
  SimReply out;
  out.body = w.Take();
  return out;
}

SimReply BotFrameworkApi::Personal(const json::Value& body) {
  // A 1:1 chat (isGroup false): exactly one member, by roster id (29:…), and the tenant; the
  // same chat each time; refused when the app is not installed for the person.
  const json::Value* members = json::Find(body, "members");
  if (!members || !members->is_array() || members->as_array().size() != 1 ||
      json::GetString(body, "tenantId").value_or("").empty())
    return BotError(400, "BadSyntax", "Incorrect conversation creation parameters");
  std::string mri = json::GetString(*members->as_array().begin(), "id").value_or("");
  const Person* p = world_.FindByMri(mri);
  if (!p) return BotError(400, "BadSyntax", "Incorrect conversation creation parameters");
  if (!p->teams_app || p->state != "active")
    return BotError(403, "BotNotInConversationRoster",
                    "The bot is not part of the conversation roster.");
  std::string chat = world_.PersonalChat(p->id);
  if (const json::Value* activity = json::Find(body, "activity")) {
    std::string text = TextOf(*activity);
    if (!text.empty())
      world_.PostPrivate(world_.bot().id, {p->id}, std::nullopt, text, chat, ActionsOf(*activity));
  }
  json::Writer w;
  w.BeginObject().Key("id").String(chat).EndObject();
  SimReply out;
  out.status = 201;
  out.body = w.Take();
  return out;
}

SimReply BotFrameworkApi::InPersonal(const std::string& rest, const json::Value& body) {
  // POST …/a:…/activities: a message in a personal chat.
  auto act = rest.find("/activities");
  if (act == std::string::npos) return BotError(404, "NotFound", "Unknown path.");
  std::string chat = rest.substr(1, act - 1);
  const Person* to = world_.FindPerson(world_.PersonOfChat(chat));
  if (!to) return BotError(404, "ConversationNotFound", "Conversation not found.");
  if (!to->teams_app)
    return BotError(403, "BotNotInConversationRoster",
                    "The bot is not part of the conversation roster.");
  std::string text = TextOf(body);
  if (text.empty()) return BotError(400, "BadSyntax", "The activity has no text.");
  if (auto t = Throttle(chat)) return *t;
  size_t idx =
      world_.PostPrivate(world_.bot().id, {to->id}, std::nullopt, text, chat, ActionsOf(body));
  json::Writer w;
  w.BeginObject().Key("id").String(std::to_string(world_.messages()[idx].id)).EndObject();
  SimReply out;
  out.status = 201;
  out.body = w.Take();
  return out;
}

SimReply BotFrameworkApi::Change(const SimRequest& r, const std::string& rest,
                                 const json::Value& body) {
  // PUT or DELETE …/{conversationId}/activities/{activityId}: the bot edits or deletes one of
  // its own messages in the thread.
  auto act = rest.find("/activities/");
  if (rest.empty() || rest[0] != '/' || act == std::string::npos)
    return BotError(404, "NotFound", "Unknown path.");
  std::string conversation = rest.substr(1, act - 1);
  auto mark = conversation.find(";messageid=");
  std::optional<size_t> idx;
  try {
    idx = world_.FindMessage(std::stoll(rest.substr(act + 12)));
  } catch (const std::exception&) {
  }
  if (mark == std::string::npos || !idx)
    return BotError(404, "ActivityNotFound", "Activity not found.");
  const Msg& m = world_.messages()[*idx];
  const Community* channel = world_.FindCommunity(m.group);
  if (!channel || channel->channel_id != conversation.substr(0, mark) ||
      std::to_string(world_.messages()[m.thread].id) != conversation.substr(mark + 11) || m.deleted)
    return BotError(404, "ActivityNotFound", "Activity not found.");
  if (!m.by_bot) return BotError(403, "Forbidden", "The bot can change only its own messages.");
  if (auto t = Throttle(conversation)) return *t;
  SimReply out;
  if (r.method == "DELETE") {
    world_.Delete(*idx);
    return out;
  }
  std::string text = TextOf(body);
  if (text.empty()) return BotError(400, "BadSyntax", "The activity has no text.");
  world_.Edit(*idx, text);
  json::Writer w;
  w.BeginObject().Key("id").String(std::to_string(m.id)).EndObject();
  out.body = w.Take();
  return out;
}

SimReply BotFrameworkApi::Register(const SimRequest& r) {
  auto v = json::Parse(r.body);
  SimReply rep;
  if (!v.ok() || !json::GetString(*v, "endpoint")) {
    rep.status = 400;
    rep.body = R"({"error":"give endpoint"})";
    return rep;
  }
  endpoint_ = *json::GetString(*v, "endpoint");
  all_messages_ = json::GetBool(*v, "all_messages").value_or(false);
  host_ = "http://" + (r.Header("host").empty() ? std::string("127.0.0.1") : r.Header("host"));
  service_url_ = host_ + "/bf/";
  json::Writer w;
  w.BeginObject()
      .Key("serviceUrl")
      .String(service_url_)
      .Key("openid")
      .String(host_ + "/botframework/v1/.well-known/openidconfiguration");
  w.EndObject();
  rep.body = w.Take();
  return rep;
}

SimReply BotFrameworkApi::OpenId(const SimRequest& r) {
  SimReply rep;
  std::string host =
      "http://" + (r.Header("host").empty() ? std::string("127.0.0.1") : r.Header("host"));
  if (r.path == "/botframework/v1/.well-known/openidconfiguration") {
    json::Writer w;
    w.BeginObject().Key("issuer").String("https://api.botframework.com");
    w.Key("authorization_endpoint").String("https://invalid.botframework.com");
    w.Key("jwks_uri").String(host + "/botframework/v1/.well-known/keys");
    w.Key("id_token_signing_alg_values_supported").BeginArray().String("RS256").EndArray();
    w.Key("token_endpoint_auth_methods_supported")
        .BeginArray()
        .String("private_key_jwt")
        .EndArray()
        .EndObject();
    rep.body = w.Take();
  } else if (r.path == "/botframework/v1/.well-known/keys") {
    rep.body = signer_.Jwks();
  } else {
    rep.status = 404;
  }
  return rep;
}

namespace {
// What every activity starts with: its type and id, when, through which service, from whom.
void BeginActivityFrom(json::Writer& w, const std::string& type, const std::string& id, Time at,
                       const Person& from, const std::string& service_url) {
  w.BeginObject().Key("type").String(type).Key("id").String(id);
  w.Key("timestamp").String(FormatIsoMillis(at)).Key("channelId").String("msteams");
  w.Key("serviceUrl").String(service_url);
  w.Key("from").BeginObject().Key("id").String(from.mri);
  w.Key("name").String(from.first + " " + from.last);
  w.Key("aadObjectId").String(from.aad_id).EndObject();
}
}  // namespace

void BotFrameworkApi::BeginActivity(json::Writer& w, const std::string& type, const std::string& id,
                                    Time at, const Person& from, const Community& c,
                                    const Msg& root, const std::string* card) {
  const std::string tenant = identity_.options().tenant, app = identity_.options().BotAppId();
  std::string conversation = c.channel_id + ";messageid=" + std::to_string(root.id);
  std::string team_thread = "19:" + c.team_id.substr(0, 8) + "team@thread.tacv2";
  BeginActivityFrom(w, type, id, at, from, service_url_);
  w.Key("conversation")
      .BeginObject()
      .Key("isGroup")
      .Bool(true)
      .Key("conversationType")
      .String("channel");
  w.Key("tenantId").String(tenant).Key("id").String(conversation).Key("name").String(c.name);
  w.EndObject();
  w.Key("recipient")
      .BeginObject()
      .Key("id")
      .String("28:" + app)
      .Key("name")
      .String("Learning Bot")
      .EndObject();
  w.Key("entities")
      .BeginArray()
      .BeginObject()
      .Key("type")
      .String("clientInfo")
      .Key("locale")
      .String("en-US");
  w.Key("platform").String("Web").EndObject().EndArray();
  w.Key("channelData")
      .BeginObject()
      .Key("teamsChannelId")
      .String(c.channel_id)
      .Key("teamsTeamId")
      .String(team_thread);
  w.Key("channel").BeginObject().Key("id").String(c.channel_id).EndObject();
  w.Key("team").BeginObject().Key("id").String(team_thread).EndObject();
  w.Key("tenant").BeginObject().Key("id").String(tenant).EndObject();
  if (card) {
    // Card actions name the card's source and carry the legacy reply id Teams adds.
    w.Key("source").BeginObject().Key("name").String("message").EndObject();
    w.Key("legacy").BeginObject().Key("replyToId").String("1:" + card->substr(0, 40));
    w.EndObject();
  }
  w.EndObject();
  w.Key("locale").String("en-US").Key("localTimezone").String(world_.options().timezone);
  w.Key("localTimestamp").String(FormatIsoMillis(at).substr(0, 23) + "+00:00");
}

void BotFrameworkApi::BeginPersonalActivity(json::Writer& w, const std::string& type,
                                            const std::string& id, Time at, const Person& from,
                                            const std::string& chat) {
  const std::string tenant = identity_.options().tenant, app = identity_.options().BotAppId();
  BeginActivityFrom(w, type, id, at, from, service_url_);
  w.Key("conversation").BeginObject().Key("conversationType").String("personal");
  w.Key("tenantId").String(tenant).Key("id").String(chat).EndObject();
  w.Key("recipient").BeginObject().Key("id").String("28:" + app).Key("name").String("Learning Bot");
  w.EndObject();
  w.Key("channelData").BeginObject().Key("tenant").BeginObject().Key("id").String(tenant);
  w.EndObject().EndObject();
  w.Key("locale").String("en-US").Key("localTimezone").String(world_.options().timezone);
  w.Key("localTimestamp").String(FormatIsoMillis(at).substr(0, 23) + "+00:00");
}

void BotFrameworkApi::Deliver(std::string body, Notifier& out) {
  // Signed as the Bot Connector signs: issuer, audience = the bot's app id, serviceUrl claim.
  auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(world_.Now().time_since_epoch()).count();
  json::Writer claims;
  claims.BeginObject().Key("serviceUrl").String(service_url_).Key("nbf").Int(now_s - 300);
  claims.Key("exp")
      .Int(now_s + 3600)
      .Key("iss")
      .String("https://api.botframework.com")
      .Key("aud")
      .String(identity_.options().BotAppId());
  claims.EndObject();
  Notifier::Delivery d;
  d.url = endpoint_;
  d.body = std::move(body);
  d.due = world_.Now();
  d.kind = "bot_activity";
  d.headers = {{"Authorization", "Bearer " + signer_.Sign(claims.str())}};
  out.Enqueue(std::move(d));
}

void BotFrameworkApi::OnChange(size_t idx, bool created, Notifier& out) {
  if (!created || endpoint_.empty()) return;
  const Msg& m = world_.messages()[idx];
  const Msg& root = world_.messages()[m.thread];
  if (!m.chat.empty()) {  // a person's message in their personal chat with the bot
    const Person* from = world_.FindPerson(m.sender);
    if (!from || from->bot) return;
    json::Writer w;
    BeginPersonalActivity(w, "message", std::to_string(m.id), m.created_at, *from, m.chat);
    w.Key("text").String(world_.Text(m)).Key("textFormat").String("plain");
    w.EndObject();
    Deliver(w.Take(), out);
    return;
  }
  const Community* c = world_.FindCommunity(m.group);
  const Person* from = world_.FindPerson(m.sender);
  if (!c || !c->IsChannel() || !from || from->bot || m.system) return;
  if (!all_messages_ && !root.by_bot) return;
  json::Writer w;
  BeginActivity(w, "message", std::to_string(m.id), m.created_at, *from, *c, root);
  w.Key("text").String(world_.Text(m)).Key("textFormat").String("plain");
  if (&root != &m) w.Key("replyToId").String(std::to_string(root.id));
  w.Key("attachments").BeginArray().BeginObject().Key("contentType").String("text/html");
  w.Key("content").String("<p>" + world_.Text(m) + "</p>").EndObject().EndArray();
  w.EndObject();
  Deliver(w.Take(), out);
}

namespace {
// The rest of a button press's activity: which card, and the button's data (an Action.Submit
// sends its data as the value; an Action.Execute wraps it in an adaptiveCard/action invoke).
void WritePress(json::Writer& w, const Msg& card, const CardAction& a) {
  w.Key("replyToId").String(std::to_string(card.id));
  w.Key("value");
  auto data = json::Parse(a.data);
  if (a.execute) {
    w.BeginObject().Key("action").BeginObject().Key("type").String("Action.Execute");
    w.Key("title").String(a.title).Key("data");
    if (data.ok())
      w.Raw(a.data);
    else
      w.BeginObject().EndObject();
    w.EndObject().Key("trigger").String("manual").EndObject();
    w.Key("name").String("adaptiveCard/action");
  } else if (data.ok()) {
    w.Raw(a.data);
  } else {
    w.BeginObject().EndObject();
  }
  w.EndObject();
}
}  // namespace

void BotFrameworkApi::OnClick(size_t k, Notifier& out) {
  if (endpoint_.empty()) return;
  const CardClick& click = world_.clicks()[k];
  const Msg& card = world_.messages()[click.card];
  const Community* c = world_.FindCommunity(card.group);
  const Person* from = world_.FindPerson(click.user);
  const auto* actions = world_.CardActions(click.card);
  if (!from || !actions || click.action >= actions->size()) return;
  bool personal = !card.chat.empty();  // a card in a personal chat, or in a channel
  if (!personal && (!c || !c->IsChannel())) return;
  const CardAction& a = (*actions)[click.action];
  char id[48];
  std::snprintf(id, sizeof id, "f:%016llx-%04zx", static_cast<unsigned long long>(card.id), k);
  const char* type = a.execute ? "invoke" : "message";
  json::Writer w;
  if (personal) {
    BeginPersonalActivity(w, type, id, click.at, *from, card.chat);
  } else {
    std::string legacy = std::to_string(card.id) + "-" + from->aad_id;
    BeginActivity(w, type, id, click.at, *from, *c, world_.messages()[card.thread], &legacy);
  }
  WritePress(w, card, a);
  Deliver(w.Take(), out);
}

}  // namespace learnloop::sim
