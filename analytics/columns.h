#pragma once
// The store as compact in-memory columns, read once per report: people, groups and messages
// become dense indexes, times integers, and every figure is computed from these arrays.
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "store/store.h"

namespace learnloop::analytics {

struct Dataset;

// Memory for the large columns: blocks of 2 MiB and more are aligned so that the kernel can back
// them with huge pages (fewer page faults and TLB misses on random access).
void* AllocateBig(size_t bytes);
void FreeBig(void* p);
template <typename T>
struct BigAllocator {
  using value_type = T;
  BigAllocator() = default;
  template <typename U>
  BigAllocator(const BigAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(AllocateBig(n * sizeof(T))); }
  void deallocate(T* p, size_t) { FreeBig(p); }
  template <typename U>
  bool operator==(const BigAllocator<U>&) const {
    return true;
  }
};
template <typename T>
using Column = std::vector<T, BigAllocator<T>>;

// Strings to dense indexes, in an open-addressing table (the analytics look up millions of
// ids); the strings stay put, so views of them remain valid.
class Interner {
 public:
  uint32_t Intern(std::string_view s);
  std::optional<uint32_t> Find(std::string_view s) const;
  // Intern for many keys at once, in order (their memory fetched together).
  void InternMany(const std::string_view* keys, size_t n, uint32_t* out);
  // Find for many keys at once (their memory fetched together); kNone where absent.
  void FindMany(const std::string_view* keys, size_t n, uint32_t* out) const;
  const std::string_view& operator[](uint32_t i) const { return names_[i]; }
  uint32_t size() const { return static_cast<uint32_t>(names_.size()); }
  void Reserve(size_t n);

 private:
  // A slot holds where its string is, so that a probe reads one slot and the string's bytes.
  struct Entry {
    const char* bytes = nullptr;
    uint32_t index1 = 0;  // index + 1; 0: empty
    uint16_t size = 0;    // of the string, 0xFFFF when longer
    uint16_t tag = 0;     // 16 bits of the hash
  };
  static uint64_t Hash(std::string_view s);
  static uint16_t Tag(uint64_t h) { return static_cast<uint16_t>(h >> 48); }
  bool Matches(const Entry& e, std::string_view s, uint16_t tag) const;
  // The slot of s: where it is, or the empty slot where it would go.
  size_t Slot(std::string_view s, uint64_t h) const;
  uint32_t Insert(size_t slot, std::string_view s, uint64_t h);
  static constexpr size_t kPrefetch = 64;
  // Hashes k keys into `hash` and starts fetching their slots and strings.
  void Prefetch(const std::string_view* keys, size_t k, uint64_t* hash) const;
  void Grow(size_t size = 0);  // 0: double
  std::string_view Keep(std::string_view s);
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0, block_size_ = 0;
  Column<std::string_view> names_;
  Column<Entry> slots_;
};

struct Columns {
  static constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  // People: everyone named anywhere (directory, authors, reactors, mentions, members).
  Interner users;
  Column<uint8_t> user_flags;  // kKnown | kBot | kActive
  Column<int64_t> joined_ms;   // kNoTime: not given
  std::vector<uint8_t> opted_out;
  static constexpr uint8_t kKnown = 1, kBot = 2, kActive = 4;

  // Groups (also those named only by messages or prompts).
  Interner groups;
  std::vector<uint8_t> group_known;  // in the directory (a breakdown row)
  std::vector<std::string> group_names;
  std::vector<std::vector<uint32_t>> group_members;  // sorted user indexes

  // Messages, including ones only referred to (a thread or parent not in the store).
  Interner message_ids;
  Column<int64_t> msg_ms;
  Column<uint32_t> msg_author, msg_group, msg_thread, msg_parent;  // kNone: none
  Column<uint8_t> msg_flags;                                       // kStored | kDeleted
  static constexpr uint8_t kStored = 1, kDeleted = 2;
  size_t stored_messages = 0;
  // Mentions: (message, person) pairs, each person once per message.
  Column<uint32_t> mention_msg, mention_user;

  // Reactions on stored messages; kNoTime when the ESN gave no time.
  Column<uint32_t> react_msg, react_user;
  Column<int64_t> react_ms;

  std::vector<Prompt> prompts;
  std::vector<std::vector<uint32_t>> prompt_audience;  // the people a prompt names
  std::vector<Answer> answers;
  std::vector<uint32_t> answer_user;

  static Columns Load(store::Store& s);
  static Columns From(const Dataset& d);

  bool IsBot(uint32_t u) const { return user_flags[u] & kBot; }
  // A member of the network at `end` (docs/metrics.md §2).
  bool IsMember(uint32_t u, int64_t end_ms) const {
    return (user_flags[u] & (kKnown | kBot | kActive)) == (kKnown | kActive) &&
           (joined_ms[u] == kNoTime || joined_ms[u] < end_ms);
  }
  // A message that counts: in the store and not deleted.
  bool Counts(uint32_t m) const { return (msg_flags[m] & (kStored | kDeleted)) == kStored; }

  // Building (used by Load and From).
  uint32_t User(std::string_view id);
  uint32_t Group(std::string_view id);
  uint32_t MessageRef(std::string_view id);
  void AddUser(const learnloop::User& u);
  void AddGroup(const learnloop::Group& g);
  void AddMessage(const store::Store::MessageRow& m);
  void AddReaction(const store::Store::ReactionRow& r);
  void Reserve(int64_t users, int64_t messages, int64_t reactions);
  void Finish(const std::set<std::string>& opted_out_ids);

 private:
  static constexpr size_t kBatch = 256;
  struct PendingReaction {
    size_t offset, message_size, user_size;  // in reaction_keys_: the message's id, the person's
    int64_t ms;
  };
  std::vector<PendingReaction> pending_;
  std::string reaction_keys_;
  struct PendingMessage {
    std::pair<size_t, size_t> id, thread, parent, author;  // (offset, size) in pending_keys_
    bool has_parent = false, deleted = false;
    uint32_t group = kNone;
    int64_t ms = 0;
    size_t mentions_begin = 0, mentions_end = 0;  // in pending_mentions_
  };
  std::vector<PendingMessage> pending_messages_;
  std::vector<uint32_t> pending_mentions_;
  std::string pending_keys_;
  void FlushMessages();
  void FlushReactions();
  void UsersMany(const std::string_view* ids, size_t n, uint32_t* out);
  void ExtendMessageColumns();
};

}  // namespace learnloop::analytics
