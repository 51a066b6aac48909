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
  if (r.method != "POST") return BotError(405, "BadSyntax", "Only POST is supported here.");
  auto body = json::Parse(r.body);
  if (!body.ok() || !body->is_object())
    return BotError(400, "BadSyntax", "The body is not a JSON object.");
  const std::string prefix = "/bf/v3/conversations";
  if (r.path.rfind(prefix, 0) != 0) return BotError(404, "NotFound", "Unknown path.");
  std::string rest = r.path.substr(prefix.size());
  SimReply out;
  out.status = 201;
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
    size_t idx = world_.Post(world_.bot().id, channel->id, std::nullopt, text, true);
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
  size_t idx = world_.Post(world_.bot().id, 0, world_.messages()[*root].thread, text, true);
  json::Writer w;
  w.BeginObject().Key("id").String(std::to_string(world_.messages()[idx].id)).EndObject();
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

void BotFrameworkApi::OnChange(size_t idx, bool created, Notifier& out) {
  if (!created || endpoint_.empty()) return;
  const Msg& m = world_.messages()[idx];
  const Msg& root = world_.messages()[m.thread];
  const Community* c = world_.FindCommunity(m.group);
  const Person* from = world_.FindPerson(m.sender);
  if (!c || !c->IsChannel() || !from || from->bot || m.system) return;
  if (!all_messages_ && !root.by_bot) return;
  const std::string tenant = identity_.options().tenant, app = identity_.options().client_id;
  std::string conversation = c->channel_id + ";messageid=" + std::to_string(root.id);
  std::string team_thread = "19:" + c->team_id.substr(0, 8) + "team@thread.tacv2";
  json::Writer w;
  w.BeginObject().Key("type").String("message").Key("id").String(std::to_string(m.id));
  w.Key("timestamp").String(FormatIsoMillis(m.created_at)).Key("channelId").String("msteams");
  w.Key("serviceUrl").String(service_url_);
  w.Key("from")
      .BeginObject()
      .Key("id")
      .String("29:" + from->aad_id)
      .Key("name")
      .String(from->first + " " + from->last);
  w.Key("aadObjectId").String(from->aad_id).EndObject();
  w.Key("conversation")
      .BeginObject()
      .Key("isGroup")
      .Bool(true)
      .Key("conversationType")
      .String("channel");
  w.Key("tenantId").String(tenant).Key("id").String(conversation).EndObject();
  w.Key("recipient")
      .BeginObject()
      .Key("id")
      .String("28:" + app)
      .Key("name")
      .String("Learning Bot")
      .EndObject();
  w.Key("text").String(world_.Text(m)).Key("textFormat").String("plain");
  if (&root != &m) w.Key("replyToId").String(std::to_string(root.id));
  w.Key("attachments").BeginArray().BeginObject().Key("contentType").String("text/html");
  w.Key("content").String("<p>" + world_.Text(m) + "</p>").EndObject().EndArray();
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
      .String(c->channel_id)
      .Key("teamsTeamId")
      .String(team_thread);
  w.Key("channel").BeginObject().Key("id").String(c->channel_id).EndObject();
  w.Key("team").BeginObject().Key("id").String(team_thread).EndObject();
  w.Key("tenant").BeginObject().Key("id").String(tenant).EndObject().EndObject();
  w.Key("locale").String("en-US").Key("localTimezone").String(world_.options().timezone);
  w.Key("localTimestamp")
      .String(FormatIsoMillis(m.created_at).substr(0, 23) + "+00:00")
      .EndObject();
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
      .String(app);
  claims.EndObject();
  Notifier::Delivery d;
  d.url = endpoint_;
  d.body = w.Take();
  d.due = world_.Now();
  d.kind = "bot_activity";
  d.headers = {{"Authorization", "Bearer " + signer_.Sign(claims.str())}};
  out.Enqueue(std::move(d));
}

}  // namespace learnloop::sim
