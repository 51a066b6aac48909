#include "connectors/yammer/parse.h"

#include <algorithm>
#include <map>
#include <set>

#include "connectors/common/mentions.h"
#include "core/json.h"

namespace learnloop::connectors::yammer {

namespace {

std::optional<std::string> IdField(const json::Value& o, const char* key) {
  const json::Value* v = json::Find(o, key);
  if (!v) return std::nullopt;
  std::string s = json::AsIdString(*v);
  if (s.empty()) return std::nullopt;
  return s;
}

User UserFrom(const json::Value& o, const std::string& network) {
  User u;
  u.network = network;
  u.id = MakeId(network, IdField(o, "id").value_or(""));
  u.name = json::GetString(o, "full_name").value_or(json::GetString(o, "name").value_or(""));
  u.email = json::GetString(o, "email");
  if (const json::Value* c = json::Find(o, "contact")) {
    if (const json::Value* ea = json::Find(*c, "email_addresses"); ea && ea->is_array()) {
      for (const auto& e : ea->as_array()) {
        auto addr = json::GetString(e, "address");
        if (addr && (!u.email || json::GetString(e, "type").value_or("") == "primary"))
          u.email = addr;
      }
    }
  }
  u.department = json::GetString(o, "department");
  if (u.department && u.department->empty()) u.department.reset();
  std::string state = json::GetString(o, "state").value_or("active");
  u.state = (state == "active" || state == "suspended" || state == "deleted") ? state : "active";
  if (auto a = json::GetString(o, "activated_at")) u.joined_at = ParseYammerTime(*a);
  return u;
}

}  // namespace

int64_t MessagePage::MinId() const {
  return native_ids.empty() ? 0 : *std::min_element(native_ids.begin(), native_ids.end());
}
int64_t MessagePage::MaxId() const {
  return native_ids.empty() ? 0 : *std::max_element(native_ids.begin(), native_ids.end());
}

std::vector<std::string> MentionsFromParsed(const std::string& parsed) {
  std::vector<std::string> out;
  const std::string tag = "[[user:";
  for (size_t p = parsed.find(tag); p != std::string::npos; p = parsed.find(tag, p + 1)) {
    size_t s = p + tag.size();
    size_t e = parsed.find("]]", s);
    if (e == std::string::npos) break;
    std::string id = parsed.substr(s, e - s);
    if (!id.empty() && std::all_of(id.begin(), id.end(), ::isdigit) &&
        std::find(out.begin(), out.end(), id) == out.end())
      out.push_back(id);
  }
  return out;
}

Result<MessagePage> ParseMessagePage(const std::string& body, const std::string& network) {
  auto doc = json::Parse(body);
  if (!doc.ok()) return doc.error();
  const json::Value* msgs = json::Find(*doc, "messages");
  if (!msgs || !msgs->is_array())
    return Result<MessagePage>::Fail("Yammer answer has no 'messages' array");
  MessagePage page;
  if (const json::Value* meta = json::Find(*doc, "meta"))
    page.older_available = json::GetBool(*meta, "older_available");
  // The people and groups the page names (§1.4.3): likers without an id are looked up here.
  std::map<std::string, std::string> by_permalink, by_name;
  std::set<std::string> ambiguous_names;
  if (const json::Value* refs = json::Find(*doc, "references"); refs && refs->is_array())
    for (const auto& r : refs->as_array()) {
      auto type = json::GetString(r, "type").value_or("");
      auto id = IdField(r, "id");
      if (!id) continue;
      if (type == "group") {
        page.groups.emplace_back(
            *id,
            json::GetString(r, "full_name").value_or(json::GetString(r, "name").value_or(*id)));
        continue;
      }
      if (type != "user") continue;
      if (auto link =
              json::GetString(r, "permalink").value_or(json::GetString(r, "name").value_or(""));
          !link.empty())
        by_permalink[link] = *id;
      if (auto full = json::GetString(r, "full_name"); full && !full->empty()) {
        auto [it, fresh] = by_name.emplace(*full, *id);
        if (!fresh && it->second != *id) ambiguous_names.insert(*full);
      }
    }
  for (const auto& o : msgs->as_array()) {
    auto id_text = IdField(o, "id");
    if (!id_text) continue;
    // Ids in the range the service gives (a JavaScript-safe number) page and move cursors; one
    // outside it is kept as text and moves nothing (one id near 2^63 would freeze a cursor).
    auto id = json::GetInt64(o, "id");
    if (id && *id > 0 && *id <= kMaxCursorId) page.native_ids.push_back(*id);
    bool system = json::GetBool(o, "system_message").value_or(false) ||
                  json::GetString(o, "message_type").value_or("") == "system";
    if (system) continue;
    auto created = json::GetString(o, "created_at");
    auto created_at = created ? ParseYammerTime(*created) : std::nullopt;
    if (!created_at) continue;  // a message we cannot place in time is useless for metrics
    Message m;
    m.network = network;
    m.id = MakeId(network, *id_text);
    auto thread = IdField(o, "thread_id").value_or(*id_text);
    m.thread_id = MakeId(network, thread);
    if (auto r = IdField(o, "replied_to_id")) m.reply_to_id = MakeId(network, *r);
    m.kind = m.reply_to_id ? "reply" : "post";
    if (!m.reply_to_id) m.thread_id = m.id;
    auto sender = IdField(o, "sender_id").value_or("");
    m.author_id = MakeId(network, sender);
    // Without a group: posted to All Company, unless it is a private conversation.
    // (`privacy` is no guide: a private community's messages are "private" too.)
    if (json::GetBool(o, "direct_message").value_or(false)) {
      m.group_id = MakeId(network, kPrivateGroup);
    } else if (auto g = IdField(o, "group_id")) {
      m.group_id = MakeId(network, *g);
    } else {
      m.group_id = MakeId(network, kAllCompany);
    }
    m.created_at = *created_at;
    if (const json::Value* b = json::Find(o, "body")) {
      m.text = CapText(json::GetString(*b, "plain").value_or(""));
      for (const auto& u : MentionsFromParsed(json::GetString(*b, "parsed").value_or("")))
        m.mentions.push_back(MakeId(network, u));
    }
    if (const json::Value* lb = json::Find(o, "liked_by")) {
      Likes l{m.id, {}, {}};
      if (const json::Value* names = json::Find(*lb, "names"); names && names->is_array()) {
        for (const auto& n : names->as_array()) {
          auto uid = IdField(n, "user_id");
          if (!uid) {
            // Old data lists names without ids: the page's references may know the permalink
            // (a name is not enough: two people may have it).
            LikerRef who{json::GetString(n, "full_name").value_or(""),
                         json::GetString(n, "permalink").value_or(""), std::nullopt};
            if (auto it = by_permalink.find(who.permalink);
                !who.permalink.empty() && it != by_permalink.end())
              uid = it->second;
            if (!uid) {
              if (auto jt = by_name.find(who.full_name); !who.full_name.empty() &&
                                                         jt != by_name.end() &&
                                                         !ambiguous_names.count(who.full_name))
                who.by_name = jt->second;
              l.unresolved.push_back(std::move(who));
              continue;
            }
          }
          l.reactions.push_back(Reaction{m.id, MakeId(network, *uid), "like", std::nullopt});
        }
      }
      page.likes.push_back(std::move(l));
    }
    page.native_senders.push_back(sender);
    page.messages.push_back(std::move(m));
  }
  if (!page.native_senders.empty()) page.sender_of_first = page.native_senders.front();
  return page;
}

Result<User> ParseUserBody(const std::string& body, const std::string& network) {
  auto doc = json::Parse(body);
  if (!doc.ok()) return doc.error();
  if (!doc->is_object() || !IdField(*doc, "id")) return Result<User>::Fail("Yammer user has no id");
  return UserFrom(*doc, network);
}

Result<UserPage> ParseUserPage(const std::string& body, const std::string& network) {
  auto doc = json::Parse(body);
  if (!doc.ok()) return doc.error();
  UserPage page;
  const json::Value* arr = &*doc;
  if (doc->is_object()) {
    arr = json::Find(*doc, "users");
    page.more_available = json::GetBool(*doc, "more_available");
  }
  if (!arr || !arr->is_array()) return Result<UserPage>::Fail("Yammer answer has no user list");
  for (const auto& o : arr->as_array()) {
    if (json::GetString(o, "type").value_or("user") != "user" || !IdField(o, "id")) continue;
    page.users.push_back(UserFrom(o, network));
    // The permalink is `name` in user objects (§1.7) and `permalink` in liked_by.
    page.permalinks.push_back(
        json::GetString(o, "permalink").value_or(json::GetString(o, "name").value_or("")));
  }
  return page;
}

Result<std::vector<GroupInfo>> ParseGroups(const std::string& body) {
  auto doc = json::Parse(body);
  if (!doc.ok()) return doc.error();
  std::vector<GroupInfo> out;
  auto add = [&](const json::Value& o) {
    auto id = IdField(o, "id");
    if (!id) return;
    out.push_back(GroupInfo{
        *id, json::GetString(o, "full_name").value_or(json::GetString(o, "name").value_or(*id))});
  };
  if (doc->is_array())
    for (const auto& o : doc->as_array()) add(o);
  else if (doc->is_object())
    add(*doc);
  else
    return Result<std::vector<GroupInfo>>::Fail("Yammer answer has no group");
  return out;
}

}  // namespace learnloop::connectors::yammer
