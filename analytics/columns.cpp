#include "analytics/columns.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <tuple>

#include "analytics/dataset.h"
#include "core/parallel.h"
#include "core/sort.h"

namespace learnloop::analytics {

namespace {

// out[i]: the value of keys[i] (kNone: none, or keys[i] is kNone); out may be keys. Lookups
// ahead are prefetched: the index is larger than the processor's caches.
void MapKeys(const KeyIndex& index, const uint32_t* keys, uint32_t* out, size_t n) {
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n && keys[i + kAhead] != Columns::kNone) index.Prefetch(keys[i + kAhead]);
    out[i] = keys[i] == Columns::kNone ? Columns::kNone : index.Find(keys[i]);
  }
}

}  // namespace

void Columns::Begin(int64_t max_key) {
  if (max_key < 0 || max_key >= int64_t{kNone})
    throw std::runtime_error("store keys beyond what a report can index");
  max_key_ = static_cast<uint32_t>(max_key);
}

uint32_t Columns::User(std::string_view id) {
  uint32_t u = users.Intern(id);
  if (u >= user_flags.size()) {
    user_flags.resize(users.size(), 0);
    joined_ms.resize(users.size(), kNoTime);
  }
  return u;
}

uint32_t Columns::Group(std::string_view id) {
  uint32_t g = groups.Intern(id);
  if (g == group_names.size()) {
    group_known.push_back(0);
    group_names.emplace_back();
    group_members.emplace_back();
  }
  return g;
}

void Columns::AddUser(const store::Store::UserRow& u) {
  uint32_t i = User(u.id);
  user_flags[i] = kKnown | (u.is_bot ? kBot : 0) | (u.state == "active" ? kActive : 0);
  joined_ms[i] = u.joined_at ? u.joined_at->time_since_epoch().count() : kNoTime;
  if (u.key > 0 && u.key <= max_key_) user_of_key_.Insert(u.key, i);
}

void Columns::AddGroup(const learnloop::Group& g, int64_t key) {
  uint32_t i = Group(g.id);
  group_known[i] = 1;
  group_names[i] = g.name;
  std::vector<uint32_t> members;
  for (const auto& m : g.members) members.push_back(User(m));
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  group_members[i] = std::move(members);
  if (key > 0 && key <= max_key_) group_of_key_.Insert(key, i);
}

uint32_t Columns::NewMessage(int64_t key) {
  const auto m = static_cast<uint32_t>(msg_ms.size());
  if (msg_of_key_.Insert(key, m) != m) return kNone;  // read already
  AppendMessage();
  return m;
}

void Columns::AppendMessage() {
  msg_ms.push_back(kNoTime);
  msg_author.push_back(kNone);
  msg_group.push_back(kNone);
  msg_thread.push_back(kNone);
  msg_parent.push_back(kNone);
  msg_flags.push_back(0);
}

bool Columns::PrivateGroupKey(int64_t group) const {
  return group && std::find(private_group_keys_.begin(), private_group_keys_.end(), group) !=
                      private_group_keys_.end();
}

void Columns::AddMessage(const store::Store::MessageRow& r, Part& part) {
  // A row naming a key beyond the largest when the read began was written since: left out.
  for (int64_t k : {r.key, r.thread, r.parent, r.author, r.group})
    if (k < 0 || k > max_key_) return;
  if (r.key == 0 || r.author == 0) return;
  if (PrivateGroupKey(r.group)) return;
  // Each key once: a scan by time gives each message once, and those read by key are not
  // read yet (Finish).
  const auto m = static_cast<uint32_t>(msg_ms.size());
  if (finishing_) {
    if (NewMessage(r.key) == kNone) return;
  } else {
    msg_key_.push_back(static_cast<uint32_t>(r.key));
    AppendMessage();
  }
  msg_ms[m] = r.created_at.time_since_epoch().count();
  msg_author[m] = static_cast<uint32_t>(r.author);                  // a key until Finish
  msg_group[m] = r.group ? static_cast<uint32_t>(r.group) : kNone;  // a key until Finish
  msg_thread[m] = r.thread ? static_cast<uint32_t>(r.thread) : kNone;
  msg_parent[m] = r.parent ? static_cast<uint32_t>(r.parent) : kNone;
  msg_flags[m] = kStored | (r.deleted ? kDeleted : 0);
  if (r.mentions)
    for (const auto& v : *r.mentions) {
      if (auto u = users.Find(v))  // the directory is not changed meanwhile
        part.mentions.push_back(uint64_t{m} << 32 | *u);
      else
        part.unknown.emplace_back(m, v);
    }
}

void Columns::AddAuthorGroup(const store::Store::AuthorGroupRow& r) {
  if (r.author <= 0 || r.author > max_key_ || r.group < 0 || r.group > max_key_) return;
  if (PrivateGroupKey(r.group)) return;
  author_groups_.push_back(r);
}

void Columns::AddReaction(const store::Store::ReactionRow& r) {
  if (r.message <= 0 || r.message > max_key_ || r.user <= 0 || r.user > max_key_) return;
  react_msg.push_back(static_cast<uint32_t>(r.message));  // a key until Finish
  react_user.push_back(static_cast<uint32_t>(r.user));    // a key until Finish
  react_ms.push_back(r.at ? r.at->time_since_epoch().count() : kNoTime);
}

void Columns::AddAnswer(const store::Store::AnswerRow& a) {
  AnswerFact f;
  f.ms = a.answered_at.time_since_epoch().count();
  f.message_id = answer_ids_.Keep(a.message_id);
  f.correct = a.correct.value_or(false);
  answers.push_back(f);
  // Answers come mostly prompt by prompt: its id is kept once per run.
  std::string_view prompt = !answer_refs_.empty() && answer_refs_.back().first == a.prompt_id
                                ? answer_refs_.back().first
                                : answer_ids_.Keep(a.prompt_id);
  answer_refs_.emplace_back(prompt, answer_ids_.Keep(a.user_id));
}

Status Columns::ResolveKeys(KeyIndex& of_key, std::vector<int64_t> keys, const IdsOf& ids_of,
                            bool people) {
  std::erase_if(keys, [&](int64_t k) { return of_key.Find(k) != KeyIndex::kAbsent; });
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  if (keys.empty()) return Status::Ok();
  LL_ASSIGN_OR_RETURN(auto ids, ids_of(keys));
  for (size_t i = 0; i < keys.size(); ++i) {
    if (ids[i].empty() && !people) continue;  // a message without a group
    of_key.Insert(keys[i], people ? User(ids[i]) : Group(ids[i]));
  }
  return Status::Ok();
}

Status Columns::Finish(const IdsOf& ids_of, const MessagesOf& messages_of, Part part,
                       const std::set<std::string>& opted_out_ids) {
  // Parents and the messages reacted to as indexes; then the messages before `since` that they
  // name are read, and a parent that is not a stored message gets an entry without kStored.
  const size_t read = msg_ms.size();
  finishing_ = true;
  msg_of_key_.Reserve(read);
  for (size_t m = 0; m < read; ++m) {
    if (m + 16 < read) msg_of_key_.Prefetch(msg_key_[m + 16]);
    msg_of_key_.Insert(msg_key_[m], static_cast<uint32_t>(m));
  }
  msg_key_ = {};
  Column<uint32_t> parents(read);
  MapKeys(msg_of_key_, msg_parent.data(), parents.data(), read);
  std::vector<int64_t> wanted;
  for (size_t m = 0; m < read; ++m)
    if (msg_parent[m] != kNone && parents[m] == kNone) wanted.push_back(msg_parent[m]);
  Column<uint32_t> reacted(react_msg.size());
  MapKeys(msg_of_key_, react_msg.data(), reacted.data(), react_msg.size());
  for (size_t i = 0; i < react_msg.size(); ++i)
    if (reacted[i] == kNone) wanted.push_back(react_msg[i]);
  if (!wanted.empty()) {
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    LL_TRY(messages_of(wanted, [&](const store::Store::MessageRow& r) { AddMessage(r, part); }));
    for (size_t m = read; m < msg_ms.size(); ++m) msg_thread[m] = msg_parent[m] = kNone;
    for (size_t m = 0; m < read; ++m)
      if (msg_parent[m] != kNone && parents[m] == kNone) {
        parents[m] = msg_of_key_.Find(msg_parent[m]);
        if (parents[m] == kNone) parents[m] = NewMessage(msg_parent[m]);
      }
    for (size_t i = 0; i < react_msg.size(); ++i)
      if (reacted[i] == kNone) reacted[i] = msg_of_key_.Find(react_msg[i]);
  }
  std::copy(parents.begin(), parents.end(), msg_parent.begin());
  MapKeys(msg_of_key_, msg_thread.data(), msg_thread.data(), read);  // kNone: not read
  msg_of_key_ = {};
  stored_messages = 0;
  for (uint8_t f : msg_flags) stored_messages += f & kStored;
  // Mentions, each person once per message; people named only there join in the order of
  // their messages.
  std::vector<uint64_t> pairs = std::move(part.mentions);
  std::stable_sort(part.unknown.begin(), part.unknown.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [m, id] : part.unknown) pairs.push_back(uint64_t{m} << 32 | User(id));
  SortKeys(pairs);
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  for (uint64_t p : pairs) {
    mention_msg.push_back(static_cast<uint32_t>(p >> 32));
    mention_user.push_back(static_cast<uint32_t>(p));
  }
  // Reactions count on stored messages only. People and groups named only by messages and
  // reactions, then keys to indexes.
  std::vector<int64_t> people, groups_named;
  {
    size_t kept = 0;
    for (size_t i = 0; i < react_msg.size(); ++i) {
      uint32_t m = reacted[i];
      if (m == kNone || !(msg_flags[m] & kStored)) continue;
      react_msg[kept] = m;
      react_user[kept] = react_user[i];
      react_ms[kept] = react_ms[i];
      people.push_back(react_user[i]);
      ++kept;
    }
    react_msg.resize(kept);
    react_user.resize(kept);
    react_ms.resize(kept);
  }
  for (uint32_t m = 0; m < msg_flags.size(); ++m) {
    if (!(msg_flags[m] & kStored)) continue;
    people.push_back(msg_author[m]);
    if (msg_group[m] != kNone) groups_named.push_back(msg_group[m]);
  }
  for (const auto& r : author_groups_)
    if (r.group) groups_named.push_back(r.group);
  LL_TRY(ResolveKeys(user_of_key_, std::move(people), ids_of, true));
  LL_TRY(ResolveKeys(group_of_key_, std::move(groups_named), ids_of, false));
  MapKeys(user_of_key_, msg_author.data(), msg_author.data(), msg_author.size());
  MapKeys(group_of_key_, msg_group.data(), msg_group.data(), msg_group.size());
  MapKeys(user_of_key_, react_user.data(), react_user.data(), react_user.size());
  // What people wrote, whenever: of those a report can name (in the directory or read here).
  written.assign(users.size(), {});
  for (const auto& r : author_groups_) {
    uint32_t u = user_of_key_.Find(r.author);
    if (u == KeyIndex::kAbsent) continue;
    written[u].emplace_back(r.group ? group_of_key_.Find(r.group) : kNone, r.messages);
  }
  author_groups_ = {};
  user_of_key_ = {};
  group_of_key_ = {};

  for (const auto& p : prompts) {
    prompt_audience.emplace_back();
    for (const auto& id : p.audience) prompt_audience.back().push_back(User(id));
  }
  std::map<std::string_view, uint32_t> prompt_index;
  for (uint32_t i = 0; i < prompts.size(); ++i) prompt_index.emplace(prompts[i].id, i);
  for (size_t i = 0; i < answers.size(); ++i) {
    auto it = prompt_index.find(answer_refs_[i].first);
    answers[i].prompt = it == prompt_index.end() ? kNone : it->second;
    answers[i].user = User(answer_refs_[i].second);
  }
  answer_refs_ = {};
  written.resize(users.size());
  opted_out.assign(users.size(), 0);
  for (const auto& id : opted_out_ids)
    if (auto u = users.Find(id)) opted_out[*u] = 1;
  return Status::Ok();
}

Result<Columns> Columns::Load(store::Store& s, std::optional<Time> since) {
  Columns c;
  if (since) c.since = since->time_since_epoch().count();
  LL_TRY(c.LoadFrom(s));
  return c;
}

Status Columns::LoadFrom(store::Store& s) {
  // Two threads, each with its own view of the store: this one reads the directory, the
  // messages and the counts of messages by author (all in one view: the counts match the
  // messages), the other the prompts, their answers and the reactions.
  auto reader = s.OpenReader();
  Part part;
  std::set<std::string> out;
  const Time from{std::chrono::milliseconds(since)};
  auto first = [&]() -> Status {
    LL_TRY(s.ScanUsers([&](const store::Store::UserRow& u) { AddUser(u); }));
    LL_ASSIGN_OR_RETURN(auto groups, s.AllGroups());
    std::vector<std::string> ids;
    for (const auto& g : groups) ids.push_back(g.id);
    LL_ASSIGN_OR_RETURN(auto keys, s.KeysOf(ids));
    for (size_t i = 0; i < groups.size(); ++i) AddGroup(groups[i], keys[i]);
    std::set<std::string> private_groups;
    for (const auto& g : groups) private_groups.insert(MakeId(g.network, kPrivateGroup));
    LL_ASSIGN_OR_RETURN(auto private_keys,
                        s.KeysOf({private_groups.begin(), private_groups.end()}));
    for (int64_t k : private_keys)
      if (k) private_group_keys_.push_back(k);
    LL_ASSIGN_OR_RETURN(auto choices, s.OptChoices());
    for (const auto& [id, opted_out] : choices)
      if (opted_out) out.insert(id);
    LL_TRY(
        s.ScanMessagesSince(from, [&](const store::Store::MessageRow& m) { AddMessage(m, part); }));
    return s.ScanAuthorGroups([&](const store::Store::AuthorGroupRow& r) { AddAuthorGroup(r); });
  };
  auto second = [&](store::Store& other) {
    return other.ReadTransaction([&]() -> Status {
      LL_ASSIGN_OR_RETURN(prompts, other.AllPrompts());
      // The answers a report reads: to the prompts from `since` on, and to every prompt of a
      // sequence (its completion counts them all).
      std::set<std::string_view> sequences;
      for (const auto& p : prompts)
        if (p.last_step) sequences.insert(p.campaign);
      std::vector<std::string> answered;
      for (const auto& p : prompts)
        if (p.posted_at.time_since_epoch().count() >= since || sequences.count(p.campaign))
          answered.push_back(p.id);
      LL_TRY(
          other.ScanAnswersTo(answered, [&](const store::Store::AnswerRow& a) { AddAnswer(a); }));
      return other.ScanReactionsSince(from,
                                      [&](const store::Store::ReactionRow& r) { AddReaction(r); });
    });
  };
  return s.ReadTransaction([&]() -> Status {
    LL_ASSIGN_OR_RETURN(int64_t max_key, s.MaxKey());
    Begin(max_key);
    Status first_said, second_said;
    if (reader) {
      InParallel([&] { first_said = first(); }, [&] { second_said = second(*reader); });
    } else {
      first_said = first();
      if (first_said.ok()) second_said = second(s);
    }
    LL_TRY(first_said);
    LL_TRY(second_said);
    return Finish(
        [&](const std::vector<int64_t>& k) { return s.IdsOf(k); },
        [&](const std::vector<int64_t>& k, const auto& fn) { return s.ScanMessagesOf(k, fn); },
        std::move(part), out);
  });
}

Columns Columns::From(const Dataset& d) {
  // Keys as a store would give them: in the order ids are first written.
  Interner keys;
  auto key = [&](std::string_view id) { return int64_t{keys.Intern(id)} + 1; };
  for (const auto& u : d.users) key(u.id);
  for (const auto& g : d.groups) key(g.id);
  for (const auto& m : d.messages) {
    key(m.id), key(m.thread_id), key(m.author_id);
    if (m.reply_to_id) key(*m.reply_to_id);
    if (m.group_id) key(*m.group_id);
  }
  for (const auto& x : d.reactions) key(x.message_id), key(x.user_id);
  Columns c;
  c.Begin(keys.size());
  for (const auto& u : d.users) c.AddUser({key(u.id), u.id, u.state, u.is_bot, u.joined_at});
  for (const auto& g : d.groups) c.AddGroup(g, key(g.id));
  Part part;
  std::map<std::pair<int64_t, int64_t>, int64_t> author_groups;
  for (const auto& m : d.messages) {
    if (m.group_id && IsPrivateGroup(*m.group_id)) continue;
    store::Store::MessageRow r;
    r.key = key(m.id);
    r.thread = key(m.thread_id);
    r.author = key(m.author_id);
    if (m.group_id) r.group = key(*m.group_id);
    if (m.reply_to_id) r.parent = key(*m.reply_to_id);
    r.created_at = m.created_at;
    r.deleted = m.deleted;
    r.mentions = &m.mentions;
    c.AddMessage(r, part);
    if (!m.deleted) ++author_groups[{r.author, r.group}];
  }
  for (const auto& [ag, n] : author_groups) c.AddAuthorGroup({ag.first, ag.second, n});
  // A reaction repeated (same message, person and kind) is one, with its last time (§9).
  std::map<std::tuple<int64_t, int64_t, std::string_view>, size_t> last;
  for (size_t i = 0; i < d.reactions.size(); ++i) {
    const auto& x = d.reactions[i];
    last[{key(x.message_id), key(x.user_id), x.kind}] = i;
  }
  for (size_t i = 0; i < d.reactions.size(); ++i) {
    const auto& x = d.reactions[i];
    if (last[{key(x.message_id), key(x.user_id), x.kind}] == i)
      c.AddReaction({key(x.message_id), key(x.user_id), x.created_at});
  }
  c.prompts = d.prompts;
  for (const auto& a : d.answers)
    c.AddAnswer({a.prompt_id, a.user_id, a.message_id, a.answered_at, a.correct});
  // Ids looked up in memory: nothing fails.
  static_cast<void>(c.Finish(
      [&](const std::vector<int64_t>& k) -> Result<std::vector<std::string>> {
        std::vector<std::string> out;
        for (int64_t v : k) out.emplace_back(keys[static_cast<uint32_t>(v - 1)]);
        return out;
      },
      [](const std::vector<int64_t>&, const auto&) { return Status::Ok(); }, std::move(part),
      d.opted_out));
  return c;
}

}  // namespace learnloop::analytics
