#include "analytics/columns.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <map>
#include <stdexcept>
#include <tuple>

#include "analytics/dataset.h"
#include "core/parallel.h"

namespace learnloop::analytics {

void Columns::Begin(int64_t max_key) {
  if (max_key < 0 || max_key >= int64_t{kNone})
    throw std::runtime_error("store keys beyond what a report can index");
  max_key_ = static_cast<uint32_t>(max_key);
  const size_t n = max_key_ + 1;
  msg_ms.assign(n, kNoTime);
  for (auto* col :
       {&msg_author, &msg_group, &msg_thread, &msg_parent, &user_of_key_, &group_of_key_})
    col->assign(n, kNone);
  msg_flags.assign(n, 0);
  // Reserved, not touched: memory only where reactions are.
  for (auto* col : {&react_msg, &react_user}) col->reserve(n);
  react_ms.reserve(n);
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
  if (u.key > 0 && u.key <= max_key_) user_of_key_[u.key] = i;
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
  if (key > 0 && key <= max_key_) group_of_key_[key] = i;
}

void Columns::AddMessage(const store::Store::MessageRow& r, Part& part) {
  // A row naming a key beyond the largest when the read began was written since: left out.
  for (int64_t k : {r.key, r.thread, r.parent, r.author, r.group})
    if (k < 0 || k > max_key_) return;
  if (r.key == 0 || r.author == 0) return;
  if (r.group && std::find(private_group_keys_.begin(), private_group_keys_.end(), r.group) !=
                     private_group_keys_.end())
    return;
  const auto m = static_cast<uint32_t>(r.key);
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

void Columns::AddReaction(const store::Store::ReactionRow& r) {
  if (r.message <= 0 || r.message > max_key_ || r.user <= 0 || r.user > max_key_) return;
  react_msg.push_back(static_cast<uint32_t>(r.message));
  react_user.push_back(static_cast<uint32_t>(r.user));  // a key until Finish
  react_ms.push_back(r.created_at ? r.created_at->time_since_epoch().count() : kNoTime);
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

Status Columns::ResolveKeys(Column<uint32_t>& of_key, const std::vector<uint32_t>& keys,
                            const IdsOf& ids_of, bool people) {
  std::vector<int64_t> missing;
  for (uint32_t k : keys)
    if (of_key[k] == kNone) missing.push_back(k);
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  if (missing.empty()) return Status::Ok();
  LL_ASSIGN_OR_RETURN(auto ids, ids_of(missing));
  for (size_t i = 0; i < missing.size(); ++i) {
    if (ids[i].empty() && !people) continue;  // a message without a group
    of_key[missing[i]] = people ? User(ids[i]) : Group(ids[i]);
  }
  return Status::Ok();
}

Status Columns::Finish(const IdsOf& ids_of, std::vector<Part> parts,
                       const std::set<std::string>& opted_out_ids) {
  stored_messages = 0;
  for (uint8_t f : msg_flags) stored_messages += f & kStored;
  // Mentions, each person once per message; people named only there join in the order of
  // their messages (whichever thread read them).
  std::vector<uint64_t> pairs;
  std::vector<std::pair<uint32_t, std::string>> unknown;
  for (auto& part : parts) {
    pairs.insert(pairs.end(), part.mentions.begin(), part.mentions.end());
    unknown.insert(unknown.end(), std::make_move_iterator(part.unknown.begin()),
                   std::make_move_iterator(part.unknown.end()));
  }
  std::stable_sort(unknown.begin(), unknown.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [m, id] : unknown) pairs.push_back(uint64_t{m} << 32 | User(id));
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  for (uint64_t p : pairs) {
    mention_msg.push_back(static_cast<uint32_t>(p >> 32));
    mention_user.push_back(static_cast<uint32_t>(p));
  }
  // Reactions count on stored messages only. The messages on this thread, the reactions on a
  // second: people and groups named only there, then keys to indexes.
  std::vector<uint32_t> people, groups_named, reactors;
  InParallel(
      [&] {
        for (uint32_t m = 0; m < msg_flags.size(); ++m) {
          if (!(msg_flags[m] & kStored)) continue;
          if (user_of_key_[msg_author[m]] == kNone) people.push_back(msg_author[m]);
          if (msg_group[m] != kNone && group_of_key_[msg_group[m]] == kNone)
            groups_named.push_back(msg_group[m]);
        }
      },
      [&] {
        size_t kept = 0;
        for (size_t i = 0; i < react_msg.size(); ++i) {
          if (!(msg_flags[react_msg[i]] & kStored)) continue;
          react_msg[kept] = react_msg[i];
          react_user[kept] = react_user[i];
          react_ms[kept] = react_ms[i];
          if (user_of_key_[react_user[i]] == kNone) reactors.push_back(react_user[i]);
          ++kept;
        }
        react_msg.resize(kept);
        react_user.resize(kept);
        react_ms.resize(kept);
      });
  people.insert(people.end(), reactors.begin(), reactors.end());
  LL_TRY(ResolveKeys(user_of_key_, people, ids_of, true));
  LL_TRY(ResolveKeys(group_of_key_, groups_named, ids_of, false));
  InParallel(
      [&] {
        for (uint32_t m = 0; m < msg_flags.size(); ++m) {
          if (!(msg_flags[m] & kStored)) continue;
          msg_author[m] = user_of_key_[msg_author[m]];
          if (msg_group[m] != kNone) msg_group[m] = group_of_key_[msg_group[m]];
        }
      },
      [&] {
        for (auto& u : react_user) u = user_of_key_[u];
      });
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
  opted_out.assign(users.size(), 0);
  for (const auto& id : opted_out_ids)
    if (auto u = users.Find(id)) opted_out[*u] = 1;
  return Status::Ok();
}

Result<Columns> Columns::Load(store::Store& s) {
  Columns c;
  LL_TRY(c.LoadFrom(s));
  return c;
}

Status Columns::LoadFrom(store::Store& s) {
  // Two threads, each with its own view of the store: this one reads the directory and the
  // prompts, the other the reactions and answers; then both read the messages, a range of keys
  // at a time, until none is left.
  auto reader = s.OpenReader();
  std::vector<Part> parts(2);
  std::set<std::string> out;
  std::atomic<int64_t> next_range{0};
  std::atomic<int64_t> ranges{0};  // 0 from either thread when the directory cannot be read
  constexpr int64_t kRange = 1 << 16;
  auto messages = [&](store::Store& from, Part& part) -> Status {
    for (int64_t i; (i = next_range.fetch_add(1)) < ranges;)
      LL_TRY(from.ScanMessages(i * kRange, (i + 1) * kRange,
                               [&](const store::Store::MessageRow& m) { AddMessage(m, part); }));
    return Status::Ok();
  };
  auto directory = [&]() -> Status {
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
    LL_ASSIGN_OR_RETURN(prompts, s.AllPrompts());
    LL_ASSIGN_OR_RETURN(auto choices, s.OptChoices());
    for (const auto& [id, opted_out] : choices)
      if (opted_out) out.insert(id);
    return Status::Ok();
  };
  std::latch directory_in(1);  // messages wait for it: mentions are looked up in it
  Status first_said, second_said;
  auto first = [&] {
    try {
      first_said = directory();
    } catch (...) {
      ranges = 0;  // the other thread reads no messages then
      directory_in.count_down();
      throw;
    }
    if (!first_said.ok()) ranges = 0;
    directory_in.count_down();
    if (first_said.ok()) first_said = messages(s, parts[0]);
  };
  auto second = [&](store::Store& from) {
    second_said = from.ReadTransaction([&]() -> Status {
      LL_TRY(from.ScanReactions([&](const store::Store::ReactionRow& r) { AddReaction(r); }));
      LL_TRY(from.ScanAnswers([&](const store::Store::AnswerRow& a) { AddAnswer(a); }));
      directory_in.wait();
      return messages(from, parts[1]);
    });
  };
  return s.ReadTransaction([&]() -> Status {
    LL_ASSIGN_OR_RETURN(int64_t max_key, s.MaxKey());
    Begin(max_key);
    ranges = max_key_ / kRange + 1;
    if (reader) {
      InParallel(first, [&] { second(*reader); });
    } else {
      first();
      second(s);
    }
    LL_TRY(first_said);
    LL_TRY(second_said);
    return Finish([&](const std::vector<int64_t>& k) { return s.IdsOf(k); }, std::move(parts), out);
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
  std::vector<Part> parts(1);
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
    c.AddMessage(r, parts[0]);
  }
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
      std::move(parts), d.opted_out));
  return c;
}

}  // namespace learnloop::analytics
