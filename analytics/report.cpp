#include "analytics/report.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "core/crypto.h"

namespace learnloop::analytics {

namespace {

using std::chrono::hours;

double Minutes(Time a, Time b) {
  return std::chrono::duration_cast<Millis>(b - a).count() / 60000.0;
}

std::optional<double> Median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::optional<double> Ratio(int64_t num, int64_t den) {
  if (den == 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

// The indexes every figure uses, built once per report.
struct Index {
  std::unordered_set<std::string> bots;
  std::unordered_map<std::string, const User*> users;
  std::unordered_map<std::string, const Message*> messages;     // non-deleted only
  std::unordered_map<std::string, const Message*> any_message;  // deleted ones too
  std::unordered_map<std::string, std::vector<const Message*>> thread_replies;
  std::unordered_map<std::string, std::vector<const Reaction*>> reactions_on;
  std::unordered_map<std::string, Time> first_message;  // author → earliest non-deleted message
  std::unordered_map<std::string, const Group*> groups;

  explicit Index(const Dataset& d) {
    for (const auto& u : d.users) {
      users[u.id] = &u;
      if (u.is_bot) bots.insert(u.id);
    }
    for (const auto& g : d.groups) groups[g.id] = &g;
    for (const auto& m : d.messages) {
      any_message[m.id] = &m;
      if (m.deleted) continue;
      messages[m.id] = &m;
      if (m.reply_to_id) thread_replies[m.thread_id].push_back(&m);
      if (bots.count(m.author_id)) continue;
      auto it = first_message.find(m.author_id);
      if (it == first_message.end() || m.created_at < it->second)
        first_message[m.author_id] = m.created_at;
    }
    for (const auto& r : d.reactions) reactions_on[r.message_id].push_back(&r);
  }

  bool IsMember(const User& u, Time end) const {
    return !u.is_bot && u.state == "active" && (!u.joined_at || *u.joined_at < end);
  }
  Time ReactionTime(const Reaction& r, const Message& on) const {
    return r.created_at.value_or(on.created_at);
  }
};

Totals ComputeTotals(const Dataset& d, const Index& ix, WeekBounds w) {
  Totals t;
  auto in = [&](Time x) { return w.from <= x && x < w.to; };
  for (const auto& u : d.users)
    if (ix.IsMember(u, w.to)) ++t.members;
  std::unordered_set<std::string> active, contributors;
  std::vector<const Message*> posts;
  for (const auto& [id, m] : ix.messages) {
    if (ix.bots.count(m->author_id) || !in(m->created_at)) continue;
    if (m->reply_to_id)
      ++t.replies;
    else {
      ++t.posts;
      posts.push_back(m);
    }
    active.insert(m->author_id);
    contributors.insert(m->author_id);
  }
  for (const auto& r : d.reactions) {
    auto it = ix.messages.find(r.message_id);
    if (it == ix.messages.end() || ix.bots.count(r.user_id)) continue;
    if (!in(ix.ReactionTime(r, *it->second))) continue;
    ++t.reactions;
    active.insert(r.user_id);
  }
  t.active_users = static_cast<int64_t>(active.size());
  t.contributors = static_cast<int64_t>(contributors.size());
  for (const auto& c : contributors) {
    auto it = ix.first_message.find(c);
    if (it != ix.first_message.end() && in(it->second)) ++t.new_contributors;
  }
  t.engagement_rate = Ratio(t.active_users, t.members);
  t.replies_per_post = Ratio(t.replies, t.posts);
  int64_t responded = 0;
  std::vector<double> first_reply;
  const Millis window = hours{168};
  for (const Message* p : posts) {
    bool any = false;
    std::optional<Time> first;
    if (auto it = ix.thread_replies.find(p->id); it != ix.thread_replies.end()) {
      for (const Message* r : it->second) {
        if (r->author_id == p->author_id || ix.bots.count(r->author_id)) continue;
        auto dt = r->created_at - p->created_at;
        if (dt < Millis{0} || dt > window) continue;
        any = true;
        if (!first || r->created_at < *first) first = r->created_at;
      }
    }
    if (auto it = ix.reactions_on.find(p->id); it != ix.reactions_on.end()) {
      for (const Reaction* r : it->second) {
        if (r->user_id == p->author_id || ix.bots.count(r->user_id)) continue;
        auto dt = ix.ReactionTime(*r, *p) - p->created_at;
        if (dt >= Millis{0} && dt <= window) any = true;
      }
    }
    if (any) ++responded;
    if (first) first_reply.push_back(Minutes(p->created_at, *first));
  }
  t.response_rate = Ratio(responded, t.posts);
  t.median_first_response_minutes = Median(first_reply);
  return t;
}

// §7 on one breakdown: rows whose population is under the minimum are suppressed, and when
// exactly one is, the next-smallest too (ties: smallest id); suppressed rows lose every number.
template <typename Row, typename Population, typename Id, typename Clear>
void Suppress(std::vector<Row>& rows, int min_size, Population population, Id id, Clear clear) {
  int suppressed = 0;
  for (auto& r : rows)
    if (population(r) < min_size) {
      r.suppressed = true;
      ++suppressed;
    }
  if (suppressed == 1 && rows.size() > 1) {
    Row* next = nullptr;
    for (auto& r : rows) {
      if (r.suppressed) continue;
      if (!next || population(r) < population(*next) ||
          (population(r) == population(*next) && id(r) < id(*next)))
        next = &r;
    }
    if (next) next->suppressed = true;
  }
  for (auto& r : rows)
    if (r.suppressed) clear(r);
}

// The 28 local days ending with W.
WeekBounds Window28(TimeZone tz, IsoWeek week) {
  return {BoundsOf(tz, week.Previous().Previous().Previous()).from, BoundsOf(tz, week).to};
}

Personas ComputePersonas(const Dataset& d, const Index& ix, WeekBounds w28, Time members_at) {
  auto in = [&](Time x) { return w28.from <= x && x < w28.to; };
  struct Counts {
    int64_t made = 0, received = 0, posts = 0, replies = 0;
  };
  std::unordered_map<std::string, Counts> c;
  for (const auto& [id, m] : ix.messages) {
    if (ix.bots.count(m->author_id) || !in(m->created_at)) continue;
    auto& me = c[m->author_id];
    ++me.made;
    ++(m->reply_to_id ? me.replies : me.posts);
    if (!m->reply_to_id) continue;
    auto parent = ix.any_message.find(*m->reply_to_id);  // a deleted parent still receives
    if (parent != ix.any_message.end() && parent->second->author_id != m->author_id)
      ++c[parent->second->author_id].received;
  }
  for (const auto& r : d.reactions) {
    auto on = ix.messages.find(r.message_id);
    if (on == ix.messages.end() || ix.bots.count(r.user_id)) continue;
    if (!in(ix.ReactionTime(r, *on->second))) continue;
    ++c[r.user_id].made;
    if (on->second->author_id != r.user_id) ++c[on->second->author_id].received;
  }
  Personas p;
  for (const auto& u : d.users) {
    if (!ix.IsMember(u, members_at)) continue;
    auto it = c.find(u.id);
    Counts k = it == c.end() ? Counts{} : it->second;
    if (k.made == 0)
      ++p.observer;
    else if (k.received + 1 >= 2 * (k.made + 1))
      ++p.catalyst;
    else if (2 * (k.received + 1) <= k.made + 1)
      ++(k.posts > k.replies ? p.broadcaster : p.responder);
    else
      ++p.engager;
  }
  return p;
}

NetworkFigures ComputeNetwork(const Dataset& d, const Index& ix, WeekBounds w28,
                              const ReportOptions& o) {
  auto in = [&](Time x) { return w28.from <= x && x < w28.to; };
  std::map<std::pair<std::string, std::string>, int64_t> weight;  // (u, v) → interactions
  auto add = [&](const std::string& u, const std::string& v) {
    if (u == v || ix.bots.count(u) || ix.bots.count(v)) return;
    ++weight[{u, v}];
  };
  for (const auto& [id, m] : ix.messages) {
    if (!in(m->created_at)) continue;
    if (m->reply_to_id)
      if (auto parent = ix.any_message.find(*m->reply_to_id); parent != ix.any_message.end())
        add(m->author_id, parent->second->author_id);
    std::set<std::string> mentioned(m->mentions.begin(), m->mentions.end());
    for (const auto& v : mentioned) add(m->author_id, v);
  }
  for (const auto& r : d.reactions) {
    auto on = ix.messages.find(r.message_id);
    if (on == ix.messages.end() || !in(ix.ReactionTime(r, *on->second))) continue;
    add(r.user_id, on->second->author_id);
  }
  NetworkFigures n;
  std::vector<std::string> nodes;
  {
    std::set<std::string> set;
    for (const auto& [e, wt] : weight) {
      set.insert(e.first);
      set.insert(e.second);
    }
    nodes.assign(set.begin(), set.end());  // by id
  }
  n.nodes = static_cast<int64_t>(nodes.size());
  n.edges = static_cast<int64_t>(weight.size());
  int64_t mutual = 0;
  for (const auto& [e, wt] : weight)
    if (weight.count({e.second, e.first})) ++mutual;
  n.reciprocity = Ratio(mutual, n.edges);
  if (n.nodes > 1)
    n.density = static_cast<double>(n.edges) / (static_cast<double>(n.nodes) * (n.nodes - 1));

  // Home groups: the group of most of a user's messages created before the end of W.
  std::unordered_map<std::string, std::map<std::string, int64_t>> per_group;
  for (const auto& [id, m] : ix.messages)
    if (m->group_id && !m->group_id->empty() && m->created_at < w28.to)
      ++per_group[m->author_id][*m->group_id];
  std::unordered_map<std::string, std::string> home;
  for (const auto& [u, groups] : per_group) {
    const std::string* best = nullptr;
    int64_t most = 0;
    for (const auto& [g, k] : groups)  // by id: the first of equals is the smallest
      if (k > most) {
        most = k;
        best = &g;
      }
    if (best) home[u] = *best;
  }
  int64_t across = 0, both = 0;
  for (const auto& [e, wt] : weight) {
    auto a = home.find(e.first), b = home.find(e.second);
    if (a == home.end() || b == home.end()) continue;
    both += wt;
    if (a->second != b->second) across += wt;
  }
  n.cross_group_share = Ratio(across, both);

  // PageRank on the weighted graph.
  size_t N = nodes.size();
  if (N > 0) {
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < N; ++i) index[nodes[i]] = i;
    std::vector<double> out_weight(N, 0);
    std::vector<std::vector<std::pair<size_t, double>>> in_edges(N);
    for (const auto& [e, wt] : weight) {
      size_t u = index[e.first], v = index[e.second];
      out_weight[u] += static_cast<double>(wt);
      in_edges[v].push_back({u, static_cast<double>(wt)});
    }
    const double damping = 0.85, n_d = static_cast<double>(N);
    std::vector<double> rank(N, 1.0 / n_d), next(N);
    for (int iter = 0; iter < 100; ++iter) {
      double dangling = 0;
      for (size_t i = 0; i < N; ++i)
        if (out_weight[i] == 0) dangling += rank[i];
      double change = 0;
      for (size_t v = 0; v < N; ++v) {
        double sum = 0;
        for (const auto& [u, wt] : in_edges[v]) sum += rank[u] * wt / out_weight[u];
        next[v] = (1 - damping) / n_d + damping * (sum + dangling / n_d);
        change += std::abs(next[v] - rank[v]);
      }
      rank.swap(next);
      if (change < 1e-6) break;
    }
    std::vector<size_t> order(N);
    for (size_t i = 0; i < N; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return rank[a] > rank[b]; });  // ties: by id
    for (size_t i : order) {
      if (n.top_connectors.size() == 10) break;
      if (d.opted_out.count(nodes[i])) continue;  // after ranking: the next moves up
      n.top_connectors.push_back(Pseudonym(o.pseudonym_key, nodes[i]));
    }
  }
  return n;
}

std::vector<GroupRow> ComputeGroups(const Dataset& d, const Index& ix, WeekBounds w, int min_size) {
  auto in = [&](Time x) { return w.from <= x && x < w.to; };
  struct Acc {
    int64_t posts = 0, replies = 0, reactions = 0;
    std::unordered_set<std::string> active;
  };
  std::unordered_map<std::string, Acc> acc;
  for (const auto& [id, m] : ix.messages) {
    if (!m->group_id || ix.bots.count(m->author_id) || !in(m->created_at)) continue;
    auto& a = acc[*m->group_id];
    ++(m->reply_to_id ? a.replies : a.posts);
    a.active.insert(m->author_id);
  }
  for (const auto& r : d.reactions) {
    auto on = ix.messages.find(r.message_id);
    if (on == ix.messages.end() || !on->second->group_id || ix.bots.count(r.user_id)) continue;
    if (!in(ix.ReactionTime(r, *on->second))) continue;
    auto& a = acc[*on->second->group_id];
    ++a.reactions;
    a.active.insert(r.user_id);
  }
  std::vector<GroupRow> rows;
  for (const auto& g : d.groups) {
    GroupRow row;
    row.group_id = g.id;
    row.name = g.name;
    std::unordered_set<std::string> members;
    for (const auto& uid : g.members) {
      auto u = ix.users.find(uid);
      if (u != ix.users.end() && ix.IsMember(*u->second, w.to)) members.insert(uid);
    }
    row.members = static_cast<int64_t>(members.size());
    const Acc& a = acc[g.id];
    int64_t active = 0;
    for (const auto& uid : a.active)
      if (members.count(uid)) ++active;
    row.active_users = active;
    row.posts = a.posts;
    row.replies = a.replies;
    row.reactions = a.reactions;
    row.engagement_rate = Ratio(active, *row.members);
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(),
            [](const GroupRow& a, const GroupRow& b) { return a.group_id < b.group_id; });
  Suppress(
      rows, min_size, [](const GroupRow& r) { return r.members.value_or(0); },
      [](const GroupRow& r) { return r.group_id; },
      [](GroupRow& r) {
        r.members.reset();
        r.active_users.reset();
        r.posts.reset();
        r.replies.reset();
        r.reactions.reset();
        r.engagement_rate.reset();
      });
  return rows;
}

}  // namespace

Dataset Dataset::Load(store::Store& s) {
  Dataset d;
  d.users = s.AllUsers();
  d.groups = s.AllGroups();
  d.messages = s.AllMessages();
  d.reactions = s.AllReactions();
  d.prompts = s.AllPrompts();
  d.answers = s.AllAnswers();
  for (const auto& [key, value] : s.CursorsWithPrefix("optout:"))
    if (value == "out") d.opted_out.insert(key.substr(7));
  return d;
}

std::string Pseudonym(const std::string& key, const std::string& user_id) {
  return crypto::HmacSha256Hex(key, user_id).substr(0, 12);
}

Report ComputeWeekly(const Dataset& d, IsoWeek week, Time as_of, const ReportOptions& o) {
  Index ix(d);
  Report r;
  WeekBounds w = BoundsOf(o.tz, week);
  r.week = week.ToString();
  r.timezone = o.timezone_name;
  r.from = w.from;
  r.to = w.to;
  r.as_of = as_of;
  r.provisional = w.to + hours{24 * 7} > as_of;
  r.min_group_size = o.min_group_size;
  r.totals = ComputeTotals(d, ix, w);
  r.trend = ComputeTotals(d, ix, BoundsOf(o.tz, week.Previous()));
  // The 12 weeks ending with W, for the trend chart (the last two are computed already).
  std::vector<IsoWeek> weeks{week};
  while (weeks.size() < 12) weeks.push_back(weeks.back().Previous());
  for (size_t i = weeks.size(); i-- > 0;) {
    r.history_weeks.push_back(weeks[i].ToString());
    r.history.push_back(i == 0   ? r.totals
                        : i == 1 ? r.trend
                                 : ComputeTotals(d, ix, BoundsOf(o.tz, weeks[i])));
  }
  WeekBounds w28 = Window28(o.tz, week);
  r.personas = ComputePersonas(d, ix, w28, w.to);
  r.network = ComputeNetwork(d, ix, w28, o);
  r.groups = ComputeGroups(d, ix, w, o.min_group_size);

  // Answers before close by non-bots, per prompt, in time order.
  std::unordered_map<std::string, std::vector<const Answer*>> answers_of;
  std::unordered_map<std::string, const Prompt*> prompt_by_id;
  for (const auto& p : d.prompts) prompt_by_id[p.id] = &p;
  for (const auto& a : d.answers) {
    auto it = prompt_by_id.find(a.prompt_id);
    if (it == prompt_by_id.end() || ix.bots.count(a.user_id)) continue;
    if (it->second->closes_at && !(a.answered_at < *it->second->closes_at)) continue;
    answers_of[a.prompt_id].push_back(&a);
  }
  for (auto& [id, v] : answers_of)
    std::stable_sort(v.begin(), v.end(), [](const Answer* a, const Answer* b) {
      return a->answered_at != b->answered_at ? a->answered_at < b->answered_at
                                              : a->message_id < b->message_id;
    });
  auto audience_of = [&](const Prompt& p) {
    // The people it names, or else its group's members; members of the network for W.
    std::set<std::string> out;
    const std::vector<std::string>* who = &p.audience;
    if (p.audience.empty()) {
      auto g = ix.groups.find(p.group_id);
      if (g == ix.groups.end()) return out;
      who = &g->second->members;
    }
    for (const auto& uid : *who) {
      auto u = ix.users.find(uid);
      if (u != ix.users.end() && ix.IsMember(*u->second, w.to)) out.insert(uid);
    }
    return out;
  };

  std::map<std::string, std::vector<const Prompt*>> campaign_prompts;
  for (const auto& p : d.prompts) {
    if (p.posted_at < w.from || p.posted_at >= w.to) continue;
    campaign_prompts[p.campaign].push_back(&p);
    PromptRow row;
    row.prompt_id = p.id;
    row.campaign = p.campaign;
    row.step = p.step;
    row.group_id = p.group_id;
    row.type = p.type;
    row.audience = static_cast<int64_t>(audience_of(p).size());
    std::map<std::string, const Answer*> first;
    for (const Answer* a : answers_of[p.id]) first.emplace(a->user_id, a);
    row.answerers = static_cast<int64_t>(first.size());
    row.response_rate = Ratio(*row.answerers, *row.audience);
    std::vector<double> minutes;
    int64_t correct = 0;
    for (const auto& [u, a] : first) {
      minutes.push_back(Minutes(p.posted_at, a->answered_at));
      if (a->correct.value_or(false)) ++correct;
    }
    row.median_minutes_to_answer = Median(minutes);
    if (p.type == "choice" && p.correct) row.correct_rate = Ratio(correct, *row.answerers);
    r.prompts.push_back(std::move(row));
  }
  std::sort(r.prompts.begin(), r.prompts.end(),
            [](const PromptRow& a, const PromptRow& b) { return a.prompt_id < b.prompt_id; });
  Suppress(
      r.prompts, o.min_group_size, [](const PromptRow& p) { return p.audience.value_or(0); },
      [](const PromptRow& p) { return p.prompt_id; },
      [](PromptRow& p) {
        p.audience.reset();
        p.answerers.reset();
        p.response_rate.reset();
        p.median_minutes_to_answer.reset();
        p.correct_rate.reset();
      });
  for (const auto& p : r.prompts)
    if (auto g = ix.groups.find(p.group_id); g != ix.groups.end())
      r.group_names[p.group_id] = g->second->name;

  for (const auto& [name, prompts] : campaign_prompts) {
    CampaignRow c;
    c.campaign = name;
    c.prompts = static_cast<int64_t>(prompts.size());
    std::set<std::string> participants;
    for (const Prompt* p : prompts)
      for (const Answer* a : answers_of[p->id]) {
        participants.insert(a->user_id);
        ++c.answers;
      }
    c.participants = static_cast<int64_t>(participants.size());
    // Completed: answered every prompt of the campaign posted before the end of W whose
    // audience includes them (and at least one such prompt).
    int64_t completed = 0;
    std::vector<std::pair<std::set<std::string>, std::set<std::string>>>
        so_far;  // audience, answerers
    for (const auto& p : d.prompts) {
      if (p.campaign != name || p.posted_at >= w.to) continue;
      std::set<std::string> who;
      for (const Answer* a : answers_of[p.id]) who.insert(a->user_id);
      so_far.emplace_back(audience_of(p), std::move(who));
    }
    for (const auto& u : participants) {
      bool in_any = false, all = true;
      for (const auto& [aud, who] : so_far) {
        if (!aud.count(u)) continue;
        in_any = true;
        if (!who.count(u)) all = false;
      }
      if (in_any && all) ++completed;
    }
    c.completion_rate = Ratio(completed, c.participants);
    r.campaigns.push_back(std::move(c));
  }
  return r;
}

}  // namespace learnloop::analytics
