#include "bench/dataset_gen.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <unordered_set>
#include <vector>

#include "core/json.h"

namespace learnloop::bench {

namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::minutes;

// splitmix64: small, fast and the same everywhere (the standard distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ULL + 1) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double U01() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return U01() < p; }
  size_t Below(size_t n) { return static_cast<size_t>(U01() * static_cast<double>(n)); }
  double Exp(double mean) { return -std::log(1 - U01()) * mean; }
  // Geometric count with the given mean (0, 1, 2, …).
  int Count(double mean) {
    double p = 1 / (1 + mean);
    return static_cast<int>(std::floor(std::log(1 - U01()) / std::log(1 - p)));
  }

 private:
  uint64_t s_;
};

// Picks an index with probability proportional to its weight.
class Weighted {
 public:
  void Add(size_t item, double w) {
    if (w <= 0) return;
    total_ += w;
    items_.push_back(item);
    cum_.push_back(total_);
  }
  bool empty() const { return items_.empty(); }
  size_t Pick(Rng& r) const {
    double x = r.U01() * total_;
    size_t i = std::upper_bound(cum_.begin(), cum_.end(), x) - cum_.begin();
    return items_[std::min(i, items_.size() - 1)];
  }

 private:
  std::vector<size_t> items_;
  std::vector<double> cum_;
  double total_ = 0;
};

class Out {
 public:
  explicit Out(const fs::path& p) : f_(std::fopen(p.string().c_str(), "wb")) {}
  ~Out() {
    if (f_) std::fclose(f_);
  }
  bool ok() const { return f_ != nullptr; }
  void Line(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), f_);
    std::fputc('\n', f_);
  }
  bool Close() {
    bool good = std::fflush(f_) == 0 && !std::ferror(f_);
    good = std::fclose(f_) == 0 && good;
    f_ = nullptr;
    return good;
  }

 private:
  std::FILE* f_;
};

const char* const kWords[] = {"how",     "we",     "ship",    "the",   "new",      "onboarding",
                              "flow",    "thanks", "great",   "idea",  "customer", "feedback",
                              "review",  "draft",  "who",     "knows", "a",        "good",
                              "guide",   "on",     "pricing", "demo",  "today",    "lesson",
                              "learned", "from",   "project", "retro", "question", "answer"};
const char* const kDepartments[] = {"Sales",   "Marketing", "Engineering", "Support",
                                    "Finance", "People",    "Operations",  "Legal",
                                    "Product", "Design",    "Research",    "Facilities"};

std::string Text(Rng& r) {
  std::string t;
  int n = 4 + static_cast<int>(r.Below(8));
  for (int i = 0; i < n; ++i) {
    if (i) t += ' ';
    t += kWords[r.Below(std::size(kWords))];
  }
  return t;
}

// Hex digits of random bits: Entra object ids (8-4-4-4-12) and Teams channel ids.
std::string Hex(Rng& r, std::initializer_list<int> groups, char sep) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (int n : groups) {
    if (!out.empty()) out += sep;
    for (int i = 0; i < n; ++i) out += kDigits[r.Next() >> 60];
  }
  return out;
}

struct Person {
  std::string id;
  bool teams = false;  // of the second network (two networks only)
  double weight = 0;   // activity; 0: never acts
  Time joined{};
  bool joins_late = false;
  std::vector<size_t> groups;
};

struct GroupInfo {
  std::string id, name;
  bool teams = false;
  std::vector<size_t> members;
  Weighted active;  // members by activity
};

struct Msg {
  std::string id;
  size_t author;
  Time at;
};

}  // namespace

Result<GenCounts> Generate(const GenOptions& o, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Result<GenCounts>::Fail("cannot create " + dir + ": " + ec.message());
  Time start = o.start == Time{} ? *ParseIso("2025-11-24T00:00:00Z") : o.start;
  Time end = start + hours{24 * 7 * o.weeks};
  Rng rng(o.seed);
  GenCounts n;
  auto open = [&](const char* name) { return std::make_unique<Out>(fs::path(dir) / name); };
  auto users = open("users.jsonl"), groups = open("groups.jsonl"),
       messages = open("messages.jsonl"), reactions = open("reactions.jsonl"),
       prompts = open("prompts.jsonl"), answers = open("answers.jsonl");
  for (auto* f :
       {users.get(), groups.get(), messages.get(), reactions.get(), prompts.get(), answers.get()})
    if (!f->ok()) return Result<GenCounts>::Fail("cannot write into " + dir);

  // Ids of the second network come from a stream of their own: the first shape's files do
  // not change with it.
  Rng ids(o.seed ^ 0x7465616D73ULL);
  const bool two = o.two_networks;
  // People: a third never act; the others' activity is Pareto-distributed (a few very active,
  // most occasional; with two networks, a heavier tail). A tenth join during the year.
  std::vector<Person> people(static_cast<size_t>(o.people));
  for (size_t i = 0; i < people.size(); ++i) {
    Person& p = people[i];
    p.teams = two && i % 5 >= 3;
    p.id = p.teams ? "teams:" + Hex(ids, {8, 4, 4, 4, 12}, '-')
                   : "yammer:" + std::to_string(1500000000 + i);
    if (!rng.Chance(0.33))
      p.weight = two ? std::min(5000.0, 1 / std::pow(1 - rng.U01(), 1 / 0.95))
                     : std::min(200.0, 1 / std::pow(1 - rng.U01(), 1 / 1.3));
    p.joins_late = rng.Chance(0.1);
    p.joined = p.joins_late
                   ? start + Millis{static_cast<int64_t>(rng.U01() * (end - start).count())}
                   : start - hours{24 * static_cast<int64_t>(30 + rng.Below(2000))};
  }
  // Bots: the learning bot (prompts), an announcements bot, an integration that reacts.
  // The same three on Teams, with two networks.
  const std::vector<std::string> bots = {"yammer:1400000001", "yammer:1400000002",
                                         "yammer:1400000003"};
  const std::vector<std::string> teams_bots = [&] {
    std::vector<std::string> v;
    if (two)
      for (int b = 0; b < 3; ++b) v.push_back("teams:" + Hex(ids, {8, 4, 4, 4, 12}, '-'));
    return v;
  }();
  auto network = [](bool teams) { return teams ? "teams" : "yammer"; };
  for (size_t i = 0; i < people.size(); ++i) {
    const Person& p = people[i];
    double state = rng.U01();
    json::Writer w;
    w.BeginObject().Key("id").String(p.id).Key("network").String(network(p.teams));
    w.Key("name").String("Person " + std::to_string(i));
    if (rng.Chance(0.97))
      w.Key("email").String("person" + std::to_string(i) + "@contoso.example");
    else
      w.Key("email").Null();
    if (rng.Chance(0.95))
      w.Key("department").String(kDepartments[rng.Below(std::size(kDepartments))]);
    else
      w.Key("department").Null();
    w.Key("state").String(state < 0.97 ? "active" : state < 0.99 ? "suspended" : "deleted");
    w.Key("is_bot").Bool(false).Key("joined_at");
    if (!p.joins_late && rng.Chance(0.05))
      w.Null();
    else
      w.String(FormatIso(p.joined));
    users->Line(w.EndObject().Take());
  }
  for (const auto* list : {&bots, &teams_bots})
    for (size_t b = 0; b < list->size(); ++b) {
      const std::string& id = (*list)[b];
      json::Writer w;
      w.BeginObject().Key("id").String(id).Key("network").String(network(list == &teams_bots));
      w.Key("name").String(list == &bots ? "Bot " + id.substr(7)
                                         : "Teams bot " + std::to_string(b + 1));
      w.Key("email").Null().Key("department").Null();
      w.Key("state").String("active").Key("is_bot").Bool(true).Key("joined_at").Null();
      users->Line(w.EndObject().Take());
    }
  n.users = static_cast<int64_t>(people.size() + bots.size() + teams_bots.size());

  // Groups: sizes follow a Zipf-like law; everyone belongs to 1–6 of them (of their own
  // network); the last two groups are tiny (3 and 4 members), as real networks have. With two
  // networks, two groups in five are Teams channels.
  size_t G = static_cast<size_t>(o.groups > 0 ? o.groups : std::max(8, o.people / 100));
  std::vector<GroupInfo> gs(G);
  Weighted by_size[2];
  for (size_t g = 0; g < G; ++g) {
    gs[g].teams = two && (g % 5 == 1 || g % 5 == 3);
    gs[g].id = gs[g].teams ? "teams:19:" + Hex(ids, {32}, '-') + "@thread.tacv2"
                           : "yammer:" + std::to_string(2000000 + g);
    gs[g].name = (gs[g].teams ? "Channel " : "Community ") + std::to_string(g);
    if (g + 2 < G) by_size[gs[g].teams].Add(g, 1 / std::pow(static_cast<double>(g + 1), 0.8));
  }
  for (size_t i = 0; i < people.size(); ++i) {
    int k = 1 + std::min(5, rng.Count(1.0));
    const Weighted& sizes = by_size[people[i].teams];
    for (int j = 0; j < k && !sizes.empty(); ++j) {
      size_t g = sizes.Pick(rng);
      auto& mine = people[i].groups;
      if (std::find(mine.begin(), mine.end(), g) == mine.end()) mine.push_back(g);
    }
  }
  for (size_t t = 0; t < 2 && t + 2 <= G; ++t)
    for (size_t j = 0; j < 3 + t && j < people.size(); ++j) {
      size_t i = rng.Below(people.size());
      for (int tries = 0; tries < 20 && people[i].teams != gs[G - 2 + t].teams; ++tries)
        i = rng.Below(people.size());
      if (people[i].teams == gs[G - 2 + t].teams) people[i].groups.push_back(G - 2 + t);
    }
  for (size_t i = 0; i < people.size(); ++i) {
    auto& mine = people[i].groups;
    std::sort(mine.begin(), mine.end());
    mine.erase(std::unique(mine.begin(), mine.end()), mine.end());
    for (size_t g : mine) {
      gs[g].members.push_back(i);
      gs[g].active.Add(i, people[i].weight);
    }
  }
  for (const auto& g : gs) {
    json::Writer w;
    w.BeginObject().Key("id").String(g.id).Key("network").String(network(g.teams));
    w.Key("name").String(g.name).Key("kind").String(g.teams ? "channel" : "community");
    w.Key("members").BeginArray();
    for (size_t i : g.members) w.String(people[i].id);
    if (&g == &gs[0]) w.String(bots[0]);
    if (two && &g == &gs[1]) w.String(teams_bots[0]);
    groups->Line(w.EndArray().EndObject().Take());
  }
  n.groups = static_cast<int64_t>(G);

  Weighted authors;
  for (size_t i = 0; i < people.size(); ++i) authors.Add(i, people[i].weight);
  const size_t kBot = SIZE_MAX;  // author index of the bots' messages
  int64_t next_id = 3000000000;
  // A bot of group g's network.
  auto bot_of = [&](size_t g, size_t bot) -> const std::string& {
    return gs[g].teams ? teams_bots[bot] : bots[bot];
  };
  auto name_of = [&](size_t who, size_t g, size_t bot = 0) -> const std::string& {
    return who == kBot ? bot_of(g, bot) : people[who].id;
  };
  // A new message's id in group g. On Teams, the channel's and the message's time in
  // milliseconds, unique (a message that would share one is a millisecond later).
  std::unordered_set<int64_t> teams_ms;
  auto new_id = [&](size_t g, Time& at) {
    if (!gs[g].teams) return "yammer:" + std::to_string(next_id++);
    int64_t ms = at.time_since_epoch().count();
    while (!teams_ms.insert(ms).second) ++ms;
    at = Time{Millis{ms}};
    return gs[g].id + "/" + std::to_string(ms);
  };
  std::vector<int64_t> written(people.size());  // messages per person
  auto write_message = [&](const Msg& m, const std::string& thread, const std::string* parent,
                           size_t g, const std::string& text, size_t bot) {
    bool deleted = rng.Chance(0.015);
    if (m.author != kBot) ++written[m.author];
    json::Writer w;
    w.BeginObject().Key("id").String(m.id).Key("network").String(network(gs[g].teams));
    w.Key("group_id").String(gs[g].id).Key("thread_id").String(thread).Key("reply_to_id");
    if (parent)
      w.String(*parent);
    else
      w.Null();
    w.Key("author_id").String(name_of(m.author, g, bot)).Key("created_at").String(FormatIso(m.at));
    w.Key("edited_at");
    if (rng.Chance(0.02))
      w.String(FormatIso(m.at + minutes{5 + static_cast<int64_t>(rng.Below(600))}));
    else
      w.Null();
    w.Key("deleted").Bool(deleted).Key("text").String(deleted ? "" : text);
    w.Key("mentions").BeginArray();
    if (m.author != kBot && !deleted && rng.Chance(0.08)) {
      const auto& pool = gs[g].members;
      std::string v = people[pool[rng.Below(pool.size())]].id;
      double kind = rng.U01();
      if (kind < 0.02) v = bot_of(g, 1);          // a bot
      if (kind > 0.98) v = name_of(m.author, g);  // oneself
      w.String(v);
      if (rng.Chance(0.05)) w.String(v);                                       // twice
      if (rng.Chance(0.2)) w.String(people[pool[rng.Below(pool.size())]].id);  // two people
    }
    w.EndArray().Key("kind").String(parent ? "reply" : "post");
    messages->Line(w.EndObject().Take());
    ++n.messages;
  };
  auto write_reactions = [&](const Msg& m, size_t g) {
    int k = rng.Count(m.author == kBot ? 0.3 : 1.0);
    std::vector<std::pair<std::string, const char*>> given;
    for (int j = 0; j < k; ++j) {
      if (two && gs[g].active.empty()) break;  // nobody of its network acts there
      std::string who =
          rng.Chance(0.005)
              ? bot_of(g, 2)
              : people[gs[g].active.empty() ? authors.Pick(rng) : gs[g].active.Pick(rng)].id;
      double kd = rng.U01();
      // Teams also names reactions by their emoji.
      const char* kind = kd < 0.7 ? "like" : kd < 0.9 ? "heart" : "laugh";
      if (gs[g].teams && kd > 0.96) kind = "\xF0\x9F\x92\xAF";  // 💯
      if (m.author != kBot && who == people[m.author].id) continue;
      if (std::find(given.begin(), given.end(), std::make_pair(who, kind)) != given.end()) continue;
      given.emplace_back(who, kind);
      json::Writer w;
      w.BeginObject().Key("message_id").String(m.id).Key("user_id").String(who);
      w.Key("kind").String(kind).Key("created_at");
      if (rng.Chance(two ? 0.8 : 0.25))
        w.Null();  // as Viva Engage's liked_by: no time
      else
        w.String(FormatIso(m.at + Millis{static_cast<int64_t>(rng.Exp(5 * 3600e3))}));
      reactions->Line(w.EndObject().Take());
      ++n.reactions;
    }
  };
  // A time in the week starting at `week`: mostly working hours on weekdays.
  auto when = [&](Time week) {
    int day = rng.Chance(0.9) ? static_cast<int>(rng.Below(5)) : 5 + static_cast<int>(rng.Below(2));
    double hour = rng.Chance(0.85) ? 7 + rng.U01() * 10 : rng.U01() * 24;
    return week + hours{24 * day} + Millis{static_cast<int64_t>(hour * 3600e3)};
  };
  // A thread: the post and about two replies, each to the post or to an earlier reply,
  // each with its reactions; most replies within hours, a few after more than a week.
  auto thread = [&](size_t author, size_t g, Time at, size_t bot, int reply_mean,
                    std::vector<Msg>* out) {
    std::string id = new_id(g, at);
    Msg post{id, author, at};
    write_message(post, post.id, nullptr, g, Text(rng), bot);
    write_reactions(post, g);
    std::vector<Time> times;
    int k = rng.Count(reply_mean);
    for (int j = 0; j < k; ++j) {
      double h = rng.Chance(0.03) ? 24 * (7 + rng.U01() * 5) : rng.Exp(8);
      times.push_back(at + Millis{60000 + static_cast<int64_t>(h * 3600e3)});
    }
    std::sort(times.begin(), times.end());
    std::vector<Msg> in_thread{post};
    for (Time t : times) {
      if (gs[g].active.empty()) break;
      std::string reply_id = new_id(g, t);
      Msg reply{reply_id, gs[g].active.Pick(rng), t};
      // On Teams, every reply is to the channel's post.
      const Msg& parent =
          rng.Chance(0.65) || gs[g].teams ? in_thread[0] : in_thread[rng.Below(in_thread.size())];
      write_message(reply, post.id, &parent.id, g, Text(rng), 0);
      write_reactions(reply, g);
      in_thread.push_back(reply);
    }
    if (out) *out = std::move(in_thread);
  };

  // 0.32 posts per person and week: with ~2 replies each and ~1 reaction per message, about
  // 1.9 events per person and week (100,000 people over 52 weeks: ~10 million).
  const double posts_per_week = 0.32 * static_cast<double>(people.size());
  std::vector<std::string> prompt_lines, answer_lines;
  for (int wk = 0; wk < o.weeks; ++wk) {
    Time week = start + hours{24 * 7 * wk};
    int64_t posts = static_cast<int64_t>(posts_per_week * (0.9 + 0.2 * rng.U01()));
    for (int64_t j = 0; j < posts && !authors.empty(); ++j) {
      Time at = when(week);
      size_t a = authors.Pick(rng);
      for (int tries = 0; tries < 5 && people[a].joined > at; ++tries) a = authors.Pick(rng);
      const auto& mine = people[a].groups;
      thread(a, mine[rng.Below(mine.size())], at, 0, 2, nullptr);
    }
    // The announcements bot posts in the largest community each Monday (and in the largest
    // Teams channel).
    thread(kBot, 0, week + hours{8}, 1, 1, nullptr);
    if (two) thread(kBot, 1, week + hours{8}, 1, 1, nullptr);

    // Prompts: a weekly scored question in the three largest communities, and a practice
    // round naming 20 people of community 0.
    for (size_t g = 0; g < std::min<size_t>(3, G); ++g) {
      for (int kind = 0; kind < (g == 0 ? 2 : 1); ++kind) {
        bool practice = kind == 1;
        Time posted = week + hours{practice ? 24 * 2 + 10 : 9};
        std::vector<Msg> msgs;
        // The prompt's own thread is written as the bot's post without replies; answers are
        // the members' replies in it.
        thread(kBot, g, posted, 0, 0, &msgs);
        const std::string& message_id = msgs[0].id;
        std::string pid =
            "p-" + std::to_string(wk) + "-" + std::to_string(g) + (practice ? "-practice" : "");
        std::vector<size_t> audience;
        if (practice)
          for (int q = 0; q < 20 && !gs[g].members.empty(); ++q)
            audience.push_back(gs[g].members[rng.Below(gs[g].members.size())]);
        std::sort(audience.begin(), audience.end());
        audience.erase(std::unique(audience.begin(), audience.end()), audience.end());
        json::Writer w;
        w.BeginObject().Key("id").String(pid);
        w.Key("campaign").String(practice ? "practice" : "weekly-question");
        w.Key("step").Int(wk + 1).Key("network").String(network(gs[g].teams));
        w.Key("group_id").String(gs[g].id);
        w.Key("message_id").String(message_id).Key("type").String("choice");
        w.Key("posted_at").String(FormatIso(posted));
        w.Key("closes_at").String(FormatIso(posted + hours{24 * 5}));
        w.Key("correct").String("B").Key("audience");
        if (practice) {
          w.BeginArray();
          for (size_t i : audience) w.String(people[i].id);
          w.EndArray();
        } else {
          w.Null();
        }
        prompt_lines.push_back(w.EndObject().Take());
        // Answers: a share of the audience replies in the thread; some after the close.
        const auto& pool = practice ? audience : gs[g].members;
        double share = practice ? 0.6 : 0.25;
        for (size_t i : pool) {
          if (!rng.Chance(share)) continue;
          Time at = posted + Millis{static_cast<int64_t>(rng.Exp(20 * 3600e3))};
          int tries = rng.Chance(0.1) ? 2 : 1;
          for (int t = 0; t < tries; ++t) {
            Time reply_at = at;
            std::string reply_id = new_id(g, reply_at);
            Msg reply{reply_id, i, reply_at};
            const char* choice = rng.Chance(0.6) ? "B" : rng.Chance(0.5) ? "A" : "C";
            write_message(reply, message_id, &message_id, g, std::string(choice), 0);
            json::Writer aw;
            aw.BeginObject().Key("prompt_id").String(pid).Key("user_id").String(people[i].id);
            aw.Key("message_id").String(reply.id).Key("answered_at").String(FormatIso(reply.at));
            bool right = std::string(choice) == "B";
            aw.Key("choice").String(choice).Key("correct").Bool(right);
            aw.Key("points").Int(right ? 2 : 1);
            answer_lines.push_back(aw.EndObject().Take());
            at += minutes{10 + static_cast<int64_t>(rng.Below(300))};
          }
        }
      }
    }
  }
  for (const auto& l : prompt_lines) prompts->Line(l);
  for (const auto& l : answer_lines) answers->Line(l);
  n.prompts = static_cast<int64_t>(prompt_lines.size());
  n.answers = static_cast<int64_t>(answer_lines.size());
  std::sort(written.begin(), written.end(), std::greater<>());
  int64_t top = 0;
  for (size_t i = 0; i < (written.size() + 99) / 100; ++i) top += written[i];
  if (n.messages > 0)
    n.top_percent_share = static_cast<double>(top) / static_cast<double>(n.messages);
  for (auto* f :
       {users.get(), groups.get(), messages.get(), reactions.get(), prompts.get(), answers.get()})
    if (!f->Close()) return Result<GenCounts>::Fail("writing into " + dir + " failed");
  return n;
}

}  // namespace learnloop::bench
