#include "analytics/columns.h"

#include <algorithm>
#include <cstring>

#include "analytics/report.h"

namespace learnloop::analytics {

std::string_view Interner::Keep(std::string_view s) {
  if (used_ + s.size() > block_size_) {
    block_size_ = std::max<size_t>(1 << 20, s.size());
    blocks_.push_back(std::make_unique<char[]>(block_size_));
    used_ = 0;
  }
  char* p = blocks_.back().get() + used_;
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  used_ += s.size();
  return {p, s.size()};
}

uint32_t Interner::Intern(std::string_view s) {
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  auto kept = Keep(s);
  auto i = static_cast<uint32_t>(names_.size());
  names_.push_back(kept);
  index_.emplace(kept, i);
  return i;
}

std::optional<uint32_t> Interner::Find(std::string_view s) const {
  auto it = index_.find(s);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void Interner::Reserve(size_t n) {
  names_.reserve(n);
  index_.reserve(n);
}

uint32_t Columns::User(std::string_view id) {
  uint32_t u = users.Intern(id);
  if (u == user_flags.size()) {
    user_flags.push_back(0);
    joined_ms.push_back(kNoTime);
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

uint32_t Columns::MessageRef(std::string_view id) {
  uint32_t m = message_ids.Intern(id);
  if (m == msg_ms.size()) {
    msg_ms.push_back(kNoTime);
    msg_author.push_back(kNone);
    msg_group.push_back(kNone);
    msg_thread.push_back(kNone);
    msg_parent.push_back(kNone);
    msg_flags.push_back(0);
  }
  return m;
}

void Columns::AddUser(const learnloop::User& u) {
  uint32_t i = User(u.id);
  user_flags[i] = kKnown | (u.is_bot ? kBot : 0) | (u.state == "active" ? kActive : 0);
  joined_ms[i] = u.joined_at ? u.joined_at->time_since_epoch().count() : kNoTime;
}

void Columns::AddGroup(const learnloop::Group& g) {
  uint32_t i = Group(g.id);
  group_known[i] = 1;
  group_names[i] = g.name;
  std::vector<uint32_t> members;
  for (const auto& m : g.members) members.push_back(User(m));
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  group_members[i] = std::move(members);
}

void Columns::AddMessage(const store::Store::MessageRow& r) {
  uint32_t m = MessageRef(r.id);
  if (!(msg_flags[m] & kStored)) ++stored_messages;
  msg_ms[m] = r.created_at.time_since_epoch().count();
  msg_author[m] = User(r.author_id);
  msg_group[m] = r.group_id && !r.group_id->empty() ? Group(*r.group_id) : kNone;
  msg_thread[m] = MessageRef(r.thread_id);
  msg_parent[m] = r.reply_to_id ? MessageRef(*r.reply_to_id) : kNone;
  msg_flags[m] = kStored | (r.deleted ? kDeleted : 0);
  if (r.mentions && !r.mentions->empty()) {
    size_t first = mention_user.size();
    for (const auto& v : *r.mentions) {
      uint32_t u = User(v);
      if (std::find(mention_user.begin() + static_cast<ptrdiff_t>(first), mention_user.end(), u) ==
          mention_user.end()) {
        mention_msg.push_back(m);
        mention_user.push_back(u);
      }
    }
  }
}

void Columns::AddReaction(const store::Store::ReactionRow& r) {
  auto m = message_ids.Find(r.message_id);
  if (!m || !(msg_flags[*m] & kStored)) return;  // on a message not in the store: ignored
  react_msg.push_back(*m);
  react_user.push_back(User(r.user_id));
  react_ms.push_back(r.created_at ? r.created_at->time_since_epoch().count() : kNoTime);
}

void Columns::Finish(const std::set<std::string>& opted_out_ids) {
  opted_out.assign(users.size(), 0);
  for (const auto& id : opted_out_ids)
    if (auto u = users.Find(id)) opted_out[*u] = 1;
}

Columns Columns::Load(store::Store& s) {
  Columns c;
  for (const auto& u : s.AllUsers()) c.AddUser(u);
  for (const auto& g : s.AllGroups()) c.AddGroup(g);
  s.ScanMessages([&](const store::Store::MessageRow& m) { c.AddMessage(m); });
  s.ScanReactions([&](const store::Store::ReactionRow& r) { c.AddReaction(r); });
  c.prompts = s.AllPrompts();
  c.answers = s.AllAnswers();
  std::set<std::string> out;
  for (const auto& [key, value] : s.CursorsWithPrefix("optout:"))
    if (value == "out") out.insert(key.substr(7));
  c.Finish(out);
  return c;
}

Columns Columns::From(const Dataset& d) {
  Columns c;
  for (const auto& u : d.users) c.AddUser(u);
  for (const auto& g : d.groups) c.AddGroup(g);
  for (const auto& m : d.messages) {
    store::Store::MessageRow r;
    r.id = m.id;
    r.thread_id = m.thread_id;
    r.author_id = m.author_id;
    if (m.group_id) r.group_id = *m.group_id;
    if (m.reply_to_id) r.reply_to_id = *m.reply_to_id;
    r.created_at = m.created_at;
    r.deleted = m.deleted;
    r.mentions = &m.mentions;
    c.AddMessage(r);
  }
  for (const auto& x : d.reactions) c.AddReaction({x.message_id, x.user_id, x.created_at});
  c.prompts = d.prompts;
  c.answers = d.answers;
  c.Finish(d.opted_out);
  return c;
}

}  // namespace learnloop::analytics
