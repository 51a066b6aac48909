#pragma once
// The store as compact in-memory columns, read once per report: people, groups and messages
// become dense indexes, times integers, and every figure is computed from these arrays.
#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/model.h"
#include "store/store.h"

namespace learnloop::analytics {

struct Dataset;

// Strings to dense indexes; the strings stay put (views into them remain valid).
class Interner {
 public:
  uint32_t Intern(std::string_view s);
  std::optional<uint32_t> Find(std::string_view s) const;
  const std::string_view& operator[](uint32_t i) const { return names_[i]; }
  uint32_t size() const { return static_cast<uint32_t>(names_.size()); }
  void Reserve(size_t n);

 private:
  std::string_view Keep(std::string_view s);
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0, block_size_ = 0;
  std::vector<std::string_view> names_;
  std::unordered_map<std::string_view, uint32_t> index_;
};

struct Columns {
  static constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  // People: everyone named anywhere (directory, authors, reactors, mentions, members).
  Interner users;
  std::vector<uint8_t> user_flags;  // kKnown | kBot | kActive
  std::vector<int64_t> joined_ms;   // kNoTime: not given
  std::vector<uint8_t> opted_out;
  static constexpr uint8_t kKnown = 1, kBot = 2, kActive = 4;

  // Groups (also those named only by messages or prompts).
  Interner groups;
  std::vector<uint8_t> group_known;  // in the directory (a breakdown row)
  std::vector<std::string> group_names;
  std::vector<std::vector<uint32_t>> group_members;  // sorted user indexes

  // Messages, including ones only referred to (a thread or parent not in the store).
  Interner message_ids;
  std::vector<int64_t> msg_ms;
  std::vector<uint32_t> msg_author, msg_group, msg_thread, msg_parent;  // kNone: none
  std::vector<uint8_t> msg_flags;  // kStored | kDeleted
  static constexpr uint8_t kStored = 1, kDeleted = 2;
  size_t stored_messages = 0;
  // Mentions: (message, person) pairs, each person once per message.
  std::vector<uint32_t> mention_msg, mention_user;

  // Reactions on stored messages; kNoTime when the ESN gave no time.
  std::vector<uint32_t> react_msg, react_user;
  std::vector<int64_t> react_ms;

  std::vector<Prompt> prompts;
  std::vector<Answer> answers;

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
  void Finish(const std::set<std::string>& opted_out_ids);
};

}  // namespace learnloop::analytics
