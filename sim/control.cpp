#include <algorithm>
#include <thread>

#include "core/json.h"
#include "sim/data_export.h"
#include "sim/replies.h"
#include "sim/simulator.h"

namespace learnloop::sim {

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
