#include "sim/world.h"

#include <algorithm>
#include <cmath>

namespace learnloop::sim {

namespace {

const char* const kFirst[] = {"Anna",  "Ben",    "Chloe", "David", "Elif", "Farid", "Greta",
                              "Hiro",  "Ines",   "Jonas", "Kemal", "Lena", "Mateo", "Nora",
                              "Olu",   "Priya",  "Quinn", "Rosa",  "Sven", "Tara",  "Umar",
                              "Vera",  "Wei",    "Xenia", "Yusuf", "Zoe",  "Aiko",  "Bruno",
                              "Carla", "Dmitri", "Eva",   "Felix"};
const char* const kLast[] = {"Schmidt", "Okafor", "Martin",  "Nguyen", "Rossi",  "Kowalski",
                             "Silva",   "Jensen", "Haddad",  "Tanaka", "Murphy", "Novak",
                             "Garcia",  "Berg",   "Dubois",  "Khan",   "Larsen", "Moreau",
                             "Petrov",  "Quist",  "Richter", "Sato",   "Torres", "Ulrich",
                             "Varga",   "Weber",  "Yilmaz",  "Zimmer"};
const char* const kDepartments[] = {"Engineering", "Sales",   "Marketing",  "Finance",
                                    "HR",          "Support", "Operations", "Legal"};
const char* const kTopics[] = {
    "Data Science CoP", "Onboarding Buddies", "Customer Stories", "Security Champions",
    "Working Out Loud", "Agile Practices",    "Sales Enablement", "Leadership Circle",
    "Tech Talks",       "Design Guild",       "Finance Insights", "People & Culture",
    "Cloud Platform",   "Product Feedback",   "Sustainability",   "Writing Club"};
const char* const kOpen[] = {"Has anyone tried",      "Sharing a lesson from this week:",
                             "Quick question about",  "Great session today on",
                             "Looking for advice on", "Here is a short write-up of",
                             "What is your take on",  "Just published notes about"};
const char* const kSubject[] = {"the new release process", "customer onboarding",
                                "our quarterly goals",     "pairing on code reviews",
                                "the data pipeline",       "running better retros",
                                "writing clear proposals", "the security training",
                                "remote facilitation",     "the pricing change"};
const char* const kReply[] = {"Thanks, this is really useful!",
                              "We did the same in our team and it worked.",
                              "I'd add one thing:",
                              "Agreed, and the checklist helps a lot.",
                              "Can you share the slides?",
                              "Interesting, I had not seen it that way.",
                              "+1, let's talk about it at the next meetup.",
                              "We tried this last quarter; happy to share notes."};
const char* const kAnswer[] = {"Good question. In my team we start with the customer's goal.",
                               "I think the key is to write it down before the meeting.",
                               "For me it was pairing with a colleague on a real case.",
                               "Short answer: ask early, ask often.",
                               "We use a checklist and review it every sprint.",
                               "Honestly I learned most from the post-mortems.",
                               "B - because it keeps the feedback loop short.",
                               "I'd say listening first, then proposing."};

template <size_t N>
const char* Pick(const char* const (&a)[N], std::mt19937_64& rng) {
  return a[std::uniform_int_distribution<size_t>(0, N - 1)(rng)];
}

// Yammer times have whole seconds.
Time Plus(Time t, double seconds) {
  return std::chrono::floor<std::chrono::seconds>(t + Millis{static_cast<int64_t>(seconds * 1000)});
}

// A uniform number in [0, 1) from a seed, an index and a stream (splitmix64).
double Hash01(uint64_t seed, uint64_t idx, uint64_t stream) {
  uint64_t z =
      seed * 0x9E3779B97F4A7C15ull + idx * 0xBF58476D1CE4E5B9ull + stream * 0x94D049BB133111EBull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ull << 53);
}

// A stable GUID-shaped id made from a number (Entra object ids, team ids).
std::string GuidFor(int64_t n, uint64_t salt) {
  std::mt19937_64 g(static_cast<uint64_t>(n) * 0x9E3779B97F4A7C15ull ^ salt);
  uint64_t a = g(), b = g();
  char buf[40];
  std::snprintf(
      buf, sizeof buf, "%08llx-%04llx-4%03llx-a%03llx-%012llx",
      static_cast<unsigned long long>(a >> 32), static_cast<unsigned long long>((a >> 16) & 0xffff),
      static_cast<unsigned long long>(a & 0xfff), static_cast<unsigned long long>(b >> 52),
      static_cast<unsigned long long>(b & 0xffffffffffffull));
  return buf;
}

}  // namespace

World::World(const OrgOptions& o) : opt_(o), now_(o.start) {
  Generate();
  // The history before the start is already there when the simulator comes up.
  Time start = now_;
  now_ = Time{};
  AdvanceTo(start);
}

const Person* World::FindPerson(int64_t id) const {
  auto it = person_index_.find(id);
  return it == person_index_.end() ? nullptr : &people_[it->second];
}

const Community* World::FindCommunity(int64_t id) const {
  auto it = community_index_.find(id);
  return it == community_index_.end() ? nullptr : &communities_[it->second];
}

const std::vector<size_t>& World::InGroup(int64_t gid) const {
  static const std::vector<size_t> kEmpty;
  auto it = by_group_.find(gid);
  return it == by_group_.end() ? kEmpty : it->second;
}

const std::vector<size_t>& World::InThread(int64_t thread_id) const {
  static const std::vector<size_t> kEmpty;
  auto it = by_thread_.find(thread_id);
  return it == by_thread_.end() ? kEmpty : it->second;
}

std::optional<size_t> World::FindMessage(int64_t id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

void World::Schedule(Time at, EventKind k, size_t msg, int64_t user) {
  timeline_.push_back(Event{at, seq_++, k, msg, user});
}

void World::ScheduleLive(Time at, EventKind k, size_t msg, int64_t user) {
  live_.insert(Event{at, seq_++, k, msg, user});
}

bool Msg::LikedBy(int64_t user) const {
  return std::binary_search(liked_by.begin(), liked_by.end(), user);
}

uint32_t World::AddText(const std::string& t) {
  auto it = text_index_.find(t);
  if (it != text_index_.end()) return it->second;
  texts_.push_back(t);
  auto id = static_cast<uint32_t>(texts_.size() - 1);
  text_index_.emplace(t, id);
  return id;
}

int64_t World::PickMember(size_t ci, std::mt19937_64& rng, bool only_active, int64_t not_this) {
  const auto& cum = only_active ? cum_writers_[ci] : cum_anyone_[ci];
  if (cum.empty() || cum.back() <= 0) return 0;
  std::uniform_real_distribution<double> d(0, cum.back());
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto k = static_cast<size_t>(std::upper_bound(cum.begin(), cum.end(), d(rng)) - cum.begin());
    int64_t id = communities_[ci].members[std::min(k, cum.size() - 1)];
    if (id != not_this) return id;
  }
  return 0;
}

void World::Generate() {
  std::mt19937_64 rng(opt_.seed);
  std::uniform_real_distribution<double> uni(0, 1);
  const Time history_start = opt_.start - std::chrono::hours{24 * opt_.history_days};
  const Time end = opt_.start + std::chrono::hours{24 * opt_.horizon_days};

  // People: most read, some react, few post (a heavy-tailed, 90-9-1-like participation).
  for (int i = 0; i < opt_.people; ++i) {
    Person p;
    p.id = 1'490'000'000 + static_cast<int64_t>(i) * 13 + static_cast<int64_t>(rng() % 7);
    p.first = Pick(kFirst, rng);
    p.last = Pick(kLast, rng);
    p.department = Pick(kDepartments, rng);
    std::string lf = p.first, ll = p.last;
    std::transform(lf.begin(), lf.end(), lf.begin(), ::tolower);
    std::transform(ll.begin(), ll.end(), ll.begin(), ::tolower);
    p.email = lf + "." + ll + std::to_string(i) + "@contoso.example";
    if (uni(rng) < 0.01) p.state = "suspended";
    if (uni(rng) < 0.05)
      p.activated_at = Plus(history_start, uni(rng) * 24 * 3600 * (opt_.history_days + 21));
    else
      p.activated_at = Plus(history_start, -uni(rng) * 3 * 365 * 24 * 3600.0 - 86400);
    double u = uni(rng);
    if (u < 0.85)
      p.activity = 0;  // reads only
    else if (u < 0.94)
      p.activity = 0.05;  // speaks up now and then
    else
      p.activity = std::min(50.0, 1.0 / std::pow(1 - uni(rng), 1 / 1.3));
    p.aad_id = GuidFor(p.id, 0xaad);
    person_index_[p.id] = people_.size();
    people_.push_back(std::move(p));
  }
  // Time zones: most people work in the organisation's, some elsewhere.
  zone_names_ = {opt_.timezone, "America/New_York", "Asia/Kolkata", "America/Los_Angeles",
                 "Asia/Singapore"};
  std::mt19937_64 zrng(opt_.seed ^ 0x20e5ull);
  for (auto& p : people_)
    if (uni(zrng) < opt_.remote_share)
      p.zone = static_cast<uint8_t>(1 + zrng() % (zone_names_.size() - 1));
  // The Teams app installed for themselves (personal scope), from a stream of its own so the
  // rest of the organisation does not change with the share; and their Bot Framework ids.
  for (auto& p : people_) {
    p.teams_app =
        Hash01(opt_.seed, static_cast<uint64_t>(p.id), 0x7ea5a99ull) < opt_.teams_app_share;
    std::string a = GuidFor(p.id, 0x29a), b = GuidFor(p.id, 0x29b);
    p.mri = "29:1";
    for (char ch : a + b)
      if (ch != '-') p.mri += ch;
  }
  // Managers: someone earlier in the same department (the first of each has none).
  std::map<std::string, std::vector<int64_t>> by_department;
  for (auto& p : people_) {
    auto& dep = by_department[p.department];
    if (!dep.empty()) p.manager = dep[rng() % dep.size()];
    dep.push_back(p.id);
  }
  Person bot;
  bot.id = 1'480'000'001;
  bot.first = "Learning";
  bot.last = "Bot";
  bot.department = "L&D";
  bot.email = "learnloop-bot@contoso.example";
  bot.activated_at = Plus(history_start, -86400.0 * 30);
  bot.bot = true;
  bot.aad_id = GuidFor(bot.id, 0xb07);
  bot_index_ = people_.size();
  person_index_[bot.id] = people_.size();
  people_.push_back(bot);

  // Communities with a popularity that falls off; people join one to four of them.
  int m = opt_.communities > 0 ? opt_.communities : std::max(4, opt_.people / 40);
  std::vector<double> popularity;
  for (int k = 0; k < m; ++k) {
    Community c;
    c.id = 13'114'941'440 + static_cast<int64_t>(k) * 1031;
    c.full_name = kTopics[k % std::size(kTopics)];
    if (k >= static_cast<int>(std::size(kTopics)))
      c.full_name += " " + std::to_string(k / std::size(kTopics) + 1);
    c.name = c.full_name;
    std::transform(c.name.begin(), c.name.end(), c.name.begin(),
                   [](char ch) { return ch == ' ' ? '-' : ::tolower(ch); });
    c.description = "Community of practice: " + c.full_name;
    c.created_at = Plus(history_start, -86400.0 * (30 + k));
    community_index_[c.id] = communities_.size();
    communities_.push_back(std::move(c));
    popularity.push_back(1.0 / std::pow(k + 1, 0.8));
  }
  std::discrete_distribution<int> pick_group(popularity.begin(), popularity.end());
  for (const auto& p : people_) {
    if (p.bot) continue;
    int n = 1;
    while (n < 4 && uni(rng) < 0.45) ++n;
    for (int j = 0; j < n; ++j) communities_[pick_group(rng)].members.push_back(p.id);
  }
  for (auto& c : communities_) {
    while (c.members.size() < 6) c.members.push_back(people_[rng() % opt_.people].id);
    c.members.push_back(bot.id);
    std::sort(c.members.begin(), c.members.end());
    c.members.erase(std::unique(c.members.begin(), c.members.end()), c.members.end());
  }
  // A few communities are hidden from the directory (groups.json) though the service account is
  // a member: the last ones, the least popular.
  for (int k = std::max(0, m - std::max(0, opt_.unlisted_communities)); k < m; ++k)
    communities_[k].listed = false;
  // "All Company": everyone is in it; its messages carry no group_id (reference §1.4.4).
  {
    Community all;
    all.id = 13'114'900'001;
    all.full_name = all.name = "All Company";
    all.description = "Everyone in the network";
    all.created_at = Plus(history_start, -86400.0 * 400);
    all.company_wide = true;
    all.listed = false;
    for (const auto& p : people_) all.members.push_back(p.id);
    std::sort(all.members.begin(), all.members.end());
    company_index_ = communities_.size();
    community_index_[all.id] = communities_.size();
    communities_.push_back(std::move(all));
  }

  // Microsoft Teams: teams whose channels share the team's members; people belong to one to
  // three teams. A stream of randomness of its own, so the Viva Engage side does not move.
  std::mt19937_64 trng(opt_.seed ^ 0x7ea5ull);
  int n_teams = opt_.teams >= 0 ? opt_.teams : std::max(1, opt_.people / 150);
  first_channel_ = communities_.size();
  std::vector<std::vector<int64_t>> team_members(n_teams);
  for (const auto& p : people_) {
    if (p.bot || n_teams == 0) continue;
    int n = 1;
    while (n < 3 && uni(trng) < 0.5) ++n;
    for (int j = 0; j < n; ++j) team_members[trng() % n_teams].push_back(p.id);
  }
  static const char* const kChannels[] = {"General", "Questions", "Show and Tell", "Random"};
  for (int t = 0; t < n_teams; ++t) {
    auto& tm = team_members[t];
    while (tm.size() < 6) tm.push_back(people_[trng() % opt_.people].id);
    tm.push_back(bot.id);
    std::sort(tm.begin(), tm.end());
    tm.erase(std::unique(tm.begin(), tm.end()), tm.end());
    std::string team_guid = GuidFor(t + 1, 0x7ea3);
    std::string team_name = std::string(kTopics[(t + 3) % std::size(kTopics)]) + " Team";
    int channels = 1 + static_cast<int>(trng() % 3);
    for (int k = 0; k < channels; ++k) {
      Community c;
      c.id = 20'000'000'000 + static_cast<int64_t>(t) * 100 + k;
      c.team_id = team_guid;
      c.team_name = team_name;
      char hex[33];
      std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(trng()),
                    static_cast<unsigned long long>(trng()));
      c.channel_id = std::string("19:") + hex + "@thread.tacv2";
      c.full_name = c.name = kChannels[k];
      c.description = team_name + " - " + kChannels[k];
      c.created_at = Plus(history_start, -86400.0 * (60 + t));
      c.members = tm;
      community_index_[c.id] = communities_.size();
      communities_.push_back(std::move(c));
    }
  }

  // Pick weights per community: writers by activity; anyone (likes, mentions) a little more.
  for (const auto& c : communities_) {
    std::vector<double> writers, anyone;
    double w = 0, a = 0;
    for (int64_t id : c.members) {
      const Person& p = people_[person_index_.at(id)];
      bool can = !p.bot && p.state == "active";
      w += can ? p.activity : 0;
      a += can ? p.activity + 0.005 : 0;
      writers.push_back(w);
      anyone.push_back(a);
    }
    cum_writers_.push_back(std::move(writers));
    cum_anyone_.push_back(std::move(anyone));
  }
  // The phrases generated messages are made of, stored once.
  for (const char* o : kOpen)
    for (const char* sub : kSubject) AddText(std::string(o) + " " + sub + "?");
  for (const char* r : kReply) AddText(r);
  for (const char* a : kAnswer) AddText(a);

  // A system message opens each community's feed (connectors must skip it).
  for (size_t k = 0; k < first_channel_; ++k) {
    if (communities_[k].company_wide) continue;
    Msg s;
    s.sender = communities_[k].members.front();
    s.group = communities_[k].id;
    s.created_at = Plus(history_start, -3600.0 * (k + 1));
    s.text = AddText("created the " + communities_[k].full_name + " community.");
    s.system = true;
    s.thread = msgs_.size();
    msgs_.push_back(s);
    Schedule(s.created_at, EventKind::kAppear, msgs_.size() - 1, 0);
  }

  // Threads, hour by hour: working hours in the organisation's zone, quieter weekends.
  auto tz = FindZone(opt_.timezone);
  TimeZone zone = tz.ok() ? *tz : *FindZone("UTC");
  std::vector<double> group_weight, channel_weight;
  for (const auto& c : communities_) {
    double w = 0;
    for (int64_t id : c.members) w += people_[person_index_.at(id)].activity;
    group_weight.push_back(c.IsChannel() || c.company_wide ? 0 : w);
    channel_weight.push_back(c.IsChannel() ? w : 0);
  }
  bool any_channel = first_channel_ < communities_.size();
  if (!any_channel) channel_weight.assign(1, 1.0);
  std::discrete_distribution<size_t> pick_channel(channel_weight.begin(), channel_weight.end());
  std::discrete_distribution<size_t> pick_thread_group(group_weight.begin(), group_weight.end());
  const double per_hour = opt_.people * opt_.posts_per_person_day / 24.0;
  // Working hours in each zone: busy 08-18, some evening, little at night, quiet weekends.
  const int hours =
      static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(end - history_start).count());
  std::vector<double> zone_share(zone_names_.size(), 0);
  for (const auto& p : people_) zone_share[p.zone] += 1.0 / people_.size();
  for (const auto& name : zone_names_) {
    auto z = FindZone(name);
    TimeZone tzz = z.ok() ? *z : zone;
    std::vector<float> f(hours);
    for (int i = 0; i < hours; ++i) {
      auto local = UtcToLocal(tzz, history_start + std::chrono::hours{i});
      auto days = std::chrono::floor<std::chrono::days>(local.time_since_epoch());
      int hour = static_cast<int>(
          std::chrono::duration_cast<std::chrono::hours>(local.time_since_epoch() - days).count());
      unsigned wd = std::chrono::weekday{std::chrono::sys_days{days}}.c_encoding();
      double x = hour >= 8 && hour < 18 ? 2.1 : (hour >= 18 && hour < 22 ? 0.5 : 0.08);
      f[i] = static_cast<float>(wd == 0 || wd == 6 ? x * 0.2 : x);
    }
    hour_factor_.push_back(std::move(f));
  }
  for (int i = 0; i < hours; ++i) {
    Time h = history_start + std::chrono::hours{i};
    double f = 0;
    for (size_t z = 0; z < zone_names_.size(); ++z) f += zone_share[z] * hour_factor_[z][i];
    std::poisson_distribution<int> n_posts(per_hour * f);
    int n = n_posts(rng);
    for (int k = 0; k < n; ++k)
      GenerateThread(pick_thread_group(rng), Plus(h, uni(rng) * 3600), rng, i);
    if (any_channel) {  // channel threads: about a third of the community traffic
      std::poisson_distribution<int> n_channel(per_hour * f * 0.35);
      int m = n_channel(trng);
      for (int k = 0; k < m; ++k)
        GenerateThread(pick_channel(trng), Plus(h, uni(trng) * 3600), trng, i);
    }
  }
  // Bursts: now and then a community has a busy day (an event, an announcement) with several
  // extra threads during working hours.
  std::mt19937_64 brng(opt_.seed ^ 0xb0b5ull);
  for (size_t k = 0; k < communities_.size(); ++k) {
    if (communities_[k].company_wide) continue;
    if (cum_writers_[k].empty() || cum_writers_[k].back() <= 0) continue;
    for (Time day = history_start; day < end; day += std::chrono::hours{24}) {
      if (uni(brng) >= 0.02) continue;
      std::poisson_distribution<int> extra(5);
      for (int i = extra(brng); i > 0; --i)
        GenerateThread(k, Plus(day, (7 + uni(brng) * 9) * 3600), brng);
    }
  }
  // Threads for the whole company, from a stream of randomness of their own (the communities'
  // traffic does not move).
  std::mt19937_64 crng(opt_.seed ^ 0xa11cull);
  for (int i = 0; i < hours && opt_.company_share > 0; ++i) {
    Time h = history_start + std::chrono::hours{i};
    double f = 0;
    for (size_t z = 0; z < zone_names_.size(); ++z) f += zone_share[z] * hour_factor_[z][i];
    std::poisson_distribution<int> n_posts(per_hour * f * opt_.company_share);
    for (int k = n_posts(crng); k > 0; --k)
      GenerateThread(company_index_, Plus(h, uni(crng) * 3600), crng, i);
  }
  // Sorted once; what falls past the horizon is dropped.
  std::sort(timeline_.begin(), timeline_.end());
  while (!timeline_.empty() && timeline_.back().at >= end) timeline_.pop_back();
}

void World::GenerateThread(size_t gi, Time at, std::mt19937_64& rng, int hour) {
  std::uniform_real_distribution<double> uni(0, 1);
  const Community& c = communities_[gi];
  int64_t author = PickMember(gi, rng, true, 0);
  if (!author) return;
  if (hour >= 0) {
    // People start threads in their own working hours: draw again while the author is off.
    float best = 0;
    for (const auto& f : hour_factor_) best = std::max(best, f[hour]);
    for (int tries = 0;; ++tries) {
      if (uni(rng) * best <= hour_factor_[people_[person_index_.at(author)].zone][hour]) break;
      if (tries == 8) return;
      author = PickMember(gi, rng, true, 0);
      if (!author) return;
    }
  }
  auto add = [&](Msg m) {
    if (uni(rng) < 0.12) {
      m.mention = PickMember(gi, rng, false, m.sender);
    }
    msgs_.push_back(std::move(m));
    size_t idx = msgs_.size() - 1;
    Schedule(msgs_[idx].created_at, EventKind::kAppear, idx, 0);
    // Some messages are edited or deleted later (drawn from the index, not from rng, so the
    // rest of the organisation does not move).
    double u = Hash01(opt_.seed, idx, 1);
    Time later = Plus(msgs_[idx].created_at, 600 + Hash01(opt_.seed, idx, 2) * 2 * 86400);
    if (u < opt_.delete_rate)
      Schedule(later, EventKind::kDelete, idx, 0);
    else if (u < opt_.delete_rate + opt_.edit_rate)
      Schedule(later, EventKind::kEdit, idx, 0);
    std::poisson_distribution<int> n_likes(msgs_[idx].parent == SIZE_MAX ? 1.0 : 0.5);
    int n = n_likes(rng);
    for (int i = 0; i < n; ++i) {
      int64_t who = PickMember(gi, rng, false, msgs_[idx].sender);
      if (who)
        Schedule(Plus(msgs_[idx].created_at, 60 + uni(rng) * 3 * 86400), EventKind::kLike, idx,
                 who);
    }
    return idx;
  };
  Msg post;
  post.sender = author;
  post.group = c.id;
  post.created_at = at;
  post.text = static_cast<uint32_t>(rng() % (std::size(kOpen) * std::size(kSubject)));
  post.thread = msgs_.size();
  size_t post_idx = add(std::move(post));

  // About two replies per post (geometric, mean 2), minutes to days later.
  int replies = 0;
  while (replies < 12 && uni(rng) < 2.0 / 3.0) ++replies;
  std::lognormal_distribution<double> delay(std::log(2 * 3600.0), 1.3);
  std::vector<double> times;
  for (int i = 0; i < replies; ++i) times.push_back(std::clamp(delay(rng), 60.0, 5 * 86400.0));
  std::sort(times.begin(), times.end());
  std::vector<size_t> thread_msgs{post_idx};
  for (double t : times) {
    Msg r;
    r.sender = PickMember(gi, rng, true, 0);
    if (!r.sender) break;
    r.group = c.id;
    // Teams replies never nest: they all answer the root.
    r.parent =
        (c.IsChannel() || uni(rng) < 0.7) ? post_idx : thread_msgs[rng() % thread_msgs.size()];
    r.thread = post_idx;
    r.created_at = Plus(at, t + 1);
    r.text =
        static_cast<uint32_t>(std::size(kOpen) * std::size(kSubject) + rng() % std::size(kReply));
    thread_msgs.push_back(add(std::move(r)));
  }
}

void World::Materialize(size_t idx) {
  Msg& m = msgs_[idx];
  const Community* c = m.group ? FindCommunity(m.group) : nullptr;
  if ((c && c->IsChannel()) || !m.chat.empty()) {
    // Teams message ids are the creation time in epoch milliseconds.
    m.id = std::max(ToUnixMillis(m.created_at), last_teams_id_ + 1);
    last_teams_id_ = m.id;
    m.created_at = FromUnixMillis(m.id);
  } else {
    next_id_ += 1 + static_cast<int64_t>((idx * 2654435761u) % 37);
    m.id = next_id_;
    if (!m.Private()) yammer_visible_.push_back(idx);  // the company feed has no private ones
  }
  if (m.Private() && m.chat.empty()) {  // a Viva Engage private message (Teams chats apart)
    private_of_[m.sender].push_back(idx);
    for (int64_t p : m.direct_to) private_of_[p].push_back(idx);
  }
  visible_.push_back(idx);
  by_id_[m.id] = idx;
  if (m.group) by_group_[m.group].push_back(idx);
  by_thread_[msgs_[m.thread].id].push_back(idx);
  Touch(idx, m.created_at);
  if (on_change_) on_change_(idx, true);
}

void World::Touch(size_t idx, Time at) {
  Msg& m = msgs_[idx];
  Msg& root = msgs_[m.thread];
  m.change_seq = ++change_seq_;
  m.modified_at = std::max(m.modified_at, at);
  // Whether this brings the root back into a delta round is the service's choice (§2.6 [U]).
  root.thread_seq = change_seq_;
  root.thread_modified_at = std::max(root.thread_modified_at, at);
  if (&root == &m) return;
  m.thread_seq = m.change_seq;
  m.thread_modified_at = m.modified_at;
}

void World::Apply(const Event& e) {
  now_ = std::max(now_, e.at);
  if (e.kind == EventKind::kClick) {
    CardClick& c = clicks_[e.msg];
    if (msgs_[c.card].deleted) return;
    c.done = true;
    if (on_click_) on_click_(e.msg);
    return;
  }
  Msg& m = msgs_[e.msg];
  if (e.kind == EventKind::kAppear) {
    Materialize(e.msg);
  } else if (m.id == 0) {
    return;
  } else if (e.kind == EventKind::kLike) {
    Like(e.msg, e.user, true);
  } else {
    if (e.kind == EventKind::kDelete) {
      m.deleted = true;
      m.deleted_at = now_;
    }
    if (e.kind == EventKind::kEdit) m.edited_at = now_;
    Touch(e.msg, now_);
    if (on_change_) on_change_(e.msg, false);
  }
}

void World::AdvanceTo(Time t) {
  if (t <= now_) return;
  for (;;) {
    bool from_timeline = timeline_next_ < timeline_.size() && timeline_[timeline_next_].at <= t;
    bool from_live = !live_.empty() && live_.begin()->at <= t;
    if (!from_timeline && !from_live) break;
    if (from_timeline && (!from_live || timeline_[timeline_next_] < *live_.begin())) {
      Apply(timeline_[timeline_next_++]);
    } else {
      Event e = *live_.begin();
      live_.erase(live_.begin());
      Apply(e);
    }
  }
  if (timeline_next_ == timeline_.size()) std::vector<Event>().swap(timeline_), timeline_next_ = 0;
  now_ = t;
}

size_t World::Post(int64_t sender, int64_t group, std::optional<size_t> parent,
                   const std::string& text, bool via_api, std::vector<CardAction> actions) {
  if (parent && msgs_[*parent].Private()) {
    // A reply in a private conversation stays in it, to everyone else in it.
    const Msg& root = msgs_[msgs_[*parent].thread];
    std::vector<int64_t> to = root.direct_to;
    to.push_back(root.sender);
    std::erase(to, sender);
    std::string chat = root.chat;  // a copy: posting adds to the messages
    return PostPrivate(sender, std::move(to), parent, text, chat, std::move(actions));
  }
  Msg m = NewMessage(sender, parent, text, via_api);
  m.group = parent ? msgs_[*parent].group : group;
  size_t idx = AddMessage(std::move(m), std::move(actions));
  if (msgs_[idx].by_bot && !parent && msgs_[idx].group) ScheduleAnswers(idx);
  if (msgs_[idx].by_bot && parent && msgs_[msgs_[idx].thread].by_bot) Remind(idx);
  return idx;
}

size_t World::PostPrivate(int64_t sender, std::vector<int64_t> to, std::optional<size_t> parent,
                          const std::string& text, const std::string& chat,
                          std::vector<CardAction> actions) {
  Msg m = NewMessage(sender, parent, text, true);
  std::sort(to.begin(), to.end());
  to.erase(std::unique(to.begin(), to.end()), to.end());
  m.direct_to = std::move(to);
  m.chat = chat;
  size_t idx = AddMessage(std::move(m), std::move(actions));
  if (msgs_[idx].by_bot && !parent) ScheduleAnswers(idx);
  return idx;
}

Msg World::NewMessage(int64_t sender, std::optional<size_t> parent, const std::string& text,
                      bool via_api) {
  Msg m;
  m.sender = sender;
  m.parent = parent ? *parent : SIZE_MAX;
  m.thread = parent ? msgs_[*parent].thread : msgs_.size();
  m.created_at = now_;
  m.text = AddText(text);
  m.via_api = via_api;
  m.by_bot = FindPerson(sender) && FindPerson(sender)->bot;
  return m;
}

size_t World::AddMessage(Msg m, std::vector<CardAction> actions) {
  msgs_.push_back(std::move(m));
  size_t idx = msgs_.size() - 1;
  Materialize(idx);
  if (!actions.empty()) cards_[idx] = std::move(actions);
  return idx;
}

const std::vector<size_t>& World::PrivateOf(int64_t person) const {
  static const std::vector<size_t> kNone;
  auto it = private_of_.find(person);
  return it == private_of_.end() ? kNone : it->second;
}

std::string World::PersonalChat(int64_t person) {
  auto [it, fresh] = chats_.emplace(person, "");
  if (fresh) {
    std::string a = GuidFor(person, 0xc4a7), b = GuidFor(person, 0xc4a8);
    it->second = "a:1";
    for (char ch : a + b)
      if (ch != '-') it->second += ch;
  }
  return it->second;
}

int64_t World::PersonOfChat(const std::string& chat) const {
  for (const auto& [person, c] : chats_)
    if (c == chat) return person;
  return 0;
}

const Person* World::FindByMri(const std::string& mri) const {
  for (const auto& p : people_)
    if (p.mri == mri) return &p;
  return nullptr;
}

void World::Like(size_t msg, int64_t user, bool on) {
  Msg& m = msgs_[msg];
  auto& v = m.liked_by;
  auto it = std::lower_bound(v.begin(), v.end(), user);
  bool has = it != v.end() && *it == user;
  if (on == has) return;
  if (on) {
    v.insert(it, user);
    m.reacted_at.emplace_back(user, now_);
  } else {
    v.erase(it);
    std::erase_if(m.reacted_at, [&](const auto& r) { return r.first == user; });
  }
  Touch(msg, now_);
  if (on_change_) on_change_(msg, false);
}

void World::Edit(size_t msg, const std::string& text) {
  Msg& m = msgs_[msg];
  m.text = AddText(text);
  Apply(Event{now_, ++seq_, EventKind::kEdit, msg, 0});
}

void World::Delete(size_t msg) { Apply(Event{now_, ++seq_, EventKind::kDelete, msg, 0}); }

const std::vector<CardAction>* World::CardActions(size_t msg) const {
  auto it = cards_.find(msg);
  return it == cards_.end() ? nullptr : &it->second;
}

const Community* World::FindChannel(const std::string& team_id,
                                    const std::string& channel_id) const {
  for (size_t k = first_channel_; k < communities_.size(); ++k)
    if (communities_[k].team_id == team_id && communities_[k].channel_id == channel_id)
      return &communities_[k];
  return nullptr;
}

namespace {

// What kind of question a prompt is, read from its text as a person would.
enum class PromptKind { kFreeText, kChoice, kRating, kPoll };

PromptKind KindOf(const std::string& text) {
  auto has = [&](const char* t) { return text.find(t) != std::string::npos; };
  if (has("1-5") || has("1 to 5") || has("rate ") || has("Rate ")) return PromptKind::kRating;
  if ((has("A)") && has("B)")) || (has("A.") && has("B.")))
    return has("poll") || has("Poll") ? PromptKind::kPoll : PromptKind::kChoice;
  return PromptKind::kFreeText;
}

// How people write the letter of their choice, or a rating: many ways, in several languages
// (a list of esn-sim's own, not the one the answer tests use). {L} is the letter in upper case,
// {l} in lower case, {n} the rating.
const char* const kChoicePhrasings[] = {"{L}",
                                        "{l}",
                                        "{L})",
                                        "{l}) - we did that last year",
                                        "{L}) because it scales",
                                        "option {l}",
                                        "Option {L}.",
                                        "I think {L}",
                                        "I reckon {L}",
                                        "my pick: {L}",
                                        "my guess is {L}",
                                        "{L}, no doubt",
                                        "{L} I'd say",
                                        "Going for {L} here",
                                        "I'd pick {L}",
                                        "{L} - gut feeling",
                                        "Hmm, {L}?",
                                        "{L}... I think",
                                        "Pretty confident it's {L}",
                                        "Answer {L}",
                                        "{L} would be my guess",
                                        "Surely {L}!",
                                        "{L} (easy one)",
                                        "That's {L}",
                                        "Let's say {L}",
                                        "Definitivamente {L}",
                                        "Mi voto: {L}",
                                        "Je prends la {L}",
                                        "Ma r\xC3\xA9ponse : {L}",
                                        "Je mise sur {L}",
                                        "Meine Wahl: {L}",
                                        "Tippe auf {L}",
                                        "{L}, weil es schneller geht",
                                        "Klar: {L}",
                                        "Respuesta {L}"};
const char* const kRatingPhrasings[] = {
    "{n}",          "{n}/5",     "{n} out of 5",          "I'd give it {n}",   "{n} stars",
    "Note : {n}/5", "{n} von 5", "Un {n} para m\xC3\xAD", "{n} - very useful", "solid {n}"};

std::string Fill(std::string text, const std::string& key, const std::string& value) {
  for (size_t p; (p = text.find(key)) != std::string::npos;) text.replace(p, key.size(), value);
  return text;
}

// The letters a choice prompt offers ("A) … B) …").
std::string Letters(const std::string& prompt) {
  std::string out;
  for (char c = 'A'; c <= 'F'; ++c)
    if (prompt.find(std::string(1, c) + ")") != std::string::npos) out += c;
  return out.empty() ? "ABC" : out;
}

// What a person writes, and what they mean by it ("" for free text).
std::pair<std::string, std::string> AnswerText(PromptKind kind, const std::string& prompt,
                                               std::mt19937_64& rng) {
  switch (kind) {
    case PromptKind::kChoice:
    case PromptKind::kPoll: {
      // The second option is the favourite, as with the card buttons.
      std::string letters = Letters(prompt);
      std::vector<double> weight;
      for (size_t k = 0; k < letters.size(); ++k)
        weight.push_back(1.0 / (1.0 + std::abs(static_cast<double>(k) - 1.0)));
      std::discrete_distribution<size_t> pick(weight.begin(), weight.end());
      std::string letter(1, letters[pick(rng)]);
      std::string lower(1, static_cast<char>(std::tolower(letter[0])));
      std::string text = Fill(Fill(Pick(kChoicePhrasings, rng), "{L}", letter), "{l}", lower);
      return {text, letter};
    }
    case PromptKind::kRating: {
      static const int kStars[] = {4, 5, 3, 4, 5, 2, 4, 1};
      std::string n = std::to_string(kStars[rng() % std::size(kStars)]);
      return {Fill(Pick(kRatingPhrasings, rng), "{n}", n), n};
    }
    default:
      return {Pick(kAnswer, rng), ""};
  }
}

}  // namespace

bool World::Names(const std::string& text, const Person& p) {
  // "@First Last" (Viva Engage), "<at>First Last</at>" (Teams), or the id in a mention entity.
  return text.find("@" + p.first + " " + p.last) != std::string::npos ||
         text.find("<at>" + p.first + " " + p.last + "</at>") != std::string::npos ||
         text.find(std::to_string(p.id)) != std::string::npos;
}

void World::ScheduleAnswer(size_t prompt, int64_t person, Time at, std::mt19937_64& rng) {
  answering_[prompt].insert(person);
  if (auto it = cards_.find(prompt); it != cards_.end()) {
    // Most people press a button of the card; the rest still reply in words. The second
    // button is the favourite, as "B" is in replies.
    std::uniform_real_distribution<double> uni(0, 1);
    if (uni(rng) < 0.8) {
      std::vector<double> weight;
      for (size_t k = 0; k < it->second.size(); ++k)
        weight.push_back(1.0 / (1.0 + std::abs(static_cast<double>(k) - 1.0)));
      std::discrete_distribution<size_t> pick(weight.begin(), weight.end());
      clicks_.push_back(CardClick{prompt, person, at, pick(rng), false});
      ScheduleLive(at, EventKind::kClick, clicks_.size() - 1, person);
      return;
    }
  }
  Msg r;
  r.sender = person;
  r.group = msgs_[prompt].group;
  r.parent = prompt;
  r.thread = prompt;
  r.created_at = at;
  if (msgs_[prompt].Private()) {  // the answer to a private question, in its conversation
    r.direct_to = {msgs_[prompt].sender};
    r.chat = msgs_[prompt].chat;
  }
  auto [text, meant] = AnswerText(KindOf(Text(msgs_[prompt])), Text(msgs_[prompt]), rng);
  r.text = AddText(text);
  msgs_.push_back(std::move(r));
  if (!meant.empty()) meant_[msgs_.size() - 1] = meant;
  ScheduleLive(msgs_.back().created_at, EventKind::kAppear, msgs_.size() - 1, 0);
}

void World::ScheduleAnswers(size_t prompt) {
  // Simulated employees answer a prompt with a chance that grows with how active they are and
  // is higher for a quick choice or rating than for a free-text question, minutes to days later
  // (a few after the prompt has closed).
  std::mt19937_64 rng(opt_.seed ^
                      (static_cast<uint64_t>(msgs_[prompt].id) * 0x9E3779B97F4A7C15ull));
  std::uniform_real_distribution<double> uni(0, 1);
  std::lognormal_distribution<double> delay(std::log(3 * 3600.0), 1.1);
  // Copies: answering adds messages and texts, which may move both.
  const std::string text = Text(msgs_[prompt]);
  double kind_factor = KindOf(text) == PromptKind::kFreeText && !cards_.count(prompt) ? 1.0 : 1.5;
  if (msgs_[prompt].Private()) {
    // A question put to someone privately is answered more often than one in a community.
    for (int64_t id : msgs_[prompt].direct_to) {
      const Person* p = FindPerson(id);
      if (!p || p->bot || p->state != "active") continue;
      double chance = std::min(0.9, kind_factor * (0.3 + 0.05 * std::min(6.0, p->activity)));
      if (uni(rng) >= chance) continue;
      ScheduleAnswer(prompt, id, Plus(now_, std::clamp(delay(rng), 120.0, 6 * 86400.0)), rng);
    }
    return;
  }
  const Community* c = FindCommunity(msgs_[prompt].group);
  if (!c) return;
  // A prompt that names people (newcomers, a practice round) is answered by them; others
  // seldom answer a question put to someone else.
  bool names_people = text.find('@') != std::string::npos || text.find("<at>") != std::string::npos;
  for (int64_t id : c->members) {
    const Person& p = people_[person_index_.at(id)];
    if (p.bot || p.state != "active") continue;
    double chance = std::min(
        0.85, kind_factor * (p.activity > 0 ? std::min(0.75, 0.25 + 0.05 * p.activity) : 0.03));
    if (names_people && !Names(text, p)) chance *= 0.05;
    if (uni(rng) >= chance) continue;
    ScheduleAnswer(prompt, id, Plus(now_, std::clamp(delay(rng), 120.0, 6 * 86400.0)), rng);
    if (uni(rng) < 0.1)
      ScheduleLive(Plus(now_, 600 + uni(rng) * 86400), EventKind::kLike, prompt, id);
  }
}

void World::Remind(size_t reminder) {
  // A reminder from the bot in the thread: people it mentions (everyone who has not answered,
  // when it mentions nobody) get another chance, taken sooner than the first.
  const Msg& rm = msgs_[reminder];
  size_t prompt = rm.thread;
  const Community* c = FindCommunity(msgs_[prompt].group);
  if (!c) return;
  std::mt19937_64 rng(opt_.seed ^ (static_cast<uint64_t>(rm.id) * 0xC2B2AE3D27D4EB4Full));
  std::uniform_real_distribution<double> uni(0, 1);
  std::lognormal_distribution<double> delay(std::log(1.5 * 3600.0), 0.9);
  const std::string text = Text(rm);  // a copy: answering adds texts
  auto& done = answering_[prompt];
  for (int64_t id : c->members) {
    const Person& p = people_[person_index_.at(id)];
    if (p.bot || p.state != "active" || done.count(id)) continue;
    bool named = Names(text, p);
    bool nobody_named = text.find('@') == std::string::npos;
    if (!named && !nobody_named) continue;
    double chance = named ? 0.3 : 0.12;
    if (uni(rng) < chance)
      ScheduleAnswer(prompt, id, Plus(now_, std::clamp(delay(rng), 60.0, 3 * 86400.0)), rng);
  }
}

}  // namespace learnloop::sim
