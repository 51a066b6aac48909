#include <algorithm>
#include <thread>

#include "core/json.h"
#include "sim/data_export.h"
#include "sim/replies.h"
#include "sim/simulator.h"

namespace learnloop::sim {

namespace {

// "/messages/in_group/123.json" with prefix "/messages/in_group/" → 123
std::optional<int64_t> IdAfter(const std::string& path, const std::string& prefix) {
  if (path.rfind(prefix, 0) != 0 || !EndsWith(path, ".json")) return std::nullopt;
  return ToInt(path.substr(prefix.size(), path.size() - prefix.size() - 5));
}

const char* const kNet = "https://www.yammer.com/api/v1";

// A Viva Engage community (Teams channels are not visible through the Yammer API, nor is "All
// Company" as a group: its messages have no group_id).
const Community* YammerCommunity(const World& w, int64_t id) {
  const Community* c = w.FindCommunity(id);
  return c && !c->IsChannel() && !c->company_wide ? c : nullptr;
}

// Whether liked_by.names lists this liker without a user_id (old data, reference §1.4.4):
// drawn from the message and the person, so every read shows the same.
bool LikerWithoutId(int64_t msg, int64_t who, double share) {
  uint64_t z = static_cast<uint64_t>(msg) * 0x9E3779B97F4A7C15ull ^
               static_cast<uint64_t>(who) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 31)) * 0x94D049BB133111EBull;
  z ^= z >> 29;
  return static_cast<double>(z >> 11) / static_cast<double>(1ull << 53) < share;
}

constexpr int64_t kNetworkId = 801445;

void WriteUser(json::Writer& w, const Person& p, bool full, const std::string& tz = "") {
  std::string full_name = p.first + " " + p.last;
  std::string permalink = p.email.substr(0, p.email.find('@'));
  w.BeginObject();
  w.Key("type").String("user").Key("id").Int(p.id).Key("network_id").Int(kNetworkId);
  w.Key("state").String(p.state).Key("full_name").String(full_name).Key("name").String(permalink);
  w.Key("job_title").String(p.bot ? "Service account" : "");
  w.Key("url").String(std::string(kNet) + "/users/" + std::to_string(p.id));
  w.Key("web_url").String("https://www.yammer.com/contoso.example/users/" + permalink);
  w.Key("mugshot_url").String("https://mug0.assets-yammer.com/mugshot/images/48x48/no_photo.png");
  w.Key("activated_at").String(FormatYammerTime(p.activated_at));
  if (full) {
    w.Key("first_name").String(p.first).Key("last_name").String(p.last);
    w.Key("email").String(p.email).Key("department").String(p.department);
    w.Key("contact").BeginObject().Key("email_addresses").BeginArray();
    w.BeginObject().Key("address").String(p.email).Key("type").String("primary").EndObject();
    w.EndArray().Key("has_fake_email").Bool(false).EndObject();
    w.Key("timezone").String(tz).Key("admin").String("false");
    w.Key("stats")
        .BeginObject()
        .Key("following")
        .Int(0)
        .Key("followers")
        .Int(0)
        .Key("updates")
        .Int(0)
        .EndObject();
  }
  w.EndObject();
}

void WriteGroup(json::Writer& w, const Community& c, int64_t updates, const Msg* last) {
  w.BeginObject();
  w.Key("type").String("group").Key("id").Int(c.id).Key("name").String(c.name);
  w.Key("full_name").String(c.full_name).Key("description").String(c.description);
  w.Key("privacy")
      .String("public")
      .Key("state")
      .String("active")
      .Key("show_in_directory")
      .String("true");
  w.Key("url").String(std::string(kNet) + "/groups/" + std::to_string(c.id));
  w.Key("web_url").String("https://www.yammer.com/contoso.example/groups/" + c.name);
  w.Key("created_at").String(FormatYammerTime(c.created_at));
  w.Key("stats").BeginObject().Key("members").Int(static_cast<int64_t>(c.members.size()));
  w.Key("updates").Int(updates);
  if (last) {
    w.Key("last_message_at").String(FormatYammerTime(last->created_at));
    w.Key("last_message_id").Int(last->id);
  }
  w.EndObject();
  const std::string mug = "Z9SwsZvd3zr-" + std::to_string(c.id);
  w.Key("creator_type")
      .String("user")
      .Key("creator_id")
      .Int(c.members.empty() ? 0 : c.members.front());
  w.Key("mugshot_id").String(mug);
  w.Key("mugshot_url").String("https://mug0.assets-yammer.com/mugshot/images/48x48/" + mug);
  w.Key("mugshot_url_template")
      .String("https://mug0.assets-yammer.com/mugshot/images/{width}x{height}/" + mug);
  w.EndObject();
}

}  // namespace

SimReply Simulator::Feed(const SimRequest& r, const std::vector<size_t>& source,
                         const std::string& name, int64_t user) {
  const auto& msgs = world_.messages();
  auto newer = ToInt(r.Query("newer_than"));
  auto older = ToInt(r.Query("older_than"));
  bool threaded = r.Query("threaded") == "true" || r.Query("threaded") == "extended";
  int limit = 20;
  if (auto l = ToInt(r.Query("limit"))) limit = static_cast<int>(std::clamp<int64_t>(*l, 1, 20));
  std::vector<size_t> page;
  bool older_available = false;
  for (auto it = source.rbegin(); it != source.rend(); ++it) {
    const Msg& m = msgs[*it];
    if (m.deleted) continue;
    if (older && m.id >= *older) continue;
    if (newer && m.id <= *newer) break;  // the source is in id order
    if (threaded && m.thread != *it) continue;
    if (static_cast<int>(page.size()) == limit) {
      older_available = true;
      break;
    }
    page.push_back(*it);
  }
  json::Writer w;
  w.BeginObject().Key("messages").BeginArray();
  std::set<int64_t> users;
  std::set<int64_t> groups;
  std::set<size_t> threads;
  for (size_t idx : page) {
    const Msg& m = msgs[idx];
    users.insert(m.sender);
    const Community* in = YammerCommunity(world_, m.group);
    if (in) groups.insert(m.group);
    threads.insert(m.thread);
    std::string plain = world_.Text(m), parsed = plain;
    for (int64_t who : {m.mention}) {
      if (!who) continue;
      const Person* p = world_.FindPerson(who);
      if (!p) continue;
      plain += " @" + p->first + p->last;
      parsed += " [[user:" + std::to_string(who) + "]]";
      users.insert(who);
    }
    json::Writer mw;
    mw.BeginObject();
    mw.Key("id").Int(m.id).Key("sender_id").Int(m.sender);
    mw.Key("replied_to_id");
    if (m.parent == SIZE_MAX)
      mw.Null();
    else
      mw.Int(msgs[m.parent].id);
    mw.Key("created_at").String(FormatYammerTime(m.created_at));
    mw.Key("network_id").Int(kNetworkId);
    mw.Key("message_type").String(m.system ? "system" : "update").Key("sender_type").String("user");
    mw.Key("url").String(std::string(kNet) + "/messages/" + std::to_string(m.id));
    mw.Key("web_url").String("https://www.yammer.com/contoso.example/messages/" +
                             std::to_string(m.id));
    if (in) mw.Key("group_id").Int(m.group);
    mw.Key("body").BeginObject().Key("parsed").String(parsed).Key("plain").String(plain);
    mw.Key("rich").String(plain).EndObject();
    mw.Key("thread_id").Int(msgs[m.thread].id);
    mw.Key("client_type")
        .String(m.via_api ? "O365 Api Auth" : "Web")
        .Key("client_url")
        .String("https://www.yammer.com/");
    mw.Key("system_message").Bool(m.system).Key("direct_message").Bool(m.Private());
    mw.Key("chat_client_sequence").Null().Key("language").Null();
    mw.Key("notified_user_ids").BeginArray();
    if (m.mention) mw.Int(m.mention);
    mw.EndArray();
    mw.Key("privacy").String(m.Private() ? "private" : "public");
    mw.Key("attachments").BeginArray().EndArray();
    mw.Key("liked_by").BeginObject().Key("count").Int(static_cast<int64_t>(m.liked_by.size()));
    mw.Key("names").BeginArray();
    for (int64_t who : m.liked_by) {
      const Person* p = world_.FindPerson(who);
      if (!p) continue;
      mw.BeginObject().Key("full_name").String(p->first + " " + p->last);
      mw.Key("permalink").String(p->email.substr(0, p->email.find('@')));
      if (!LikerWithoutId(m.id, who, world_.options().like_names_without_id))
        mw.Key("user_id").Int(who);
      mw.EndObject();
    }
    mw.EndArray().EndObject();
    mw.Key("content_excerpt").String(plain.substr(0, 140));
    if (in) mw.Key("group_created_id").Int(m.group);

    mw.EndObject();
    w.Raw(opt_.noise ? Noisy(mw.str()) : mw.str());
  }
  w.EndArray();
  w.Key("threaded_extended").BeginObject().EndObject();
  w.Key("references").BeginArray();
  for (int64_t id : users)
    if (const Person* p = world_.FindPerson(id)) WriteUser(w, *p, false);
  for (int64_t gid : groups)
    if (const Community* c = world_.FindCommunity(gid)) WriteGroup(w, *c, 0, nullptr);
  for (size_t t : threads) {
    const auto& in = world_.InThread(msgs[t].id);
    w.BeginObject().Key("type").String("thread").Key("id").Int(msgs[t].id);
    w.Key("thread_starter_id").Int(msgs[t].id);
    w.Key("privacy").String(msgs[t].Private() ? "private" : "public");
    w.Key("direct_message").Bool(msgs[t].Private());
    w.Key("url").String(std::string(kNet) + "/messages/in_thread/" + std::to_string(msgs[t].id));
    w.Key("stats").BeginObject().Key("updates").Int(static_cast<int64_t>(in.size()));
    if (in.size() > 1) {
      w.Key("first_reply_id").Int(msgs[in[1]].id).Key("latest_reply_id").Int(msgs[in.back()].id);
      w.Key("first_reply_at").String(FormatYammerTime(msgs[in[1]].created_at));
      w.Key("latest_reply_at").String(FormatYammerTime(msgs[in.back()].created_at));
    }
    w.EndObject().EndObject();
  }
  w.EndArray();
  w.Key("meta").BeginObject();
  w.Key("older_available").Bool(older_available);
  if (opt_.noise) w.Key("x_sim_extra").BeginObject().Key("hint").String("ignore me").EndObject();
  w.Key("requested_poll_interval").Int(60);
  w.Key("current_user_id").Int(user);
  w.Key("feed_name").String(name);
  w.Key("liked_message_ids").BeginArray();
  for (size_t idx : page)
    if (msgs[idx].LikedBy(user)) w.Int(msgs[idx].id);
  w.EndArray();
  w.Key("followed_user_ids").BeginArray().EndArray();
  w.EndObject().EndObject();
  return Json(200, w.Take());
}

SimReply Simulator::PostMessage(const SimRequest& r, int64_t user) {
  std::map<std::string, std::string> f;
  if (r.Header("content-type").find("json") != std::string::npos) {
    auto v = json::Parse(r.body);
    if (!v.ok() || !v->is_object())
      return Json(400, R"({"base":["Malformed request body"],"code":"bad_request"})");
    for (const auto& [k, val] : v->as_object()) {
      std::string s;
      if (val.is_array()) {  // direct_to_user_ids as a list
        for (const auto& e : val.as_array())
          s += (s.empty() ? "" : ",") + (e.is_string() ? e.as_string() : json::AsIdString(e));
      } else {
        s = val.is_string() ? val.as_string() : json::AsIdString(val);
      }
      f[k] = s;
    }
  } else {
    f = ParseForm(r.body);
  }
  for (const auto& [k, v] : r.query) f.emplace(k, v);
  std::string body = f["body"];
  if (body.find_first_not_of(" \t\r\n") == std::string::npos)
    return Json(400, R"({"body":["Please include a message"],"code":"body_blank"})");
  auto group = ToInt(f["group_id"]);
  auto parent_id = ToInt(f["replied_to_id"]);
  std::optional<size_t> parent;
  if (parent_id) {
    parent = world_.FindMessage(*parent_id);
    if (!parent) return Json(404, R"({"base":["Message not found"],"code":"not_found"})");
    if (world_.messages()[*parent].deleted)
      return Json(400, "{\"base\":[\"Cannot reply to deleted message: " +
                           std::to_string(*parent_id) + "\"]}");
  } else if (group) {
    if (!YammerCommunity(world_, *group))
      return Json(404, R"({"base":["Group not found"],"code":"not_found"})");
  } else if (!f["direct_to_user_ids"].empty()) {
    // A private message to those people (§1.5: a comma list).
    std::vector<int64_t> to;
    std::string list = f["direct_to_user_ids"];
    for (size_t start = 0; start <= list.size();) {
      size_t comma = std::min(list.find(',', start), list.size());
      auto id = ToInt(list.substr(start, comma - start));
      if (!id || !world_.FindPerson(*id))
        return Json(400, R"({"direct_to_user_ids":["Please name people of this network"]})");
      to.push_back(*id);
      start = comma + 1;
    }
    size_t idx = world_.PostPrivate(user, std::move(to), std::nullopt, body, "");
    SimRequest one;
    one.query["limit"] = "1";
    SimReply rep = Feed(one, std::vector<size_t>{idx}, "Sent", user);
    rep.status = 201;
    return rep;
  } else if (opt_.new_yammer) {
    return Json(
        400, R"({"base":["Please post to a community, a thread or people"],"code":"no_target"})");
  }
  size_t idx = world_.Post(user, group.value_or(0), parent, body, true);
  SimRequest one;
  one.query["limit"] = "1";
  return [&] {
    SimReply rep = Feed(one, std::vector<size_t>{idx}, "Sent", user);
    rep.status = 201;
    return rep;
  }();
}

SimReply Simulator::Users(const SimRequest& r) {
  const auto& people = world_.people();
  int64_t page = std::max<int64_t>(1, ToInt(r.Query("page", "1")).value_or(1));
  json::Writer w;
  w.BeginArray();
  for (size_t i = (page - 1) * 50; i < people.size() && i < static_cast<size_t>(page * 50); ++i)
    WriteUser(w, people[i], true, world_.zone_names()[(people[i]).zone]);
  w.EndArray();
  return Json(200, w.Take());
}

SimReply Simulator::Yammer(const SimRequest& r, int64_t user) {
  const std::string p = r.path.substr(7);  // after "/api/v1"
  if (r.method == "POST" && p == "/messages.json") return PostMessage(r, user);
  if (p == "/messages/liked_by/current.json" && (r.method == "POST" || r.method == "DELETE")) {
    auto f = r.Header("content-type").find("json") != std::string::npos
                 ? std::map<std::string, std::string>{}
                 : ParseForm(r.body);
    if (auto v = json::Parse(r.body); v.ok() && v->is_object())
      if (const auto* id = json::Find(*v, "message_id")) f["message_id"] = json::AsIdString(*id);
    for (const auto& [k, v] : r.query) f.emplace(k, v);
    auto id = ToInt(f["message_id"]);
    auto idx = id ? world_.FindMessage(*id) : std::nullopt;
    if (!idx) return Json(404, R"({"base":["Message not found"]})");
    world_.Like(*idx, user, r.method == "POST");
    return Json(r.method == "POST" ? 201 : 200, "");
  }
  if (r.method != "GET")
    return Json(405, R"({"response":{"message":"Method not allowed","stat":"fail"}})");
  if (p == "/messages.json" || p == "/messages/my_feed.json" || p == "/messages/algo.json")
    return Feed(r, world_.YammerVisible(), "Company Feed", user);
  if (p == "/messages/private.json")  // the account's private conversations
    return Feed(r, world_.PrivateOf(user), "Private Messages", user);
  if (auto gid = IdAfter(p, "/messages/in_group/")) {
    if (!YammerCommunity(world_, *gid))
      return Json(404, R"({"response":{"message":"Group not found","stat":"fail"}})");
    return Feed(r, world_.InGroup(*gid), "Group", user);
  }
  if (auto tid = IdAfter(p, "/messages/in_thread/")) {
    if (auto root = world_.FindMessage(*tid)) {
      const Msg& m = world_.messages()[*root];
      if (m.Private() && m.sender != user &&
          std::find(m.direct_to.begin(), m.direct_to.end(), user) == m.direct_to.end())
        return Json(404, R"({"response":{"message":"Not found","stat":"fail"}})");
    }
    SimRequest unthreaded = r;
    unthreaded.query.erase("threaded");  // in_thread ignores threaded
    return Feed(unthreaded, world_.InThread(*tid), "Thread", user);
  }
  if (auto mid = IdAfter(p, "/messages/")) {
    auto idx = world_.FindMessage(*mid);
    if (!idx || world_.messages()[*idx].deleted)
      return Json(404, R"({"response":{"message":"Not found","stat":"fail"}})");
    return Feed(SimRequest{}, std::vector<size_t>{*idx}, "Message", user);
  }
  if (p == "/users.json") return Users(r);
  if (p == "/users/current.json") {
    json::Writer w;
    WriteUser(w, world_.bot(), true, world_.zone_names()[(world_.bot()).zone]);
    return Json(200, w.Take());
  }
  if (auto gid = IdAfter(p, "/users/in_group/")) {
    const Community* c = YammerCommunity(world_, *gid);
    if (!c) return Json(404, R"({"response":{"message":"Group not found","stat":"fail"}})");
    if (opt_.members_forbidden.count(std::to_string(*gid)))
      return Json(
          403,
          R"({"response":{"message":"You are not authorized to view this group's members","stat":"fail"}})");
    int64_t page = std::max<int64_t>(1, ToInt(r.Query("page", "1")).value_or(1));
    json::Writer w;
    w.BeginObject().Key("users").BeginArray();
    size_t from = (page - 1) * 50, to = std::min(c->members.size(), static_cast<size_t>(page * 50));
    for (size_t i = from; i < to; ++i)
      if (const Person* pp = world_.FindPerson(c->members[i])) WriteUser(w, *pp, false);
    w.EndArray().Key("more_available").Bool(to < c->members.size()).EndObject();
    return Json(200, w.Take());
  }
  if (auto uid = IdAfter(p, "/users/")) {
    const Person* pp = world_.FindPerson(*uid);
    if (!pp) return Json(404, R"({"response":{"message":"User not found","stat":"fail"}})");
    json::Writer w;
    WriteUser(w, *pp, true, world_.zone_names()[(*pp).zone]);
    return Json(200, w.Take());
  }
  auto group_json = [&](const Community& c, json::Writer& w) {
    const auto& in = world_.InGroup(c.id);
    WriteGroup(w, c, static_cast<int64_t>(in.size()),
               in.empty() ? nullptr : &world_.messages()[in.back()]);
  };
  if (p == "/groups.json") {
    std::vector<const Community*> cs;
    for (const auto& c : world_.communities())
      if (YammerCommunity(world_, c.id) && c.listed) cs.push_back(&c);
    int64_t page = std::max<int64_t>(1, ToInt(r.Query("page", "1")).value_or(1));
    json::Writer w;
    w.BeginArray();
    for (size_t i = (page - 1) * 50; i < cs.size() && i < static_cast<size_t>(page * 50); ++i)
      group_json(*cs[i], w);
    w.EndArray();
    return Json(200, w.Take());
  }
  if (auto gid = IdAfter(p, "/groups/")) {
    const Community* c = YammerCommunity(world_, *gid);
    if (!c) return Json(404, R"({"response":{"message":"Group not found","stat":"fail"}})");
    json::Writer w;
    group_json(*c, w);
    return Json(200, w.Take());
  }
  return Json(404, R"({"response":{"message":"Not found","stat":"fail"}})");
}

}  // namespace learnloop::sim
