#include "connectors/slack/parse.h"

#include <algorithm>
#include <set>

#include "connectors/common/mentions.h"

namespace learnloop::connectors::slack {

std::optional<Time> ParseTs(const std::string& ts) {
  auto dot = ts.find('.');
  std::string secs = ts.substr(0, dot), micros = dot == std::string::npos ? "" : ts.substr(dot + 1);
  if (secs.empty() || secs.size() > 12 || micros.size() > 6 ||
      secs.find_first_not_of("0123456789") != std::string::npos ||
      micros.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  while (micros.size() < 6) micros += '0';
  int64_t us = std::stoll(secs) * 1000000 + std::stoll(micros);
  return Time{} + std::chrono::duration_cast<Millis>(std::chrono::microseconds{us});
}

std::string MessageNativeId(const std::string& channel, const std::string& ts) {
  return channel + "/" + ts;
}

std::pair<std::string, std::string> SplitNativeId(const std::string& native_id) {
  auto slash = native_id.find('/');
  if (slash == std::string::npos) return {native_id, ""};
  return {native_id.substr(0, slash), native_id.substr(slash + 1)};
}

Result<json::Value> ParseAnswer(const std::string& body) {
  auto v = json::Parse(body);
  if (!v.ok() || !v->is_object()) return Result<json::Value>::Fail("not a Slack answer");
  if (json::GetBool(*v, "ok").value_or(false)) return *v;
  std::string error = json::GetString(*v, "error").value_or("unknown_error");
  static const std::set<std::string> kRefused = {"invalid_auth",     "not_authed",
                                                 "account_inactive", "token_revoked",
                                                 "token_expired",    "no_permission"};
  static const std::set<std::string> kMissing = {"channel_not_found", "thread_not_found",
                                                 "message_not_found", "user_not_found"};
  static const std::set<std::string> kHidden = {"not_in_channel", "missing_scope", "is_archived",
                                                "restricted_action"};
  int code = kRefused.count(error)    ? 401
             : kMissing.count(error)  ? 404
             : kHidden.count(error)   ? 403
             : error == "ratelimited" ? 429
                                      : 400;
  return Result<json::Value>::Fail("Slack: " + error, code);
}

std::string NextCursor(const json::Value& answer) {
  const json::Value* meta = json::Find(answer, "response_metadata");
  return meta ? json::GetString(*meta, "next_cursor").value_or("") : "";
}

std::vector<std::string> Mentions(const std::string& text) {
  std::vector<std::string> out;
  for (size_t at = text.find("<@"); at != std::string::npos; at = text.find("<@", at + 2)) {
    auto end = text.find_first_of("|>", at + 2);
    if (end == std::string::npos) break;
    std::string id = text.substr(at + 2, end - at - 2);
    if (!id.empty() &&
        id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == std::string::npos &&
        std::find(out.begin(), out.end(), id) == out.end())
      out.push_back(id);
  }
  return out;
}

namespace {
// What a channel's timeline shows that nobody wrote: joins, topics, pins, ….
bool IsSystemSubtype(const std::string& subtype) {
  return !subtype.empty() && subtype != "thread_broadcast" && subtype != "bot_message" &&
         subtype != "me_message" && subtype != "file_share" && subtype != "tombstone";
}
}  // namespace

Result<MessagePage> ParseMessages(const std::string& body, const std::string& network,
                                  const std::string& channel) {
  auto v = ParseAnswer(body);
  if (!v.ok()) return Result<MessagePage>(v.error());
  const json::Value* list = json::Find(*v, "messages");
  if (!list || !list->is_array()) return Result<MessagePage>::Fail("Slack: no 'messages' list");
  MessagePage page;
  page.next_cursor = NextCursor(*v);
  for (const auto& e : list->as_array()) {
    if (!e.is_object()) continue;
    std::string ts = json::GetString(e, "ts").value_or("");
    std::string subtype = json::GetString(e, "subtype").value_or("");
    std::string user = json::GetString(e, "user").value_or("");
    auto created = ParseTs(ts);
    if (!created || IsSystemSubtype(subtype)) continue;
    std::string thread_ts = json::GetString(e, "thread_ts").value_or(ts);
    Message m;
    m.network = network;
    m.id = MakeId(network, MessageNativeId(channel, ts));
    m.group_id = MakeId(network, channel);
    m.thread_id = MakeId(network, MessageNativeId(channel, thread_ts));
    bool reply = thread_ts != ts;
    m.kind = reply ? "reply" : "post";
    if (reply) m.reply_to_id = m.thread_id;
    m.created_at = *created;
    m.deleted = subtype == "tombstone";
    if (m.deleted || user.empty()) {
      // A parent whose message was deleted stays as a tombstone while it has replies.
      if (!m.deleted) continue;
    } else {
      m.author_id = MakeId(network, user);
    }
    if (const json::Value* edited = json::Find(e, "edited"))
      m.edited_at = ParseTs(json::GetString(*edited, "ts").value_or(""));
    m.text = m.deleted ? "" : CapText(json::GetString(e, "text").value_or(""));
    for (const auto& id : Mentions(m.text)) m.mentions.push_back(MakeId(network, id));
    if (!m.deleted) {
      std::vector<Reaction> reactions;
      if (const json::Value* rs = json::Find(e, "reactions"); rs && rs->is_array())
        for (const auto& r : rs->as_array()) {
          std::string name = r.is_object() ? json::GetString(r, "name").value_or("") : "";
          if (name.empty()) continue;
          for (const auto& u :
               json::GetStringArray(r, "users").value_or(std::vector<std::string>{}))
            reactions.push_back(Reaction{m.id, MakeId(network, u), name, std::nullopt});
        }
      page.reactions.emplace_back(m.id, std::move(reactions));
    }
    if (!reply && json::GetInt64(e, "reply_count").value_or(0) > 0)
      page.threads.emplace_back(ts, json::GetString(e, "latest_reply").value_or(ts));
    if (!m.author_id.empty() || m.deleted) page.messages.push_back(std::move(m));
  }
  return page;
}

Result<UserPage> ParseUsers(const std::string& body, const std::string& network) {
  auto v = ParseAnswer(body);
  if (!v.ok()) return Result<UserPage>(v.error());
  const json::Value* list = json::Find(*v, "members");
  if (!list || !list->is_array()) return Result<UserPage>::Fail("Slack: no 'members' list");
  UserPage page;
  page.next_cursor = NextCursor(*v);
  for (const auto& e : list->as_array()) {
    std::string id = e.is_object() ? json::GetString(e, "id").value_or("") : "";
    if (id.empty()) continue;
    User u;
    u.id = MakeId(network, id);
    u.network = network;
    const json::Value* profile = json::Find(e, "profile");
    std::string real = json::GetString(e, "real_name").value_or("");
    if (real.empty() && profile) real = json::GetString(*profile, "real_name").value_or("");
    u.name = real.empty() ? json::GetString(e, "name").value_or(id) : real;
    if (profile) {
      if (auto email = json::GetString(*profile, "email"); email && !email->empty())
        u.email = email;
      if (auto title = json::GetString(*profile, "title"); title && !title->empty())
        u.department = title;
    }
    u.is_bot = json::GetBool(e, "is_bot").value_or(false) || id == "USLACKBOT";
    if (json::GetBool(e, "deleted").value_or(false)) u.state = "deleted";
    page.users.push_back(std::move(u));
  }
  return page;
}

Result<ChannelPage> ParseChannels(const std::string& body) {
  auto v = ParseAnswer(body);
  if (!v.ok()) return Result<ChannelPage>(v.error());
  const json::Value* list = json::Find(*v, "channels");
  if (!list || !list->is_array()) return Result<ChannelPage>::Fail("Slack: no 'channels' list");
  ChannelPage page;
  page.next_cursor = NextCursor(*v);
  for (const auto& e : list->as_array()) {
    std::string id = e.is_object() ? json::GetString(e, "id").value_or("") : "";
    if (id.empty()) continue;
    page.channels.push_back(Channel{id, json::GetString(e, "name").value_or(id),
                                    json::GetBool(e, "is_member").value_or(false),
                                    json::GetBool(e, "is_archived").value_or(false)});
  }
  return page;
}

}  // namespace learnloop::connectors::slack
