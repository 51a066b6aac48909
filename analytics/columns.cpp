#include "analytics/columns.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "analytics/report.h"

namespace learnloop::analytics {

namespace {
constexpr size_t kHugePage = 2 << 20;
}

void* AllocateBig(size_t bytes) {
  if (bytes < kHugePage) {
    void* p = std::malloc(bytes ? bytes : 1);
    if (!p) throw std::bad_alloc();
    return p;
  }
  size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, rounded);
  if (!p) throw std::bad_alloc();
  madvise(p, rounded, MADV_HUGEPAGE);  // a hint: without it, ordinary pages
  return p;
}

void FreeBig(void* p) { std::free(p); }

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

uint64_t Interner::Hash(std::string_view s) {
  // FNV-1a, then a final mix so that both halves are well spread.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

bool Interner::Matches(const Entry& e, std::string_view s, uint16_t tag) const {
  if (e.tag != tag || e.size != std::min<size_t>(s.size(), 0xFFFF)) return false;
  if (e.size == 0xFFFF) return names_[e.index1 - 1] == s;
  return std::memcmp(e.bytes, s.data(), s.size()) == 0;
}

size_t Interner::Slot(std::string_view s, uint64_t h) const {
  const size_t mask = slots_.size() - 1;
  const uint16_t tag = Tag(h);
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Entry& e = slots_[i];
    if (e.index1 == 0 || Matches(e, s, tag)) return i;
  }
}

uint32_t Interner::Insert(size_t slot, std::string_view s, uint64_t h) {
  auto index = static_cast<uint32_t>(names_.size());
  std::string_view kept = Keep(s);
  names_.push_back(kept);
  slots_[slot] = {kept.data(), index + 1, static_cast<uint16_t>(std::min<size_t>(s.size(), 0xFFFF)),
                  Tag(h)};
  return index;
}

void Interner::Reserve(size_t n) {
  names_.reserve(n);
  size_t want = 1024;
  while (want * 3 < n * 4) want *= 2;  // at most three quarters full
  if (want > slots_.size()) Grow(want);
}

void Interner::Grow(size_t size) {
  Column<Entry> old = std::move(slots_);
  slots_.assign(size ? size : std::max<size_t>(1024, old.size() * 2), Entry{});
  const size_t mask = slots_.size() - 1;
  for (const Entry& e : old) {
    if (e.index1 == 0) continue;
    size_t i = Hash(names_[e.index1 - 1]) & mask;
    while (slots_[i].index1 != 0) i = (i + 1) & mask;
    slots_[i] = e;
  }
}

uint32_t Interner::Intern(std::string_view s) {
  if ((names_.size() + 1) * 4 > slots_.size() * 3) Grow();  // at most three quarters full
  uint64_t h = Hash(s);
  size_t i = Slot(s, h);
  return slots_[i].index1 ? slots_[i].index1 - 1 : Insert(i, s, h);
}

// Both batch look-ups work on up to kPrefetch keys at a time: fetch their slots, then the bytes
// of the strings those slots point to, then compare — the memory of many keys is on its way at
// once.
void Interner::Prefetch(const std::string_view* keys, size_t k, uint64_t* hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = 0; i < k; ++i) {
    hash[i] = Hash(keys[i]);
    __builtin_prefetch(&slots_[hash[i] & mask]);
  }
  for (size_t i = 0; i < k; ++i)
    if (const Entry& e = slots_[hash[i] & mask]; e.index1) __builtin_prefetch(e.bytes);
}

void Interner::InternMany(const std::string_view* keys, size_t n, uint32_t* out) {
  while ((names_.size() + n + 1) * 4 > slots_.size() * 3) Grow();
  uint64_t hash[kPrefetch];
  for (size_t done = 0; done < n; done += kPrefetch) {
    size_t k = std::min(kPrefetch, n - done);
    Prefetch(keys + done, k, hash);
    for (size_t i = 0; i < k; ++i) {  // in order: a key twice in the batch is one index
      size_t slot = Slot(keys[done + i], hash[i]);
      out[done + i] =
          slots_[slot].index1 ? slots_[slot].index1 - 1 : Insert(slot, keys[done + i], hash[i]);
    }
  }
}

void Interner::FindMany(const std::string_view* keys, size_t n, uint32_t* out) const {
  if (slots_.empty()) {
    std::fill(out, out + n, Columns::kNone);
    return;
  }
  uint64_t hash[kPrefetch];
  for (size_t done = 0; done < n; done += kPrefetch) {
    size_t k = std::min(kPrefetch, n - done);
    Prefetch(keys + done, k, hash);
    for (size_t i = 0; i < k; ++i) {
      const Entry& e = slots_[Slot(keys[done + i], hash[i])];
      out[done + i] = e.index1 ? e.index1 - 1 : Columns::kNone;
    }
  }
}

std::optional<uint32_t> Interner::Find(std::string_view s) const {
  if (slots_.empty()) return std::nullopt;
  const Entry& e = slots_[Slot(s, Hash(s))];
  if (e.index1 == 0) return std::nullopt;
  return e.index1 - 1;
}

void Columns::Reserve(int64_t n_users, int64_t n_messages, int64_t n_reactions) {
  auto n = [](int64_t v) { return static_cast<size_t>(std::max<int64_t>(0, v)); };
  users.Reserve(n(n_users));
  user_flags.reserve(n(n_users));
  joined_ms.reserve(n(n_users));
  message_ids.Reserve(n(n_messages));
  for (auto* col : {&msg_author, &msg_group, &msg_thread, &msg_parent}) col->reserve(n(n_messages));
  msg_ms.reserve(n(n_messages));
  msg_flags.reserve(n(n_messages));
  react_msg.reserve(n(n_reactions));
  react_user.reserve(n(n_reactions));
  react_ms.reserve(n(n_reactions));
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

uint32_t Columns::MessageRef(std::string_view id) {
  uint32_t m = message_ids.Intern(id);
  if (m >= msg_ms.size()) ExtendMessageColumns();
  return m;
}

void Columns::ExtendMessageColumns() {
  size_t n = message_ids.size();
  msg_ms.resize(n, kNoTime);
  for (auto* col : {&msg_author, &msg_group, &msg_thread, &msg_parent}) col->resize(n, kNone);
  msg_flags.resize(n, 0);
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
  // Buffered: the ids of a batch are looked up with their memory fetched together.
  auto keep = [&](std::string_view v) {
    pending_keys_.append(v);
    return std::pair{pending_keys_.size() - v.size(), v.size()};
  };
  PendingMessage p;
  p.id = keep(r.id);
  p.thread = r.thread_id == r.id ? p.id : keep(r.thread_id);
  p.parent = !r.reply_to_id                  ? std::pair<size_t, size_t>{0, 0}
             : *r.reply_to_id == r.thread_id ? p.thread
                                             : keep(*r.reply_to_id);
  p.has_parent = r.reply_to_id.has_value();
  p.author = keep(r.author_id);
  p.group = r.group_id && !r.group_id->empty() ? Group(*r.group_id) : kNone;
  p.ms = r.created_at.time_since_epoch().count();
  p.deleted = r.deleted;
  p.mentions_begin = pending_mentions_.size();
  if (r.mentions)
    for (const auto& v : *r.mentions) {
      uint32_t u = User(v);
      if (std::find(pending_mentions_.begin() + static_cast<ptrdiff_t>(p.mentions_begin),
                    pending_mentions_.end(), u) == pending_mentions_.end())
        pending_mentions_.push_back(u);
    }
  p.mentions_end = pending_mentions_.size();
  pending_messages_.push_back(p);
  if (pending_messages_.size() == kBatch) FlushMessages();
}

void Columns::FlushMessages() {
  size_t n = pending_messages_.size();
  if (n == 0) return;
  auto view = [&](std::pair<size_t, size_t> at) {
    return std::string_view(pending_keys_).substr(at.first, at.second);
  };
  std::string_view keys[kBatch];
  uint32_t index[kBatch];
  for (size_t i = 0; i < n; ++i) keys[i] = view(pending_messages_[i].id);
  message_ids.InternMany(keys, n, index);
  ExtendMessageColumns();
  uint32_t authors[kBatch];
  for (size_t i = 0; i < n; ++i) keys[i] = view(pending_messages_[i].author);
  UsersMany(keys, n, authors);
  for (size_t i = 0; i < n; ++i) {
    const PendingMessage& p = pending_messages_[i];
    uint32_t m = index[i];
    if (!(msg_flags[m] & kStored)) ++stored_messages;
    msg_ms[m] = p.ms;
    msg_author[m] = authors[i];
    msg_group[m] = p.group;
    // A post is its own thread; most replies answer the thread's post.
    msg_thread[m] = p.thread == p.id ? m : MessageRef(view(p.thread));
    msg_parent[m] = !p.has_parent          ? kNone
                    : p.parent == p.thread ? msg_thread[m]
                                           : MessageRef(view(p.parent));
    msg_flags[m] = kStored | (p.deleted ? kDeleted : 0);
    for (size_t k = p.mentions_begin; k < p.mentions_end; ++k) {
      mention_msg.push_back(m);
      mention_user.push_back(pending_mentions_[k]);
    }
  }
  pending_messages_.clear();
  pending_mentions_.clear();
  pending_keys_.clear();
}

void Columns::AddReaction(const store::Store::ReactionRow& r) {
  // Looked up in batches: the ids of a batch are fetched from memory together.
  size_t at = reaction_keys_.size();
  reaction_keys_.append(r.message_id);
  reaction_keys_.append(r.user_id);
  pending_.push_back({at, r.message_id.size(), r.user_id.size(),
                      r.created_at ? r.created_at->time_since_epoch().count() : kNoTime});
  if (pending_.size() == kBatch) FlushReactions();
}

void Columns::FlushReactions() {
  FlushMessages();  // reactions look up every message before them
  std::string_view keys[kBatch], people[kBatch];
  uint32_t found[kBatch], who[kBatch];
  size_t n = pending_.size();
  for (size_t i = 0; i < n; ++i) {
    const PendingReaction& p = pending_[i];
    keys[i] = std::string_view(reaction_keys_).substr(p.offset, p.message_size);
    people[i] = std::string_view(reaction_keys_).substr(p.offset + p.message_size, p.user_size);
  }
  message_ids.FindMany(keys, n, found);
  UsersMany(people, n, who);
  for (size_t i = 0; i < n; ++i) {
    uint32_t m = found[i];
    if (m == kNone || !(msg_flags[m] & kStored)) continue;  // on a message not in the store
    react_msg.push_back(m);
    react_user.push_back(who[i]);
    react_ms.push_back(pending_[i].ms);
  }
  pending_.clear();
  reaction_keys_.clear();
}

void Columns::UsersMany(const std::string_view* ids, size_t n, uint32_t* out) {
  users.InternMany(ids, n, out);
  user_flags.resize(users.size(), 0);
  joined_ms.resize(users.size(), kNoTime);
}

void Columns::Finish(const std::set<std::string>& opted_out_ids) {
  FlushMessages();
  FlushReactions();
  for (const auto& p : prompts) {
    prompt_audience.emplace_back();
    for (const auto& id : p.audience) prompt_audience.back().push_back(User(id));
  }
  for (const auto& a : answers) answer_user.push_back(User(a.user_id));
  opted_out.assign(users.size(), 0);
  for (const auto& id : opted_out_ids)
    if (auto u = users.Find(id)) opted_out[*u] = 1;
}

Columns Columns::Load(store::Store& s) {
  Columns c;
  auto sizes = s.ApproxSizes();
  c.Reserve(sizes.users, sizes.messages, sizes.reactions);
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
