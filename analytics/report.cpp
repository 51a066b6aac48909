#include "analytics/report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include "core/crypto.h"
#include "core/parallel.h"
#include "core/sort.h"

namespace learnloop::analytics {

namespace {

using std::chrono::hours;

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

constexpr int64_t kNoTime = Columns::kNoTime;
constexpr uint32_t kNone = Columns::kNone;
constexpr int64_t kResponseWindowMs = 168LL * 3600 * 1000;

int64_t Ms(Time t) { return t.time_since_epoch().count(); }
double MinutesBetween(int64_t a_ms, int64_t b_ms) {
  return static_cast<double>(b_ms - a_ms) / 60000.0;
}

struct Span {
  int64_t from, to;
  bool Has(int64_t t) const { return from <= t && t < to; }
};
Span SpanOf(WeekBounds w) { return {Ms(w.from), Ms(w.to)}; }

// The 12 weeks ending with `week`, oldest first: those of the trend.
std::vector<IsoWeek> TrendWeeks(IsoWeek week) {
  std::vector<IsoWeek> weeks{week};
  while (weeks.size() < 12) weeks.push_back(weeks.back().Previous());
  std::reverse(weeks.begin(), weeks.end());
  return weeks;
}
// Of the trend's weeks with those `kept` (none when empty): the first computed (from the first
// not kept on), and the first whose data is read (that one, or the 28 days' first if later).
size_t FirstComputed(const std::vector<std::optional<Totals>>& kept) {
  size_t first = 0;
  while (first < kept.size() && kept[first]) ++first;
  return first;
}
size_t FirstRead(size_t first_computed) { return std::min<size_t>(first_computed, 12 - 4); }

// A reaction's time (§2): its own, or its message's.
int64_t ReactionMs(const Columns& c, size_t i) {
  return c.react_ms[i] != kNoTime ? c.react_ms[i] : c.msg_ms[c.react_msg[i]];
}

// §3 for consecutive weeks in one pass over the messages and one over the reactions: week k
// is [bounds[k], bounds[k + 1]).
std::vector<Totals> ComputeTotals(const Columns& c, const std::vector<int64_t>& bounds) {
  const size_t K = bounds.size() - 1, U = c.users.size(), M = c.msg_ms.size();
  auto week_of = [&](int64_t t) -> int {
    if (t < bounds[0] || t >= bounds[K]) return -1;
    return static_cast<int>(std::upper_bound(bounds.begin(), bounds.end(), t) - bounds.begin()) - 1;
  };
  std::vector<Totals> t(K);
  std::vector<uint16_t> active(U), contributed(U);  // bit k: in week k
  // Each person's first message of the weeks, and how many they wrote before them (all they
  // wrote, less those of the weeks and after: every one of those is read).
  std::vector<int64_t> first(U, std::numeric_limits<int64_t>::max()), before(U, 0);
  for (uint32_t u = 0; u < U; ++u)
    for (const auto& [g, n] : c.written[u]) before[u] += n;
  std::vector<std::vector<uint32_t>> posts(K);
  for (uint32_t m = 0; m < M; ++m) {
    if (!c.Counts(m) || c.msg_ms[m] < bounds[0]) continue;
    uint32_t a = c.msg_author[m];
    --before[a];
    if (c.IsBot(a)) continue;
    first[a] = std::min(first[a], c.msg_ms[m]);
    int k = week_of(c.msg_ms[m]);
    if (k < 0) continue;
    if (c.msg_parent[m] == kNone) {
      ++t[k].posts;
      posts[k].push_back(m);
    } else {
      ++t[k].replies;
    }
    active[a] |= static_cast<uint16_t>(1u << k);
    contributed[a] |= static_cast<uint16_t>(1u << k);
  }
  // Responses (§2, §9) to the posts of the weeks: replies in the thread and reactions on the post
  // by someone else within 168 h.
  std::vector<int64_t> first_reply(M, kNoTime);
  std::vector<uint8_t> responded(M);
  auto is_counted_post = [&](uint32_t p) {
    return p != kNone && c.Counts(p) && c.msg_parent[p] == kNone && week_of(c.msg_ms[p]) >= 0;
  };
  for (uint32_t r = 0; r < M; ++r) {
    if (!c.Counts(r) || c.msg_parent[r] == kNone || c.IsBot(c.msg_author[r])) continue;
    uint32_t p = c.msg_thread[r];
    if (!is_counted_post(p) || c.msg_author[r] == c.msg_author[p]) continue;
    int64_t dt = c.msg_ms[r] - c.msg_ms[p];
    if (dt < 0 || dt > kResponseWindowMs) continue;
    responded[p] = 1;
    if (first_reply[p] == kNoTime || c.msg_ms[r] < first_reply[p]) first_reply[p] = c.msg_ms[r];
  }
  for (size_t i = 0; i < c.react_msg.size(); ++i) {
    uint32_t m = c.react_msg[i], u = c.react_user[i];
    if (!c.Counts(m) || c.IsBot(u)) continue;
    int64_t at = ReactionMs(c, i);
    int k = week_of(at);
    if (k >= 0) {
      ++t[k].reactions;
      active[u] |= static_cast<uint16_t>(1u << k);
    }
    if (c.msg_parent[m] == kNone && u != c.msg_author[m] && is_counted_post(m)) {
      int64_t dt = at - c.msg_ms[m];
      if (dt >= 0 && dt <= kResponseWindowMs) responded[m] = 1;
    }
  }
  for (size_t k = 0; k < K; ++k) {
    Totals& w = t[k];
    const uint16_t bit = static_cast<uint16_t>(1u << k);
    for (uint32_t u = 0; u < U; ++u) {
      if (c.IsMember(u, bounds[k + 1])) ++w.members;
      if (active[u] & bit) ++w.active_users;
      if (contributed[u] & bit) {
        ++w.contributors;
        if (before[u] <= 0 && week_of(first[u]) == static_cast<int>(k)) ++w.new_contributors;
      }
    }
    w.engagement_rate = Ratio(w.active_users, w.members);
    w.replies_per_post = Ratio(w.replies, w.posts);
    int64_t with_response = 0;
    std::vector<double> minutes;
    for (uint32_t p : posts[k]) {
      if (responded[p]) ++with_response;
      if (first_reply[p] != kNoTime) minutes.push_back(MinutesBetween(c.msg_ms[p], first_reply[p]));
    }
    w.response_rate = Ratio(with_response, w.posts);
    w.median_first_response_minutes = Median(std::move(minutes));
  }
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

Personas ComputePersonas(const Columns& c, Span w28, int64_t members_at) {
  const size_t U = c.users.size();
  std::vector<int64_t> made(U), received(U), posts(U), replies(U);
  for (uint32_t m = 0; m < c.msg_ms.size(); ++m) {
    if (!c.Counts(m) || !w28.Has(c.msg_ms[m])) continue;
    uint32_t a = c.msg_author[m];
    if (c.IsBot(a)) continue;
    ++made[a];
    uint32_t parent = c.msg_parent[m];
    ++(parent == kNone ? posts : replies)[a];
    // A deleted parent still receives.
    if (parent != kNone && (c.msg_flags[parent] & Columns::kStored) && c.msg_author[parent] != a)
      ++received[c.msg_author[parent]];
  }
  for (size_t i = 0; i < c.react_msg.size(); ++i) {
    uint32_t m = c.react_msg[i], u = c.react_user[i];
    if (!c.Counts(m) || c.IsBot(u) || !w28.Has(ReactionMs(c, i))) continue;
    ++made[u];
    if (c.msg_author[m] != u) ++received[c.msg_author[m]];
  }
  Personas p;
  for (uint32_t u = 0; u < U; ++u) {
    if (!c.IsMember(u, members_at)) continue;
    if (made[u] == 0)
      ++p.observer;
    else if (received[u] + 1 >= 2 * (made[u] + 1))
      ++p.catalyst;
    else if (2 * (received[u] + 1) <= made[u] + 1)
      ++(posts[u] > replies[u] ? p.broadcaster : p.responder);
    else
      ++p.engager;
  }
  return p;
}

NetworkFigures ComputeNetwork(const Columns& c, Span w28, const ReportOptions& o) {
  std::vector<uint64_t> pairs;  // (u << 32 | v), one per interaction
  auto add = [&](uint32_t u, uint32_t v) {
    if (u == v || c.IsBot(u) || c.IsBot(v)) return;
    pairs.push_back(static_cast<uint64_t>(u) << 32 | v);
  };
  for (uint32_t m = 0; m < c.msg_ms.size(); ++m) {
    if (!c.Counts(m) || !w28.Has(c.msg_ms[m])) continue;
    uint32_t parent = c.msg_parent[m];
    if (parent != kNone && (c.msg_flags[parent] & Columns::kStored))
      add(c.msg_author[m], c.msg_author[parent]);
  }
  for (size_t i = 0; i < c.mention_msg.size(); ++i) {
    uint32_t m = c.mention_msg[i];
    if (c.Counts(m) && w28.Has(c.msg_ms[m])) add(c.msg_author[m], c.mention_user[i]);
  }
  for (size_t i = 0; i < c.react_msg.size(); ++i) {
    uint32_t m = c.react_msg[i];
    if (c.Counts(m) && w28.Has(ReactionMs(c, i))) add(c.react_user[i], c.msg_author[m]);
  }
  SortKeys(pairs);
  struct Edge {
    uint32_t u, v;
    int64_t weight;
  };
  std::vector<Edge> edges;
  for (size_t i = 0; i < pairs.size();) {
    size_t j = i;
    while (j < pairs.size() && pairs[j] == pairs[i]) ++j;
    edges.push_back({static_cast<uint32_t>(pairs[i] >> 32), static_cast<uint32_t>(pairs[i]),
                     static_cast<int64_t>(j - i)});
    i = j;
  }
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());

  NetworkFigures n;
  // Nodes in id order (PageRank's ties go by id).
  std::vector<uint32_t> nodes;
  for (const auto& e : edges) {
    nodes.push_back(e.u);
    nodes.push_back(e.v);
  }
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  // People read from the directory come in id order already: no sort then.
  auto by_id = [&](uint32_t a, uint32_t b) { return c.users[a] < c.users[b]; };
  if (!std::is_sorted(nodes.begin(), nodes.end(), by_id))
    std::sort(nodes.begin(), nodes.end(), by_id);
  std::vector<uint32_t> node_of(c.users.size(), kNone);
  for (uint32_t i = 0; i < nodes.size(); ++i) node_of[nodes[i]] = i;

  n.nodes = static_cast<int64_t>(nodes.size());
  n.edges = static_cast<int64_t>(edges.size());
  // Edges whose reverse is an edge too: the pairs and the pairs reversed, both sorted, merged.
  int64_t mutual = 0;
  {
    std::vector<uint64_t> reversed;
    reversed.reserve(pairs.size());
    for (uint64_t p : pairs) reversed.push_back(p << 32 | p >> 32);
    SortKeys(reversed);
    for (size_t i = 0, j = 0; i < pairs.size() && j < reversed.size();) {
      if (pairs[i] < reversed[j]) {
        ++i;
      } else if (reversed[j] < pairs[i]) {
        ++j;
      } else {
        ++mutual, ++i, ++j;
      }
    }
  }
  n.reciprocity = Ratio(mutual, n.edges);
  if (n.nodes > 1)
    n.density = static_cast<double>(n.edges) / (static_cast<double>(n.nodes) * (n.nodes - 1));

  // Home groups of the nodes: the group of most of their messages created before the end of W;
  // ties: the smallest group id. All they wrote, less what they wrote since (every message of
  // those is read).
  std::vector<std::vector<std::pair<uint32_t, int64_t>>> per_group(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& [g, k] : c.written[nodes[i]])
      if (g != kNone) per_group[i].emplace_back(g, k);
  for (uint32_t m = 0; m < c.msg_ms.size(); ++m) {
    if (!c.Counts(m) || c.msg_group[m] == kNone || c.msg_ms[m] < w28.to) continue;
    uint32_t node = node_of[c.msg_author[m]];
    if (node == kNone) continue;
    auto& mine = per_group[node];
    auto it = std::find_if(mine.begin(), mine.end(),
                           [&](const auto& gc) { return gc.first == c.msg_group[m]; });
    if (it != mine.end()) --it->second;
  }
  std::vector<uint32_t> home(nodes.size(), kNone);
  for (size_t i = 0; i < nodes.size(); ++i) {
    int64_t most = 0;
    for (const auto& [g, k] : per_group[i])
      if (k > most || (k > 0 && k == most && c.groups[g] < c.groups[home[i]])) {
        most = k;
        home[i] = g;
      }
  }
  int64_t across = 0, both = 0;
  for (const auto& e : edges) {
    uint32_t a = home[node_of[e.u]], b = home[node_of[e.v]];
    if (a == kNone || b == kNone) continue;
    both += e.weight;
    if (a != b) across += e.weight;
  }
  n.cross_group_share = Ratio(across, both);

  // PageRank on the weighted graph; in-edges of each node in id order of their source.
  const size_t N = nodes.size();
  if (N > 0) {
    std::vector<double> out_weight(N, 0);
    // (v, u, weight) by node v, and by u within: counted into place by u, then by v (each edge
    // keeps its place among those of its v).
    using In = std::tuple<uint32_t, uint32_t, double>;
    std::vector<In> by_source(edges.size()), in(edges.size());
    std::vector<size_t> start(N + 1, 0);
    for (const auto& e : edges) {
      uint32_t u = node_of[e.u];
      out_weight[u] += static_cast<double>(e.weight);
      ++start[u + 1];
    }
    for (size_t i = 0; i < N; ++i) start[i + 1] += start[i];
    for (const auto& e : edges) {
      uint32_t u = node_of[e.u], v = node_of[e.v];
      by_source[start[u]++] = In{v, u, static_cast<double>(e.weight)};
    }
    std::fill(start.begin(), start.end(), 0);
    for (const auto& [v, u, w] : by_source) ++start[v + 1];
    for (size_t i = 0; i < N; ++i) start[i + 1] += start[i];
    {
      std::vector<size_t> at(start.begin(), start.end() - 1);
      for (const In& x : by_source) in[at[std::get<0>(x)]++] = x;
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
        for (size_t j = start[v]; j < start[v + 1]; ++j) {
          const auto& [to, u, w] = in[j];
          sum += rank[u] * w / out_weight[u];
        }
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
      if (c.opted_out[nodes[i]]) continue;  // after ranking: the next moves up
      n.top_connectors.push_back(Pseudonym(o.pseudonym_key, std::string(c.users[nodes[i]])));
    }
  }
  return n;
}

std::vector<GroupRow> ComputeGroups(const Columns& c, Span w, int min_size) {
  const size_t G = c.groups.size();
  std::vector<int64_t> posts(G), replies(G), reactions(G);
  std::vector<uint64_t> active;  // (group << 32 | person)
  for (uint32_t m = 0; m < c.msg_ms.size(); ++m) {
    uint32_t g = c.msg_group[m], a = c.msg_author[m];
    if (!c.Counts(m) || g == kNone || c.IsBot(a) || !w.Has(c.msg_ms[m])) continue;
    ++(c.msg_parent[m] == kNone ? posts : replies)[g];
    active.push_back(static_cast<uint64_t>(g) << 32 | a);
  }
  for (size_t i = 0; i < c.react_msg.size(); ++i) {
    uint32_t m = c.react_msg[i], u = c.react_user[i], g = c.msg_group[m];
    if (!c.Counts(m) || g == kNone || c.IsBot(u) || !w.Has(ReactionMs(c, i))) continue;
    ++reactions[g];
    active.push_back(static_cast<uint64_t>(g) << 32 | u);
  }
  SortKeys(active);
  active.erase(std::unique(active.begin(), active.end()), active.end());
  std::vector<GroupRow> rows;
  for (uint32_t g = 0; g < G; ++g) {
    if (!c.group_known[g]) continue;
    GroupRow row;
    row.group_id = std::string(c.groups[g]);
    row.name = c.group_names[g];
    std::vector<uint32_t> members;  // sorted
    for (uint32_t u : c.group_members[g])
      if (c.IsMember(u, w.to)) members.push_back(u);
    row.members = static_cast<int64_t>(members.size());
    int64_t n_active = 0;
    auto from = std::lower_bound(active.begin(), active.end(), static_cast<uint64_t>(g) << 32);
    for (auto it = from; it != active.end() && (*it >> 32) == g; ++it)
      if (std::binary_search(members.begin(), members.end(), static_cast<uint32_t>(*it)))
        ++n_active;
    row.active_users = n_active;
    row.posts = posts[g];
    row.replies = replies[g];
    row.reactions = reactions[g];
    row.engagement_rate = Ratio(n_active, *row.members);
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

std::string Pseudonym(const std::string& key, const std::string& user_id) {
  return crypto::HmacSha256Hex(key, user_id).substr(0, 12);
}

Time ReportReadsFrom(TimeZone tz, IsoWeek week) { return BoundsOf(tz, TrendWeeks(week)[0]).from; }

std::string EncodeTotals(const Totals& t) {
  std::string out = "1";  // the form's version: what DecodeTotals reads
  char buf[32];
  for (int64_t v : {t.members, t.posts, t.replies, t.reactions, t.active_users, t.contributors,
                    t.new_contributors}) {
    auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    out.append(" ").append(buf, end);
  }
  // Doubles in their shortest form that reads back as the same double.
  for (const auto& v :
       {t.engagement_rate, t.replies_per_post, t.response_rate, t.median_first_response_minutes}) {
    if (!v) {
      out += " -";
      continue;
    }
    auto end = std::to_chars(buf, buf + sizeof buf, *v).ptr;
    out.append(" ").append(buf, end);
  }
  return out;
}

std::optional<Totals> DecodeTotals(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t at = 0; at <= text.size();) {
    size_t space = std::min(text.find(' ', at), text.size());
    parts.push_back(text.substr(at, space - at));
    at = space + 1;
  }
  if (parts.size() != 12 || parts[0] != "1") return std::nullopt;
  Totals t;
  int64_t* ints[] = {&t.members,      &t.posts,        &t.replies,         &t.reactions,
                     &t.active_users, &t.contributors, &t.new_contributors};
  for (size_t i = 0; i < 7; ++i) {
    auto [end, ec] =
        std::from_chars(parts[1 + i].data(), parts[1 + i].data() + parts[1 + i].size(), *ints[i]);
    if (ec != std::errc() || end != parts[1 + i].data() + parts[1 + i].size()) return std::nullopt;
  }
  std::optional<double>* doubles[] = {&t.engagement_rate, &t.replies_per_post, &t.response_rate,
                                      &t.median_first_response_minutes};
  for (size_t i = 0; i < 4; ++i) {
    std::string_view p = parts[8 + i];
    if (p == "-") continue;
    double v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || end != p.data() + p.size()) return std::nullopt;
    *doubles[i] = v;
  }
  return t;
}

Result<Report> WeeklyReport(store::Store& s, IsoWeek week, Time as_of, const ReportOptions& o) {
  // The form of the kept figures and the definitions they follow: kept by another version,
  // they are computed again.
  const std::string version = "totals 1; definitions " + std::to_string(kDefinitionsVersion);
  std::vector<WeekBounds> weeks;
  for (IsoWeek k : TrendWeeks(week)) weeks.push_back(BoundsOf(o.tz, k));
  auto match = [&](const std::vector<store::Store::KeptWeek>& rows) {
    std::vector<std::optional<Totals>> kept(weeks.size());
    for (const auto& row : rows)
      for (size_t k = 0; k < weeks.size(); ++k)
        if (row.from == weeks[k].from && row.to == weeks[k].to) kept[k] = DecodeTotals(row.figures);
    return kept;
  };
  // The weeks not kept are marked before their data is read: their figures are kept after
  // only if nothing they read changed meanwhile. A store that cannot be written to computes
  // them each time.
  LL_ASSIGN_OR_RETURN(auto rows, s.KeptWeeks(version));
  auto kept = match(rows);
  std::vector<std::pair<Time, Time>> missing;
  for (size_t k = 0; k < weeks.size(); ++k)
    if (!kept[k]) missing.emplace_back(weeks[k].from, weeks[k].to);
  std::optional<int64_t> mark;
  if (!missing.empty())
    if (auto m = s.MarkWeeks(version, missing); m.ok()) mark = *m;
  // What is kept and the data read, in one view of the store.
  Columns c;
  LL_TRY(s.ReadTransaction([&]() -> Status {
    LL_ASSIGN_OR_RETURN(rows, s.KeptWeeks(version));
    kept = match(rows);
    LL_ASSIGN_OR_RETURN(c, Columns::Load(s, weeks[FirstRead(FirstComputed(kept))].from));
    return Status::Ok();
  }));
  Report r = ComputeWeekly(c, week, as_of, o, kept);
  if (mark) {
    std::vector<store::Store::KeptWeek> computed;
    for (size_t k = 0; k < weeks.size(); ++k)
      if (!kept[k]) computed.push_back({weeks[k].from, weeks[k].to, EncodeTotals(r.history[k])});
    // Not kept (the store busy): computed again next time.
    static_cast<void>(s.KeepWeeks(*mark, computed));
  }
  return r;
}

Report ComputeWeekly(const Dataset& d, IsoWeek week, Time as_of, const ReportOptions& o) {
  return ComputeWeekly(Columns::From(d), week, as_of, o);
}

Report ComputeWeekly(const Columns& c, IsoWeek week, Time as_of, const ReportOptions& o,
                     const std::vector<std::optional<Totals>>& kept) {
  Report r;
  WeekBounds w = BoundsOf(o.tz, week);
  r.week = week.ToString();
  r.timezone = o.timezone_name;
  r.from = w.from;
  r.to = w.to;
  r.as_of = as_of;
  r.provisional = w.to + hours{24 * 7} > as_of;
  r.min_group_size = o.min_group_size;
  // The 12 weeks ending with W (the trend chart), in one pass.
  const std::vector<IsoWeek> weeks = TrendWeeks(week);
  std::vector<int64_t> bounds;
  for (const auto& k : weeks) {
    bounds.push_back(Ms(BoundsOf(o.tz, k).from));
    r.history_weeks.push_back(k.ToString());
  }
  bounds.push_back(Ms(w.to));
  // Weeks from the first one not kept on are computed (their data read), and the 28 days.
  const size_t first = kept.size() == weeks.size() ? FirstComputed(kept) : 0;
  const size_t reads_from = FirstRead(first);
  if (c.since != kNoTime && c.since > bounds[reads_from])
    throw std::logic_error("the report of " + r.week + " needs the store from " +
                           FormatIso(FromUnixMillis(bounds[reads_from])));
  // The network (PageRank) on one thread; personas, groups and the weeks of the trend not kept
  // on the other.
  Span w28 = SpanOf(Window28(o.tz, week));
  InParallel([&] { r.network = ComputeNetwork(c, w28, o); },
             [&] {
               r.personas = ComputePersonas(c, w28, Ms(w.to));
               r.groups = ComputeGroups(c, SpanOf(w), o.min_group_size);
               for (size_t k = 0; k < first; ++k) r.history.push_back(*kept[k]);
               if (first < weeks.size()) {
                 auto computed = ComputeTotals(
                     c, {bounds.begin() + static_cast<std::ptrdiff_t>(first), bounds.end()});
                 r.history.insert(r.history.end(), computed.begin(), computed.end());
               }
             });
  r.totals = r.history[11];
  r.trend = r.history[10];

  const int64_t end_ms = Ms(w.to);
  const size_t U = c.users.size();
  auto known_group = [&](const std::string& id) -> std::optional<uint32_t> {
    auto g = c.groups.Find(id);
    if (!g || !c.group_known[*g]) return std::nullopt;
    return g;
  };
  // Answers before close by non-bots, per prompt, in time order.
  std::vector<std::vector<uint32_t>> answers_of(c.prompts.size());
  for (uint32_t i = 0; i < c.answers.size(); ++i) {
    const Columns::AnswerFact& a = c.answers[i];
    if (a.prompt == kNone || c.IsBot(a.user)) continue;
    const Prompt& p = c.prompts[a.prompt];
    if (p.closes_at && !(a.ms < Ms(*p.closes_at))) continue;
    answers_of[a.prompt].push_back(i);
  }
  for (auto& v : answers_of)
    std::stable_sort(v.begin(), v.end(), [&](uint32_t x, uint32_t y) {
      const Columns::AnswerFact &a = c.answers[x], &b = c.answers[y];
      return a.ms != b.ms ? a.ms < b.ms : a.message_id < b.message_id;
    });
  // The people it names, or else its group's members; members of the network for W.
  auto audience_of = [&](uint32_t pi) {
    std::vector<uint32_t> out;
    const Prompt& p = c.prompts[pi];
    if (p.audience.empty()) {
      if (auto g = known_group(p.group_id))
        for (uint32_t u : c.group_members[*g])
          if (c.IsMember(u, end_ms)) out.push_back(u);
      return out;
    }
    for (uint32_t u : c.prompt_audience[pi])
      if (c.IsMember(u, end_ms)) out.push_back(u);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  };

  std::vector<uint32_t> mark(U, kNone);  // mark[u] == row: u answered it
  std::map<std::string, std::vector<uint32_t>> campaign_prompts;
  // The rows of the prompts table: a prompt each, but a spaced campaign's rounds of W as one
  // row per question and group (§6).
  std::map<std::tuple<std::string, std::string, int>, size_t> spaced_row;
  std::vector<std::vector<uint32_t>> row_prompts;
  // A prompt that names its people (a cohort's day after joining) is shown by its place among
  // the week's prompts of its campaign, group and step: its own id may carry a join date.
  std::map<std::tuple<std::string, std::string, int>, int> named_seen;
  std::vector<std::string> row_ids;
  std::map<std::string, int64_t> campaign_rows;
  for (uint32_t pi = 0; pi < c.prompts.size(); ++pi) {
    const Prompt& p = c.prompts[pi];
    if (p.posted_at < w.from || p.posted_at >= w.to) continue;
    campaign_prompts[p.campaign].push_back(pi);
    if (p.spaced) {
      auto [it, fresh] =
          spaced_row.emplace(std::tuple{p.campaign, p.group_id, p.step}, row_prompts.size());
      if (fresh) {
        row_prompts.emplace_back();
        row_ids.push_back(p.campaign + ":" + p.group_id + ":q" + std::to_string(p.step));
      }
      row_prompts[it->second].push_back(pi);
    } else {
      row_prompts.push_back({pi});
      row_ids.push_back(p.id);
    }
  }
  {
    // Numbered in time order (then by id), whatever order the store gave them in.
    std::vector<uint32_t> named;
    for (uint32_t ri = 0; ri < row_prompts.size(); ++ri) {
      const Prompt& p = c.prompts[row_prompts[ri].front()];
      if (!p.spaced && !p.audience.empty()) named.push_back(ri);
    }
    std::sort(named.begin(), named.end(), [&](uint32_t x, uint32_t y) {
      const Prompt &a = c.prompts[row_prompts[x].front()], &b = c.prompts[row_prompts[y].front()];
      return a.posted_at != b.posted_at ? a.posted_at < b.posted_at : a.id < b.id;
    });
    for (uint32_t ri : named) {
      const Prompt& p = c.prompts[row_prompts[ri].front()];
      int n = ++named_seen[std::tuple{p.campaign, p.group_id, p.step}];
      row_ids[ri] = p.campaign + ":" + p.group_id + ":step" + std::to_string(p.step) + ":" +
                    std::to_string(n);
    }
  }
  std::map<std::string, std::vector<uint32_t>> row_audience;  // by row id, until suppression
  for (uint32_t ri = 0; ri < row_prompts.size(); ++ri) {
    const auto& pis = row_prompts[ri];
    const Prompt& p = c.prompts[pis.front()];
    PromptRow row;
    row.prompt_id = row_ids[ri];
    ++campaign_rows[p.campaign];
    row.campaign = p.campaign;
    row.step = p.step;
    row.group_id = p.group_id;
    row.type = p.type;
    std::vector<uint32_t> audience;
    for (uint32_t pi : pis) {
      auto a = audience_of(pi);
      audience.insert(audience.end(), a.begin(), a.end());
    }
    std::sort(audience.begin(), audience.end());
    audience.erase(std::unique(audience.begin(), audience.end()), audience.end());
    row.audience = static_cast<int64_t>(audience.size());
    row_audience[row.prompt_id] = audience;
    // Each person's first answer to the row's prompts (the earliest, over the rounds).
    std::vector<std::pair<uint32_t, uint32_t>> firsts;  // (answer, prompt)
    for (uint32_t pi : pis)
      for (uint32_t i : answers_of[pi]) firsts.push_back({i, pi});
    std::stable_sort(firsts.begin(), firsts.end(), [&](const auto& x, const auto& y) {
      const Columns::AnswerFact &a = c.answers[x.first], &b = c.answers[y.first];
      return a.ms != b.ms ? a.ms < b.ms : a.message_id < b.message_id;
    });
    int64_t answerers = 0, correct = 0;
    std::vector<double> minutes;
    for (const auto& [i, pi] : firsts) {
      uint32_t u = c.answers[i].user;
      if (mark[u] == ri) continue;
      mark[u] = ri;
      ++answerers;
      minutes.push_back(MinutesBetween(Ms(c.prompts[pi].posted_at), c.answers[i].ms));
      if (c.answers[i].correct) ++correct;
    }
    row.answerers = answerers;
    row.response_rate = Ratio(answerers, *row.audience);
    row.median_minutes_to_answer = Median(std::move(minutes));
    if (p.type == "choice" && p.correct) row.correct_rate = Ratio(correct, answerers);
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
    if (auto g = known_group(p.group_id)) r.group_names[p.group_id] = c.group_names[*g];

  std::vector<uint32_t> in_audience(U), answered(U);
  std::vector<uint8_t> participant(U), asked(U);
  for (const auto& [name, pis] : campaign_prompts) {
    CampaignRow line;
    line.campaign = name;
    line.prompts = campaign_rows[name];  // its rows of the prompts table
    std::vector<uint32_t> participants, audience;
    for (uint32_t pi : pis) {
      for (uint32_t i : answers_of[pi]) {
        ++*line.answers;
        uint32_t u = c.answers[i].user;
        if (!participant[u]) participants.push_back(u);
        participant[u] = 1;
      }
      for (uint32_t u : audience_of(pi))
        if (!asked[u]) asked[u] = 1, audience.push_back(u);
    }
    line.participants = static_cast<int64_t>(participants.size());
    // Participation: of the people the week's prompts were put to, the share who answered at
    // least one of them.
    int64_t took_part = 0;
    for (uint32_t u : audience) took_part += participant[u];
    line.audience = static_cast<int64_t>(audience.size());
    line.participation_rate = Ratio(took_part, *line.audience);
    // Completed, for a sequence that has ended (its last step posted before the end of W):
    // answered every prompt of the campaign whose audience includes them.
    bool ended = false;
    for (uint32_t pi = 0; pi < c.prompts.size() && !ended; ++pi) {
      const Prompt& p = c.prompts[pi];
      ended = p.campaign == name && p.posted_at < w.to && p.last_step && p.step >= *p.last_step;
    }
    if (ended) {
      std::fill(in_audience.begin(), in_audience.end(), 0);
      std::fill(answered.begin(), answered.end(), 0);
      std::fill(mark.begin(), mark.end(), kNone);
      for (uint32_t pi = 0; pi < c.prompts.size(); ++pi) {
        const Prompt& p = c.prompts[pi];
        if (p.campaign != name || p.posted_at >= w.to) continue;
        for (uint32_t i : answers_of[pi]) mark[c.answers[i].user] = pi;
        for (uint32_t u : audience_of(pi)) {
          ++in_audience[u];
          if (mark[u] == pi) ++answered[u];
        }
      }
      int64_t completed = 0;
      for (uint32_t u : participants)
        if (in_audience[u] > 0 && in_audience[u] == answered[u]) ++completed;
      line.completion_rate = Ratio(completed, *line.participants);
    }
    for (uint32_t u : participants) participant[u] = 0;
    for (uint32_t u : audience) asked[u] = 0;
    r.campaigns.push_back(std::move(line));
  }
  // §7: a line about fewer people than the minimum is suppressed, and so is one whose
  // suppressed prompt rows were put to fewer than the minimum together (the line less its
  // other rows would show them).
  for (auto& line : r.campaigns) {
    std::vector<uint32_t> hidden;
    for (const auto& row : r.prompts)
      if (row.campaign == line.campaign && row.suppressed) {
        const auto& a = row_audience[row.prompt_id];
        hidden.insert(hidden.end(), a.begin(), a.end());
      }
    std::sort(hidden.begin(), hidden.end());
    hidden.erase(std::unique(hidden.begin(), hidden.end()), hidden.end());
    int64_t hidden_n = static_cast<int64_t>(hidden.size());
    line.suppressed =
        *line.audience < o.min_group_size || (hidden_n > 0 && hidden_n < o.min_group_size);
    if (line.suppressed) {
      line.participants.reset();
      line.answers.reset();
      line.audience.reset();
      line.participation_rate.reset();
      line.completion_rate.reset();
    }
  }
  return r;
}

}  // namespace learnloop::analytics
