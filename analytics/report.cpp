#include "analytics/report.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

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
  std::unordered_map<std::string, const Message*> messages;  // non-deleted only
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

void Suppress(std::vector<PromptRow>& rows, int min_size) {
  int suppressed = 0;
  for (auto& r : rows)
    if (r.audience && *r.audience < min_size) {
      r.suppressed = true;
      ++suppressed;
    }
  if (suppressed == 1 && rows.size() > 1) {
    // Complementary suppression: the next-smallest row goes too (ties: smallest id).
    PromptRow* next = nullptr;
    for (auto& r : rows) {
      if (r.suppressed) continue;
      if (!next || *r.audience < *next->audience ||
          (*r.audience == *next->audience && r.prompt_id < next->prompt_id))
        next = &r;
    }
    if (next) next->suppressed = true;
  }
  for (auto& r : rows)
    if (r.suppressed) {
      r.audience.reset();
      r.answerers.reset();
      r.response_rate.reset();
      r.median_minutes_to_answer.reset();
      r.correct_rate.reset();
    }
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
  return d;
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
  Suppress(r.prompts, o.min_group_size);
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
