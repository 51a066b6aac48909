#include "sim_harness.h"

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

namespace learnloop::it {

std::string Y(int64_t native) { return "yammer:" + std::to_string(native); }

Truth ReadTruth(const json::Value& v) {
  Truth t;
  t.raw = v;
  t.bot = *json::GetInt64(v, "bot_user_id");
  for (const auto& m : v.at("messages").as_array()) {
    TruthMsg x;
    x.id = *json::GetInt64(m, "id");
    x.group = json::GetInt64(m, "group_id").value_or(0);
    x.thread = *json::GetInt64(m, "thread_id");
    x.parent = json::GetInt64(m, "replied_to_id").value_or(0);
    x.sender = *json::GetInt64(m, "sender_id");
    x.created = *ParseIso(*json::GetString(m, "created_at"));
    x.system = *json::GetBool(m, "system");
    x.deleted = *json::GetBool(m, "deleted");
    x.by_bot = *json::GetBool(m, "by_bot");
    x.network = json::GetString(m, "network").value_or("yammer");
    for (const auto& l : m.at("liked_by").as_array()) x.likes.push_back(l.as_number().to_int64());
    t.messages.push_back(x);
  }
  return t;
}

std::string CheckIngestedExactlyOnce(const Truth& truth, store::Store& store) {
  std::ostringstream problems;
  std::map<std::string, const TruthMsg*> expected;
  std::set<std::pair<std::string, std::string>> likes;
  for (const auto& m : truth.messages) {
    if (m.system || m.network != "yammer") continue;
    expected[Y(m.id)] = &m;
    if (!m.deleted)  // likes on deleted messages are not shown any more, and do not count
      for (int64_t u : m.likes) likes.insert({Y(m.id), Y(u)});
  }
  auto stored = store.AllMessages();
  std::set<std::string> ids;
  for (const auto& m : stored) {
    if (!ids.insert(m.id).second) problems << m.id << " stored twice\n";
    auto it = expected.find(m.id);
    if (it == expected.end()) {
      problems << m.id << " is not in the simulator\n";
      continue;
    }
    const TruthMsg& t = *it->second;
    if (m.deleted != t.deleted)
      problems << m.id << (t.deleted ? " was deleted" : " is not deleted") << "\n";
    if (m.thread_id != Y(t.thread) || m.reply_to_id.value_or("") != (t.parent ? Y(t.parent) : "") ||
        m.author_id != Y(t.sender) || m.created_at != t.created ||
        m.group_id.value_or("") != Y(t.group))
      problems << m.id << " differs from the simulator's message\n";
  }
  for (const auto& [id, m] : expected)  // a message deleted before it was ever read may be absent
    if (!ids.count(id) && !m->deleted) problems << id << " is missing\n";
  auto reactions = store.AllReactions();
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& r : reactions) {
    auto msg = expected.find(r.message_id);
    if (msg != expected.end() && msg->second->deleted) continue;
    if (!likes.count({r.message_id, r.user_id}))
      problems << "like " << r.message_id << " by " << r.user_id << " is not in the simulator\n";
    seen.insert({r.message_id, r.user_id});
  }
  for (const auto& l : likes)
    if (!seen.count(l)) problems << "like " << l.first << " by " << l.second << " is missing\n";
  std::string out = problems.str();
  return out.size() > 4000 ? out.substr(0, 4000) + "..." : out;
}

std::string SimRun::Start(Time start, const std::vector<std::string>& sim_args, std::string yaml) {
  char t[] = "/tmp/learnloop-it-XXXXXX";
  dir = mkdtemp(t);
  std::vector<std::string> args{"--start", FormatIso(start), "--clock",
                                "manual",  "--token",        "it-token"};
  args.insert(args.end(), sim_args.begin(), sim_args.end());
  auto s = sim.Start(daemon::FindSimBinary(), args);
  if (!s.ok()) return s.message();
  setenv("LEARNLOOP_IT_TOKEN", "it-token", 1);
  for (size_t p; (p = yaml.find("BASE_URL")) != std::string::npos;)
    yaml.replace(p, 8, sim.base_url() + "/api/v1");
  for (size_t p; (p = yaml.find("SIM_URL")) != std::string::npos;)
    yaml.replace(p, 7, sim.base_url());
  for (size_t p; (p = yaml.find("DIR")) != std::string::npos;) yaml.replace(p, 3, dir);
  auto loaded = config::LoadString(yaml, "it.yaml");
  if (!loaded.config) return loaded.errors.at(0).ToString();
  cfg = *loaded.config;
  auto st = store::OpenSqlite(cfg->store_path);
  if (!st.ok()) return st.error().message;
  store = std::move(*st);
  clock = std::make_unique<ManualClock>(start);
  clock->SetOnAdvance([this](Time at) {
    connectors::http::Request r;
    r.method = "POST";
    r.url = sim.base_url() + "/_sim/clock";
    r.body = "{\"now\":\"" + FormatIso(at) + "\"}";
    http->Send(r);
  });
  return "";
}

json::Value SimRun::Get(const std::string& path) {
  connectors::http::Request r;
  r.url = sim.base_url() + path;
  auto res = http->Send(r);
  if (!res.ok()) return json::Value();
  auto v = json::Parse(res->body);
  return v.ok() ? *v : json::Value();
}

SimRun::~SimRun() {
  sim.Stop();
  store.reset();
  if (!dir.empty()) std::filesystem::remove_all(dir);
}

}  // namespace learnloop::it
