#include "sim/simulator.h"

#include <algorithm>
#include <thread>

#include "core/json.h"
#include "sim/data_export.h"

namespace learnloop::sim {

namespace {

SimReply Json(int status, std::string body) {
  SimReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

SimReply YammerError(int status, int code, const std::string& message) {
  json::Writer w;
  w.BeginObject().Key("response").BeginObject().Key("message").String(message);
  w.Key("code").Int(code).Key("stat").String("fail").EndObject().EndObject();
  return Json(status, w.Take());
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::optional<int64_t> ToInt(const std::string& s) {
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), ::isdigit))
    return std::nullopt;
  return std::stoll(s);
}

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

Simulator::Simulator(const SimOptions& o)
    : opt_(o),
      world_(o.org),
      identity_(world_, o.identity),
      graph_(world_, identity_, o.graph, o.org.seed * 31 + 7),
      bot_(world_, identity_),
      notifier_(world_, identity_, o.notify),
      valid_tokens_{o.token},
      slack_(world_, SlackOptions{},
             [this](const std::string& t) { return valid_tokens_.count(t) > 0; }),
      fault_rng_(o.org.seed * 7919 + 1),
      wall_start_(std::chrono::steady_clock::now()) {
  world_.SetOnChange([this](size_t msg, bool created) {
    notifier_.OnChange(msg, created);
    bot_.OnChange(msg, created, notifier_);
    slack_.OnChange(msg, created, notifier_);
  });
  world_.SetOnClick([this](size_t click) {
    bot_.OnClick(click, notifier_);
    slack_.OnClick(click, notifier_);
  });
}

void Simulator::FollowWallClock() {
  if (opt_.manual_clock) return;
  auto elapsed = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - wall_start_);
  world_.AdvanceTo(opt_.org.start + elapsed);
}

std::optional<SimReply> Simulator::Throttle(const std::string& token, const std::string& bucket) {
  TokenState& ts = tokens_[token];
  Time now = world_.Now();
  auto& q = ts.sent[bucket];
  while (!q.empty() && q.front() <= now - opt_.rate_window) q.pop_front();
  auto refuse = [&](Time until) {
    ++world_.stats().throttled;
    ++world_.stats().violations;  // a request sent while the limit was already reached
    SimReply r = YammerError(429, 33, "Rate limited due to excessive requests.");
    if (opt_.retry_after) {
      auto secs = std::chrono::ceil<std::chrono::seconds>(until - now).count();
      r.headers.push_back({"Retry-After", std::to_string(std::max<int64_t>(1, secs))});
    }
    return r;
  };
  // Exceeding any bucket makes every endpoint answer 429 until that window has passed.
  if (ts.blocked_until > now) return refuse(ts.blocked_until);
  if (static_cast<int>(q.size()) >= opt_.rate_limit) {
    ts.blocked_until = q[q.size() - opt_.rate_limit] + opt_.rate_window;
    return refuse(ts.blocked_until);
  }
  q.push_back(now);
  return std::nullopt;
}

SimReply Simulator::Handle(const SimRequest& r) {
  Millis hold{0};
  SimReply reply;
  {
    std::lock_guard lock(world_.mu());
    FollowWallClock();
    bool api = r.path.rfind("/api/", 0) == 0 || r.path.rfind("/v1.0/", 0) == 0 ||
               r.path.rfind("/bf/", 0) == 0;
    // A throttled call is refused before it is carried out (in the real services a 429 has no
    // effect), so it is decided before the request is handled.
    bool throttled =
        api && opt_.faults.throttle_rate > 0 &&
        std::uniform_real_distribution<double>(0, 1)(fault_rng_) < opt_.faults.throttle_rate;
    if (!throttled) reply = Dispatch(r);
    if (api && !throttled && reply.status < 400) {
      std::uniform_real_distribution<double> u(0, 1);
      double x = u(fault_rng_);
      const Faults& f = opt_.faults;
      if (x < f.error_rate) {
        bool five_hundred = u(fault_rng_) < 0.5;
        reply = Json(five_hundred ? 500 : 503,
                     R"({"response":{"message":"Service unavailable","stat":"fail"}})");
        ++world_.stats().faults;
      } else if (x < f.error_rate + f.truncate_rate && reply.body.size() > 2) {
        reply.body.resize(reply.body.size() / 2);
        ++world_.stats().faults;
      } else if (x < f.error_rate + f.truncate_rate + f.slow_rate) {
        hold = f.slow_for;
        ++world_.stats().faults;
      } else if (x < f.error_rate + f.truncate_rate + f.slow_rate + f.reset_rate) {
        reply.reset = true;
        ++world_.stats().faults;
      }
    }
    if (throttled) {
      // Refused as if busy, without effect. Retry-After as each service gives it.
      bool graph = r.path.rfind("/api/", 0) != 0;
      reply = graph ? GraphError(429, "TooManyRequests", "Too many requests.", world_.Now())
                    : YammerError(429, 33, "Rate limited due to excessive requests.");
      bool with_header = graph ? std::uniform_real_distribution<double>(0, 1)(fault_rng_) <
                                     graph_.options().retry_after_rate
                               : opt_.retry_after;
      if (with_header) reply.headers.push_back({"Retry-After", "2"});
      ++world_.stats().faults;
      ++world_.stats().throttled;
    }
    if (r.path.rfind("/_sim/", 0) != 0) {
      std::string target = r.path;
      char sep = '?';
      for (const auto& [k, v] : r.query) {
        target += sep + k + "=" + v;
        sep = '&';
      }
      log_.push_back(LogEntry{world_.Now(), r.method, target, reply.status});
      if (log_.size() > 10000) log_.pop_front();
    }
  }
  if (hold.count() > 0) std::this_thread::sleep_for(hold);  // outside the lock
  // Notifications that became due are delivered before the answer, without the lock (the
  // subscriber may call back); so a clock step returns once its notifications are out.
  for (int round = 0; round < 4; ++round) {
    std::vector<Notifier::Delivery> due;
    {
      std::lock_guard lock(world_.mu());
      due = notifier_.TakeDue();
      // Slack signs each attempt anew (its timestamp is checked against a 5-minute window).
      for (auto& d : due)
        if (d.kind.rfind("slack_", 0) == 0) d.headers = slack_.Sign(d.body, d.attempt);
    }
    if (due.empty()) break;
    for (auto& d : due) {
      const char* type =
          d.kind == "slack_action" ? "application/x-www-form-urlencoded" : "application/json";
      auto res = HttpPost(d.url, type, d.body, std::chrono::seconds{3}, d.headers);
      bool delivered = res.ok() && res->status >= 200 && res->status < 300;
      std::lock_guard lock(world_.mu());
      notifier_.Report(std::move(d), delivered);
    }
  }
  return reply;
}

SimReply Simulator::Dispatch(const SimRequest& r) {
  if (r.path.rfind("/_sim/", 0) == 0) {
    ++world_.stats().requests["control"];
    return Control(r);
  }
  if (r.method == "POST" && EndsWith(r.path, "/oauth2/v2.0/token")) {
    ++world_.stats().requests["token"];
    std::string tenant = r.path.substr(1, r.path.find('/', 1) - 1);
    return identity_.Token(r, tenant);
  }
  if (r.path.rfind("/v1.0/subscriptions", 0) == 0) {
    std::string auth = r.Header("authorization");
    if (identity_.Validate(auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "", "graph") !=
        Identity::Check::kOk) {
      ++world_.stats().unauthorized;
      return GraphError(401, "InvalidAuthenticationToken", "Access token is empty or not valid.",
                        world_.Now());
    }
    return notifier_.Handle(r);
  }
  if (r.path.rfind("/v1.0/", 0) == 0) return graph_.Handle(r);
  if (r.path.rfind("/slack/api/", 0) == 0) return slack_.Handle(r);
  if (r.path.rfind("/bf/", 0) == 0) return bot_.Handle(r);
  if (r.path.rfind("/botframework/", 0) == 0) {
    ++world_.stats().requests["openid"];
    return bot_.OpenId(r);
  }
  const bool is_export = r.path == "/api/v1/export";
  if (r.path.rfind("/api/v1/", 0) != 0 || (!EndsWith(r.path, ".json") && !is_export)) {
    ++world_.stats().requests["not_found"];
    return Json(404, R"({"response":{"message":"Not found","stat":"fail"}})");
  }
  std::string auth = r.Header("authorization");
  std::string token = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
  if (!valid_tokens_.count(token) && identity_.Validate(token, "yammer") != Identity::Check::kOk) {
    ++world_.stats().unauthorized;
    return YammerError(401, 16, "Token not found.");
  }
  if (is_export) {
    // Admin-only and heavy; its limits are not published, so none is enforced here.
    ++world_.stats().requests["export"];
    return DataExport(world_, r, opt_.export_admin);
  }
  std::string bucket = r.path.rfind("/api/v1/messages", 0) == 0 ? "messages" : "other";
  ++world_.stats().requests[bucket];
  // Limits are per user per app (§1.9): every token here is the service account's.
  if (auto refused = Throttle("user:" + std::to_string(world_.bot().id), bucket)) return *refused;
  return Yammer(r, world_.bot().id);
}

std::string Simulator::Noisy(const std::string& message_json) {
  // Parsed and written again, the members come out in another order; an unknown member is
  // added, as the real service may add fields at any time.
  auto v = json::Parse(message_json);
  if (!v.ok()) return message_json;
  (*v)["x_sim_unknown"] = json::Value::string("a field this client has never seen");
  return json::Dump(*v);
}

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

SimReply Simulator::Control(const SimRequest& r) {
  const std::string& p = r.path;
  if (p == "/_sim/clock") {
    if (r.method == "POST") {
      auto v = json::Parse(r.body);
      if (!v.ok()) return Json(400, R"({"error":"body must be JSON"})");
      if (auto now = json::GetString(*v, "now")) {
        auto t = ParseIso(*now);
        if (!t) return Json(400, R"({"error":"'now' must be an ISO 8601 time"})");
        if (*t < world_.Now()) return Json(409, R"({"error":"the clock never goes back"})");
        world_.AdvanceTo(*t);
      } else if (auto secs = json::GetInt64(*v, "advance_seconds")) {
        world_.AdvanceTo(world_.Now() + std::chrono::seconds{*secs});
      } else {
        return Json(400, R"({"error":"give 'now' or 'advance_seconds'"})");
      }
    }
    json::Writer w;
    w.BeginObject().Key("now").String(FormatIso(world_.Now())).EndObject();
    return Json(200, w.Take());
  }
  if (p == "/_sim/faults") {
    if (r.method == "POST") {
      auto v = json::Parse(r.body);
      if (!v.ok() || !v->is_object()) return Json(400, R"({"error":"body must be a JSON object"})");
      Faults& f = opt_.faults;
      for (auto [key, target] : {std::pair{"error_rate", &f.error_rate},
                                 {"slow_rate", &f.slow_rate},
                                 {"truncate_rate", &f.truncate_rate},
                                 {"reset_rate", &f.reset_rate},
                                 {"throttle_rate", &f.throttle_rate}})
        if (auto x = json::GetDouble(*v, key)) *target = std::clamp(*x, 0.0, 1.0);
      if (auto ms = json::GetInt64(*v, "slow_ms")) f.slow_for = Millis{std::max<int64_t>(0, *ms)};
      if (auto b = json::GetBool(*v, "retry_after")) opt_.retry_after = *b;
      if (auto b = json::GetBool(*v, "noise")) opt_.noise = *b;
      if (auto x = json::GetDouble(*v, "graph_retry_after_rate"))
        graph_.options().retry_after_rate = std::clamp(*x, 0.0, 1.0);
      if (auto ids = json::GetStringArray(*v, "members_forbidden")) {
        opt_.members_forbidden = std::set<std::string>(ids->begin(), ids->end());
        graph_.options().members_forbidden = opt_.members_forbidden;
      }
    }
    json::Writer w;
    const Faults& f = opt_.faults;
    w.BeginObject().Key("error_rate").Fixed(f.error_rate, 4).Key("slow_rate").Fixed(f.slow_rate, 4);
    w.Key("slow_ms").Int(f.slow_for.count()).Key("truncate_rate").Fixed(f.truncate_rate, 4);
    w.Key("reset_rate").Fixed(f.reset_rate, 4).Key("throttle_rate").Fixed(f.throttle_rate, 4);
    w.Key("retry_after").Bool(opt_.retry_after).Key("noise").Bool(opt_.noise);
    w.Key("members_forbidden")
        .StringArray({opt_.members_forbidden.begin(), opt_.members_forbidden.end()})
        .EndObject();
    return Json(200, w.Take());
  }
  if (p == "/_sim/tokens" && r.method == "POST") {
    auto v = json::Parse(r.body);
    if (!v.ok()) return Json(400, R"({"error":"body must be JSON"})");
    if (auto t = json::GetString(*v, "revoke")) valid_tokens_.erase(*t);
    if (auto t = json::GetString(*v, "add")) valid_tokens_.insert(*t);
    if (json::GetBool(*v, "revoke_issued").value_or(false)) identity_.RevokeAll();
    if (json::GetBool(*v, "revoke_refresh").value_or(false)) identity_.RevokeRefreshTokens();
    if (auto t = json::GetString(*v, "add_refresh")) identity_.AddRefreshToken(*t);
    if (auto secs = json::GetInt64(*v, "lifetime_seconds"))
      identity_.set_lifetime(std::chrono::seconds{*secs});
    json::Writer w;
    w.BeginObject().Key("tokens").Int(static_cast<int64_t>(valid_tokens_.size())).EndObject();
    return Json(200, w.Take());
  }
  if (p == "/_sim/bot" && r.method == "POST") return bot_.Register(r);
  if (p == "/_sim/lifecycle" && r.method == "POST") return notifier_.Trigger(r);
  if (p == "/_sim/slack" && r.method == "POST") return slack_.Configure(r);
  if (p == "/_sim/requests") {
    size_t limit = static_cast<size_t>(
        std::clamp<int64_t>(ToInt(r.Query("limit", "100")).value_or(100), 1, 10000));
    json::Writer w;
    w.BeginArray();
    for (size_t i = log_.size() > limit ? log_.size() - limit : 0; i < log_.size(); ++i) {
      const LogEntry& e = log_[i];
      w.BeginObject().Key("at").String(FormatIso(e.at)).Key("method").String(e.method);
      w.Key("target").String(e.target).Key("status").Int(e.status).EndObject();
    }
    w.EndArray();
    return Json(200, w.Take());
  }
  if (p == "/_sim/stats") {
    const Stats& s = world_.stats();
    json::Writer w;
    w.BeginObject().Key("requests").BeginObject();
    for (const auto& [k, v] : s.requests) w.Key(k).Int(v);
    w.EndObject().Key("throttled").Int(s.throttled).Key("violations").Int(s.violations);
    w.Key("faults").Int(s.faults);
    w.Key("unauthorized").Int(s.unauthorized).EndObject();
    return Json(200, w.Take());
  }
  const auto& msgs = world_.messages();
  if (p == "/_sim/bot_posts") {
    json::Writer w;
    w.BeginArray();
    for (size_t idx : world_.AllVisible()) {
      const Msg& m = msgs[idx];
      if (!m.by_bot) continue;
      w.BeginObject().Key("id").Int(m.id).Key("group_id").Int(m.group);
      if (m.Private()) w.Key("to").Int(m.direct_to.front());
      if (!m.chat.empty()) w.Key("chat").String(m.chat);
      w.Key("replied_to_id");
      if (m.parent == SIZE_MAX)
        w.Null();
      else
        w.Int(msgs[m.parent].id);
      w.Key("created_at")
          .String(FormatIso(m.created_at))
          .Key("body")
          .String(world_.Text(m))
          .EndObject();
    }
    w.EndArray();
    return Json(200, w.Take());
  }
  if (p == "/_sim/truth") {
    // Everything visible now. Streamed in pieces of 20,000 messages, each written under the
    // lock: a 100,000-person organisation gives gigabytes of JSON, never held at once.
    struct State {
      json::Writer w;
      int phase = 0;
      size_t next = 0;
    };
    auto st = std::make_shared<State>();
    SimReply rep = Json(200, "");
    rep.stream = [this, st](std::string& chunk) {
      std::lock_guard lock(world_.mu());
      json::Writer& w = st->w;
      const auto& msgs = world_.messages();
      if (st->phase == 0) {
        w.BeginObject().Key("now").String(FormatIso(world_.Now()));
        w.Key("bot_user_id").Int(world_.bot().id);
        w.Key("bot_app_id").String(opt_.identity.BotAppId());
        w.Key("users").BeginArray();
        for (const auto& u : world_.people()) {
          w.BeginObject().Key("id").Int(u.id).Key("name").String(u.first + " " + u.last);
          w.Key("email")
              .String(u.email)
              .Key("department")
              .String(u.department)
              .Key("state")
              .String(u.state);
          w.Key("activated_at").String(FormatIso(u.activated_at)).Key("bot").Bool(u.bot);
          w.Key("aad_id").String(u.aad_id).Key("teams_app").Bool(u.teams_app).EndObject();
        }
        w.EndArray().Key("groups").BeginArray();
        for (const auto& c : world_.communities()) {
          w.BeginObject().Key("id").Int(c.id).Key("name").String(c.full_name);
          w.Key("network").String(c.IsChannel() ? "teams" : "yammer");
          if (c.company_wide) w.Key("company_wide").Bool(true);
          if (!c.listed && !c.company_wide) w.Key("listed").Bool(false);
          if (c.IsChannel())
            w.Key("team_id").String(c.team_id).Key("channel_id").String(c.channel_id);
          w.Key("members").BeginArray();
          for (int64_t id : c.members) w.Int(id);
          w.EndArray().EndObject();
        }
        w.EndArray().Key("messages").BeginArray();
        st->phase = 1;
        chunk = w.TakeChunk();
        return true;
      }
      const auto& visible = world_.AllVisible();
      size_t end = std::min(visible.size(), st->next + 20000);
      for (; st->next < end; ++st->next) {
        const Msg& m = msgs[visible[st->next]];
        const Community* mc = world_.FindCommunity(m.group);
        w.BeginObject().Key("id").Int(m.id).Key("group_id");
        if (mc && !mc->company_wide)  // All Company messages have no group
          w.Int(m.group);
        else
          w.Null();
        w.Key("network").String((mc && mc->IsChannel()) || !m.chat.empty() ? "teams" : "yammer");
        if (m.Private()) {  // a private conversation: its people (and Teams personal chat)
          w.Key("private").Bool(true).Key("direct_to").BeginArray();
          for (int64_t id : m.direct_to) w.Int(id);
          w.EndArray();
          if (!m.chat.empty()) w.Key("chat").String(m.chat);
        }
        // Its ts where the community is also a Slack channel (esn-sim's Slack, /slack/api/).
        if (mc && !mc->IsChannel() && !mc->company_wide && !m.Private())
          w.Key("slack_ts").String(SlackApi::Ts(m));
        w.Key("thread_id").Int(msgs[m.thread].id).Key("replied_to_id");
        if (m.parent == SIZE_MAX)
          w.Null();
        else
          w.Int(msgs[m.parent].id);
        w.Key("sender_id").Int(m.sender).Key("created_at").String(FormatIso(m.created_at));
        w.Key("system").Bool(m.system).Key("deleted").Bool(m.deleted).Key("by_bot").Bool(m.by_bot);
        if (const std::string* meant = world_.Meant(visible[st->next]))
          w.Key("meant").String(*meant);  // what the person meant by an answer
        w.Key("mentions").BeginArray();
        if (m.mention) w.Int(m.mention);
        w.EndArray().Key("liked_by").BeginArray();
        for (int64_t id : m.liked_by) w.Int(id);
        w.EndArray().EndObject();
      }
      bool more = st->next < visible.size();
      if (!more) {
        // Card buttons pressed so far: seen by the bot only, never as channel messages.
        w.EndArray().Key("card_actions").BeginArray();
        for (const CardClick& c : world_.clicks()) {
          const auto* actions = world_.CardActions(c.card);
          if (!c.done || !actions) continue;
          const CardAction& a = (*actions)[c.action];
          w.BeginObject().Key("message_id").Int(msgs[c.card].id).Key("user_id").Int(c.user);
          w.Key("at").String(FormatIso(c.at)).Key("title").String(a.title);
          w.Key("type").String(a.execute ? "Action.Execute" : "Action.Submit");
          w.Key("data").Raw(a.data).EndObject();
        }
        w.EndArray().EndObject();
      }
      chunk = w.TakeChunk();
      return more;
    };
    return rep;
  }
  if (p == "/_sim/react" && r.method == "POST") {
    // A reaction (a like on Yammer) by a given person, now; "remove": true takes it back.
    auto v = json::Parse(r.body);
    if (!v.ok()) return Json(400, R"({"error":"body must be JSON"})");
    auto user = json::GetInt64(*v, "user_id");
    auto msg = json::GetInt64(*v, "message_id");
    if (!user || !msg || !world_.FindPerson(*user))
      return Json(400, R"({"error":"give user_id and message_id"})");
    auto idx = world_.FindMessage(*msg);
    if (!idx) return Json(404, R"({"error":"no such message"})");
    world_.Like(*idx, *user, !json::GetBool(*v, "remove").value_or(false));
    return Json(200, "{}");
  }
  if (p == "/_sim/reply" && r.method == "POST") {
    auto v = json::Parse(r.body);
    if (!v.ok()) return Json(400, R"({"error":"body must be JSON"})");
    auto user = json::GetInt64(*v, "user_id");
    auto parent_id = json::GetInt64(*v, "replied_to_id");
    auto body = json::GetString(*v, "body");
    if (!user || !parent_id || !body || !world_.FindPerson(*user))
      return Json(400, R"({"error":"give user_id, replied_to_id and body"})");
    auto parent = world_.FindMessage(*parent_id);
    if (!parent) return Json(404, R"({"error":"no such message"})");
    size_t idx = world_.Post(*user, 0, parent, *body, false);
    json::Writer w;
    w.BeginObject().Key("id").Int(msgs[idx].id).EndObject();
    return Json(201, w.Take());
  }
  return Json(404, R"({"error":"unknown control endpoint"})");
}

}  // namespace learnloop::sim
