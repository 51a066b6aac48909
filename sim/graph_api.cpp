#include "sim/graph_api.h"

#include <algorithm>
#include <sstream>
#include <vector>

namespace learnloop::sim {

namespace {

constexpr int kDefaultTop = 20;
constexpr int kMaxTop = 50;
// Named kinds of older data, a unicode emoji, and a custom one (reference §2.8).
const char* const kReactionTypes[] = {"like",  "heart", "laugh", "surprised", "\xF0\x9F\x91\x8D",
                                      "custom"};

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  std::string p;
  while (std::getline(ss, p, '/'))
    if (!p.empty()) parts.push_back(p);
  return parts;
}

// Paging and delta tokens are opaque to clients: the state is written out as hex.
std::string Encode(const std::string& state) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "L";
  for (unsigned char c : state) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<std::vector<int64_t>> Decode(const std::string& token) {
  if (token.size() < 1 || token[0] != 'L' || token.size() % 2 == 0) return std::nullopt;
  std::string s;
  for (size_t i = 1; i + 1 < token.size(); i += 2) {
    auto hex = [](char c) { return c >= 'a' ? c - 'a' + 10 : c - '0'; };
    s.push_back(static_cast<char>(hex(token[i]) * 16 + hex(token[i + 1])));
  }
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string part;
  try {
    while (std::getline(ss, part, '|')) out.push_back(std::stoll(part));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return out;
}

std::string Join(std::initializer_list<int64_t> v) {
  std::string s;
  for (int64_t x : v) {
    if (!s.empty()) s += '|';
    s += std::to_string(x);
  }
  return s;
}

int Top(const SimRequest& r) {
  std::string t = r.Query("$top");
  if (t.empty()) return kDefaultTop;
  try {
    return std::clamp(std::stoi(t), 1, kMaxTop);
  } catch (const std::exception&) {
    return kDefaultTop;
  }
}

SimReply Ok(std::string body) {
  SimReply r;
  r.body = std::move(body);
  return r;
}

}  // namespace

std::optional<SimReply> GraphApi::Throttle(const std::string& bucket, int limit) {
  Time now = world_.Now();
  auto& q = windows_[bucket];
  while (!q.empty() && q.front() <= now - std::chrono::seconds{1}) q.pop_front();
  if (static_cast<int>(q.size()) < limit) {
    q.push_back(now);
    return std::nullopt;
  }
  ++world_.stats().throttled;
  ++world_.stats().violations;
  SimReply r = GraphError(429, "TooManyRequests", "Too many requests.", now);
  if (std::uniform_real_distribution<double>(0, 1)(rng_) < opt_.retry_after_rate) {
    auto wait =
        std::chrono::ceil<std::chrono::seconds>(q.front() + std::chrono::seconds{1} - now).count();
    r.headers.push_back({"Retry-After", std::to_string(std::max<int64_t>(1, wait))});
  }
  return r;
}

void GraphApi::WriteMessage(json::Writer& w, const Msg& m, const Community& c, bool with_replies) {
  const auto& msgs = world_.messages();
  const Msg& root = msgs[m.thread];
  const std::string tenant = identity_.options().tenant;
  std::string id = std::to_string(m.id);
  w.BeginObject();
  w.Key("@odata.type").String("#microsoft.graph.chatMessage");
  w.Key("id").String(id).Key("replyToId");
  if (&root == &m)
    w.Null();
  else
    w.String(std::to_string(root.id));
  Time modified =
      std::max(m.created_at, m.reacted_at.empty() ? m.created_at : m.reacted_at.back().second);
  w.Key("etag").String(std::to_string(ToUnixMillis(modified)));
  w.Key("messageType").String("message");
  w.Key("createdDateTime").String(FormatIsoMillis(m.created_at));
  w.Key("lastModifiedDateTime").String(FormatIsoMillis(modified));
  w.Key("lastEditedDateTime");
  if (m.edited_at)
    w.String(FormatIsoMillis(*m.edited_at));
  else
    w.Null();
  w.Key("deletedDateTime");
  if (m.deleted)
    w.String(FormatIsoMillis(modified));
  else
    w.Null();
  w.Key("subject").Null().Key("summary").Null().Key("chatId").Null();
  w.Key("importance").String("normal").Key("locale").String("en-us");
  w.Key("webUrl").String("https://teams.microsoft.com/l/message/" + c.channel_id + "/" + id +
                         "?groupId=" + c.team_id + "&tenantId=" + tenant + "&createdTime=" + id +
                         "&parentMessageId=" + std::to_string(root.id));
  w.Key("policyViolation").Null().Key("eventDetail").Null();
  const Person* sender = world_.FindPerson(m.sender);
  w.Key("from").BeginObject().Key("device").Null();
  if (m.by_bot) {
    w.Key("user")
        .Null()
        .Key("application")
        .BeginObject()
        .Key("id")
        .String(identity_.options().BotAppId());
    w.Key("displayName")
        .String("Learning Bot")
        .Key("applicationIdentityType")
        .String("bot")
        .EndObject();
  } else {
    w.Key("application").Null().Key("user").BeginObject();
    w.Key("@odata.type").String("#microsoft.graph.teamworkUserIdentity");
    w.Key("id").String(sender ? sender->aad_id : "").Key("displayName");
    if (sender)
      w.String(sender->first + " " + sender->last);
    else
      w.Null();
    w.Key("userIdentityType").String("aadUser").Key("tenantId").String(tenant).EndObject();
  }
  w.EndObject();
  std::string content = m.deleted ? "" : world_.Text(m);
  const Person* mentioned = m.mention ? world_.FindPerson(m.mention) : nullptr;
  if (mentioned && !m.deleted)
    content =
        "<p>" + content + " <at id=\"0\">" + mentioned->first + " " + mentioned->last + "</at></p>";
  w.Key("body").BeginObject().Key("contentType").String(mentioned ? "html" : "text");
  w.Key("content").String(content).EndObject();
  w.Key("channelIdentity")
      .BeginObject()
      .Key("teamId")
      .String(c.team_id)
      .Key("channelId")
      .String(c.channel_id)
      .EndObject();
  w.Key("attachments").BeginArray().EndArray();
  w.Key("mentions").BeginArray();
  if (mentioned && !m.deleted) {
    w.BeginObject()
        .Key("id")
        .Int(0)
        .Key("mentionText")
        .String(mentioned->first + " " + mentioned->last);
    w.Key("mentioned")
        .BeginObject()
        .Key("application")
        .Null()
        .Key("device")
        .Null()
        .Key("conversation")
        .Null();
    w.Key("tag").Null().Key("user").BeginObject().Key("id").String(mentioned->aad_id);
    w.Key("displayName")
        .String(mentioned->first + " " + mentioned->last)
        .Key("userIdentityType")
        .String("aadUser");
    w.EndObject().EndObject().EndObject();
  }
  w.EndArray();
  w.Key("reactions").BeginArray();
  for (const auto& [who, at] : m.reacted_at) {
    const Person* p = world_.FindPerson(who);
    if (!p) continue;
    std::string type = kReactionTypes[(who + m.id) % std::size(kReactionTypes)];
    w.BeginObject().Key("reactionType").String(type);
    if (type == "custom")
      w.Key("displayName")
          .String("Kudos")
          .Key("reactionContentUrl")
          .String("https://us-api.asm.skype.com/v1/objects/0-wus-d1-kudos/views/imgo");
    else
      w.Key("displayName").Null().Key("reactionContentUrl").Null();
    w.Key("createdDateTime").String(FormatIsoMillis(at));
    w.Key("user")
        .BeginObject()
        .Key("application")
        .Null()
        .Key("device")
        .Null()
        .Key("user")
        .BeginObject();
    w.Key("id")
        .String(p->aad_id)
        .Key("displayName")
        .Null()
        .Key("userIdentityType")
        .String("aadUser");
    w.EndObject().EndObject().EndObject();
  }
  w.EndArray();
  w.Key("messageHistory").BeginArray().EndArray();
  if (with_replies) {
    w.Key("replies").BeginArray();
    const auto& thread = world_.InThread(m.id);
    for (auto it = thread.rbegin(); it != thread.rend(); ++it)
      if (*it != m.thread) WriteMessage(w, msgs[*it], c, false);
    w.EndArray();
  }
  w.EndObject();
}

SimReply GraphApi::Handle(const SimRequest& r) {
  Time now = world_.Now();
  std::string auth = r.Header("authorization");
  std::string bearer = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
  switch (identity_.Validate(bearer, "graph")) {
    case Identity::Check::kOk:
      break;
    case Identity::Check::kExpired:
      ++world_.stats().unauthorized;
      return GraphError(401, "InvalidAuthenticationToken",
                        "Lifetime validation failed, the token is expired.", now);
    case Identity::Check::kUnknown:
      ++world_.stats().unauthorized;
      return GraphError(401, "InvalidAuthenticationToken",
                        "Access token validation failure. Invalid audience.", now);
  }
  auto parts = Split(r.path);  // v1.0, teams, {t}, channels, {c}, messages, …
  std::string host =
      "http://" + (r.Header("host").empty() ? std::string("127.0.0.1") : r.Header("host"));
  if (r.method != "GET")
    return GraphError(403, "Forbidden",
                      "This operation is not supported with application permissions.", now);
  if (parts.size() >= 2 && parts[1] == "users") {
    ++world_.stats().requests["graph_other"];
    if (auto t = Throttle("other", opt_.other_rps)) return *t;
    return Users(r, host + "/v1.0/users");
  }
  if (parts.size() < 3 || parts[1] != "teams")
    return GraphError(
        404, "NotFound",
        "Resource not found for the segment '" + (parts.size() > 1 ? parts[1] : "") + "'.", now);
  const std::string& team = parts[2];
  std::vector<const Community*> channels;
  for (const auto& c : world_.communities())
    if (c.IsChannel() && c.team_id == team) channels.push_back(&c);
  if (channels.empty())
    return GraphError(404, "NotFound", "No team found with Group Id " + team, now);
  if (auto t = Throttle("team:" + team, opt_.channel_rps)) return *t;
  if (parts.size() == 4 && parts[3] == "channels") {
    ++world_.stats().requests["graph_channels"];
    json::Writer w;
    w.BeginObject()
        .Key("@odata.context")
        .String("https://graph.microsoft.com/v1.0/$metadata#teams('" + team + "')/channels");
    w.Key("@odata.count").Int(static_cast<int64_t>(channels.size())).Key("value").BeginArray();
    for (const Community* c : channels) {
      w.BeginObject()
          .Key("id")
          .String(c->channel_id)
          .Key("createdDateTime")
          .String(FormatIsoMillis(c->created_at));
      w.Key("displayName").String(c->full_name).Key("description").String(c->description);
      w.Key("email").String("").Key("webUrl").String("https://teams.microsoft.com/l/channel/" +
                                                     c->channel_id);
      w.Key("membershipType").String("standard").Key("tenantId").String(identity_.options().tenant);
      w.Key("isArchived").Bool(false).EndObject();
    }
    w.EndArray().EndObject();
    return Ok(w.Take());
  }
  if (parts.size() == 4 && parts[3] == "members") {
    ++world_.stats().requests["graph_other"];
    if (opt_.members_forbidden.count(team))
      return GraphError(403, "Forbidden",
                        "Missing role permissions on the request. API requires one of "
                        "'TeamMember.Read.All, TeamMember.Read.Group'.",
                        now);
    json::Writer w;
    w.BeginObject()
        .Key("@odata.context")
        .String("https://graph.microsoft.com/v1.0/$metadata#teams('" + team + "')/members");
    w.Key("@odata.count")
        .Int(static_cast<int64_t>(channels[0]->members.size()))
        .Key("value")
        .BeginArray();
    for (int64_t id : channels[0]->members) {
      const Person* p = world_.FindPerson(id);
      if (!p) continue;
      w.BeginObject().Key("@odata.type").String("#microsoft.graph.aadUserConversationMember");
      w.Key("id").String("MCMj" + p->aad_id).Key("roles").BeginArray().EndArray();
      w.Key("displayName").String(p->first + " " + p->last).Key("userId").String(p->aad_id);
      w.Key("email")
          .String(p->email)
          .Key("tenantId")
          .String(identity_.options().tenant)
          .EndObject();
    }
    w.EndArray().EndObject();
    return Ok(w.Take());
  }
  if (parts.size() < 6 || parts[3] != "channels" || parts[5] != "messages")
    return GraphError(400, "BadRequest", "Unsupported segment.", now);
  const Community* channel = world_.FindChannel(team, parts[4]);
  if (!channel) return GraphError(404, "NotFound", "Channel not found.", now);
  if (auto t = Throttle("channel:" + channel->channel_id, opt_.channel_rps)) return *t;
  ++world_.stats().requests["graph_messages"];
  if (auto t = Throttle("messages", opt_.message_rps)) return *t;
  std::string base =
      host + "/v1.0/teams/" + team + "/channels/" + channel->channel_id + "/messages";
  if (parts.size() == 6) return Messages(r, *channel, base);
  if (parts.size() == 7 && parts[6] == "delta") return Delta(r, *channel, base + "/delta");
  auto root_idx = [&]() -> std::optional<size_t> {
    try {
      auto idx = world_.FindMessage(std::stoll(parts[6]));
      if (idx && world_.messages()[*idx].group == channel->id) return idx;
    } catch (const std::exception&) {
    }
    return std::nullopt;
  }();
  if (!root_idx) return GraphError(404, "NotFound", "Message not found.", now);
  const Msg& target = world_.messages()[*root_idx];
  if (parts.size() == 7) {
    if (target.thread != *root_idx) return GraphError(404, "NotFound", "Message not found.", now);
    json::Writer w;
    WriteMessage(w, target, *channel, false);
    return Ok(w.Take());
  }
  if (parts.size() >= 8 && parts[7] == "replies") {
    if (target.thread != *root_idx) return GraphError(404, "NotFound", "Message not found.", now);
    if (parts.size() == 9) {
      try {
        auto idx = world_.FindMessage(std::stoll(parts[8]));
        if (idx && world_.messages()[*idx].thread == *root_idx && *idx != *root_idx) {
          json::Writer w;
          WriteMessage(w, world_.messages()[*idx], *channel, false);
          return Ok(w.Take());
        }
      } catch (const std::exception&) {
      }
      return GraphError(404, "NotFound", "Message not found.", now);
    }
    return Replies(r, *channel, target, base + "/" + parts[6] + "/replies");
  }
  return GraphError(400, "BadRequest", "Unsupported segment.", now);
}

SimReply GraphApi::NewestFirst(const SimRequest& r, const Community& c,
                               const std::vector<size_t>& source, int64_t scope,
                               const std::function<bool(size_t)>& keep, const std::string& context,
                               const std::string& base, bool expand) {
  // Newest first; the skip token carries the scope, where the last page stopped, and $top.
  int top = Top(r);
  int64_t before = INT64_MAX;
  if (!r.Query("$skiptoken").empty()) {
    auto st = Decode(r.Query("$skiptoken"));
    if (!st || st->size() != 3 || (*st)[0] != scope)
      return GraphError(400, "BadRequest", "Invalid skip token.", world_.Now());
    before = (*st)[1];
    top = static_cast<int>((*st)[2]);
  }
  const auto& msgs = world_.messages();
  std::vector<size_t> page;
  bool more = false;
  for (auto it = source.rbegin(); it != source.rend(); ++it) {
    if (!keep(*it) || msgs[*it].id >= before) continue;
    if (static_cast<int>(page.size()) == top) {
      more = true;
      break;
    }
    page.push_back(*it);
  }
  json::Writer w;
  w.BeginObject()
      .Key("@odata.context")
      .String("https://graph.microsoft.com/v1.0/$metadata#teams('" + c.team_id + "')/channels('" +
              c.channel_id + "')/" + context);
  w.Key("@odata.count").Int(static_cast<int64_t>(page.size()));
  if (more)
    w.Key("@odata.nextLink")
        .String(base + "?$skiptoken=" + Encode(Join({scope, msgs[page.back()].id, top})));
  w.Key("value").BeginArray();
  for (size_t idx : page) WriteMessage(w, msgs[idx], c, expand);
  w.EndArray().EndObject();
  return Ok(w.Take());
}

SimReply GraphApi::Messages(const SimRequest& r, const Community& c, const std::string& base) {
  const auto& msgs = world_.messages();
  return NewestFirst(
      r, c, world_.InGroup(c.id), c.id, [&](size_t i) { return msgs[i].thread == i; }, "messages",
      base, r.Query("$expand") == "replies");
}

SimReply GraphApi::Replies(const SimRequest& r, const Community& c, const Msg& root,
                           const std::string& base) {
  const auto& msgs = world_.messages();
  return NewestFirst(
      r, c, world_.InThread(root.id), root.id, [&](size_t i) { return &msgs[i] != &root; },
      "messages('" + std::to_string(root.id) + "')/replies", base, false);
}

SimReply GraphApi::Delta(const SimRequest& r, const Community& c, const std::string& base) {
  // A round lists the roots changed after the previous round (by change sequence, so nothing
  // that changes during the round is lost), oldest change first. Skip tokens continue a
  // round; the delta token of its last page starts the next.
  Time now = world_.Now();
  // Query options are given on the first request only and travel inside the tokens.
  int64_t seq_lo = 0, seq_hi = static_cast<int64_t>(world_.change_seq()), after = 0,
          since_ms = INT64_MIN;
  int top = Top(r);
  bool expand = r.Query("$expand") == "replies";
  if (!r.Query("$skiptoken").empty()) {
    auto st = Decode(r.Query("$skiptoken"));
    if (!st || st->size() != 7 || (*st)[0] != c.id)
      return GraphError(400, "BadRequest", "Invalid skip token.", now);
    seq_lo = (*st)[1];
    seq_hi = (*st)[2];
    after = (*st)[3];
    since_ms = (*st)[4];
    top = static_cast<int>((*st)[5]);
    expand = (*st)[6] != 0;
  } else if (!r.Query("$deltatoken").empty()) {
    auto st = Decode(r.Query("$deltatoken"));
    if (!st || st->size() != 4 || (*st)[0] != c.id)
      return GraphError(410, "resyncRequired",
                        "The delta token is no longer valid; start a new round.", now);
    seq_lo = (*st)[1];
    top = static_cast<int>((*st)[2]);
    expand = (*st)[3] != 0;
  }
  if (r.Query("$skiptoken").empty() && r.Query("$deltatoken").empty() &&
      !r.Query("$filter").empty()) {
    const std::string f = r.Query("$filter");
    const std::string prefix = "lastModifiedDateTime gt ";
    auto t = f.rfind(prefix, 0) == 0 ? ParseIso(f.substr(prefix.size())) : std::nullopt;
    if (!t)
      return GraphError(400, "BadRequest",
                        "Only 'lastModifiedDateTime gt <time>' is supported in $filter.", now);
    since_ms = ToUnixMillis(*t);
  }
  const Time oldest = now - std::chrono::hours{24 * 240};  // about eight months
  const auto& msgs = world_.messages();
  std::vector<size_t> roots;
  for (size_t idx : world_.InGroup(c.id)) {
    const Msg& m = msgs[idx];
    auto seq = static_cast<int64_t>(SeqOf(m));
    if (m.thread != idx || seq <= seq_lo || seq > seq_hi || seq <= after) continue;
    Time modified = opt_.replies_bring_root ? m.thread_modified_at : m.modified_at;
    if (m.created_at < oldest || ToUnixMillis(modified) <= since_ms) continue;
    roots.push_back(idx);
  }
  std::sort(roots.begin(), roots.end(),
            [&](size_t a, size_t b) { return SeqOf(msgs[a]) < SeqOf(msgs[b]); });
  bool more = static_cast<int>(roots.size()) > top;
  if (more) roots.resize(top);
  json::Writer w;
  w.BeginObject()
      .Key("@odata.context")
      .String("https://graph.microsoft.com/v1.0/$metadata#Collection(chatMessage)");
  if (more)
    w.Key("@odata.nextLink")
        .String(base + "?$skiptoken=" +
                Encode(Join({c.id, seq_lo, seq_hi, static_cast<int64_t>(SeqOf(msgs[roots.back()])),
                             since_ms, top, expand ? 1 : 0})));
  else
    w.Key("@odata.deltaLink")
        .String(base + "?$deltatoken=" + Encode(Join({c.id, seq_hi, top, expand ? 1 : 0})));
  w.Key("value").BeginArray();
  for (size_t idx : roots) WriteMessage(w, msgs[idx], c, expand);
  w.EndArray().EndObject();
  return Ok(w.Take());
}

SimReply GraphApi::Users(const SimRequest& r, const std::string& base) {
  int top = std::clamp(r.Query("$top").empty() ? 100 : std::atoi(r.Query("$top").c_str()), 1, 999);
  int64_t from = 0;
  if (!r.Query("$skiptoken").empty()) {
    auto st = Decode(r.Query("$skiptoken"));
    if (!st || st->size() != 2)
      return GraphError(400, "BadRequest", "Invalid skip token.", world_.Now());
    from = (*st)[0];
    top = static_cast<int>((*st)[1]);
  }
  const auto& people = world_.people();
  json::Writer w;
  w.BeginObject().Key("@odata.context").String("https://graph.microsoft.com/v1.0/$metadata#users");
  auto end = std::min<int64_t>(static_cast<int64_t>(people.size()), from + top);
  if (end < static_cast<int64_t>(people.size()))
    w.Key("@odata.nextLink").String(base + "?$skiptoken=" + Encode(Join({end, top})));
  w.Key("value").BeginArray();
  for (int64_t i = from; i < end; ++i) {
    const Person& p = people[i];
    w.BeginObject().Key("id").String(p.aad_id).Key("displayName").String(p.first + " " + p.last);
    w.Key("givenName").String(p.first).Key("surname").String(p.last).Key("mail").String(p.email);
    w.Key("userPrincipalName").String(p.email).Key("department").String(p.department);
    w.Key("jobTitle");
    if (p.bot)
      w.String("Service account");
    else
      w.Null();
    w.Key("accountEnabled").Bool(p.state == "active");
    w.Key("employeeHireDate").String(FormatIso(p.activated_at)).EndObject();
  }
  w.EndArray().EndObject();
  return Ok(w.Take());
}

}  // namespace learnloop::sim
