#pragma once
// The store as compact in-memory columns, read once per report: people, groups and messages
// become dense indexes, times integers, and every figure is computed from these arrays.
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/interner.h"
#include "core/model.h"
#include "store/store.h"

namespace learnloop::analytics {

struct Dataset;

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

  // Messages: every one created at or after `since` (kNoTime: all of them), and of those before,
  // the ones a message or a reaction read refers to (for their author, group and flags only: their
  // thread and parent are not read). A parent that is not a stored message (deleted for good,
  // never synced, a private conversation's) has an entry without the kStored flag.
  int64_t since = kNoTime;
  Column<int64_t> msg_ms;
  Column<uint32_t> msg_author, msg_group, msg_thread, msg_parent;  // kNone: none
  Column<uint8_t> msg_flags;                                       // kStored | kDeleted
  static constexpr uint8_t kStored = 1, kDeleted = 2;
  size_t stored_messages = 0;
  // Mentions: (message, person) pairs, each person once per message.
  Column<uint32_t> mention_msg, mention_user;

  // Reactions on stored messages: those that count at or after `since` (their time, or else
  // their message's), and the time they count at (kNoTime: their message's).
  Column<uint32_t> react_msg, react_user;
  Column<int64_t> react_ms;

  // Each person's messages that count (stored, not deleted, not private), whenever written, by
  // group (kNone: none): what a report needs of the history before `since`.
  std::vector<std::vector<std::pair<uint32_t, int64_t>>> written;

  std::vector<Prompt> prompts;
  std::vector<std::vector<uint32_t>> prompt_audience;  // the people a prompt names
  struct AnswerFact {
    uint32_t prompt = kNone;  // index in prompts; kNone: not a posted prompt
    uint32_t user = kNone;
    int64_t ms = 0;
    std::string_view message_id;  // ties of time go by it
    bool correct = false;
  };
  std::vector<AnswerFact> answers;

  // The store from `since` on (nullopt: all of it); a weekly report needs ReportReadsFrom.
  static Result<Columns> Load(store::Store& s, std::optional<Time> since = std::nullopt);
  static Columns From(const Dataset& d);

  bool IsBot(uint32_t u) const { return user_flags[u] & kBot; }
  // A member of the network at `end` (docs/metrics.md §2).
  bool IsMember(uint32_t u, int64_t end_ms) const {
    return (user_flags[u] & (kKnown | kBot | kActive)) == (kKnown | kActive) &&
           (joined_ms[u] == kNoTime || joined_ms[u] < end_ms);
  }
  // A message that counts: in the store and not deleted.
  bool Counts(uint32_t m) const { return (msg_flags[m] & (kStored | kDeleted)) == kStored; }

  // Building (used by Load and From): Begin, the directory and the prompts, then the messages
  // (one thread), the counts of messages by author and group after them, reactions and answers
  // (another thread, at any time), then Finish.
  struct Part {
    std::vector<uint64_t> mentions;                         // message << 32 | person
    std::vector<std::pair<uint32_t, std::string>> unknown;  // (message, id): not in the directory
  };
  void Begin(int64_t max_key);
  uint32_t User(std::string_view id);
  uint32_t Group(std::string_view id);
  void AddUser(const store::Store::UserRow& u);
  void AddGroup(const learnloop::Group& g, int64_t key);
  void AddMessage(const store::Store::MessageRow& m, Part& part);
  void AddAuthorGroup(const store::Store::AuthorGroupRow& r);
  void AddReaction(const store::Store::ReactionRow& r);
  void AddAnswer(const store::Store::AnswerRow& a);
  // ids_of gives the ids of keys (of people and groups named only by messages and reactions).
  using IdsOf = std::function<Result<std::vector<std::string>>(const std::vector<int64_t>&)>;
  // messages_of reads the messages of keys (those before `since` that others refer to).
  using MessagesOf = std::function<Status(
      const std::vector<int64_t>&, const std::function<void(const store::Store::MessageRow&)>&)>;
  Status Finish(const IdsOf& ids_of, const MessagesOf& messages_of, Part part,
                const std::set<std::string>& opted_out_ids);

 private:
  // While building: the message, the person and the group of a key; messages and reactions
  // hold keys of messages, people and groups until Finish turns them into indexes.
  KeyIndex msg_of_key_, user_of_key_, group_of_key_;
  Column<uint32_t> msg_key_;  // the messages read, until Finish indexes them at once
  bool finishing_ = false;    // messages added since are indexed as they come
  uint32_t max_key_ = 0;
  std::vector<store::Store::AuthorGroupRow> author_groups_;
  // Keys of the groups of private conversations with the bot: their messages never count.
  std::vector<int64_t> private_group_keys_;
  bool PrivateGroupKey(int64_t group) const;  // one of those
  // Answers as read, until Finish: their ids are kept here.
  Interner answer_ids_;
  std::vector<std::pair<std::string_view, std::string_view>> answer_refs_;  // (prompt, person)
  Status LoadFrom(store::Store& s);
  Status ResolveKeys(KeyIndex& of_key, std::vector<int64_t> keys, const IdsOf& ids_of, bool people);
  // A message's entry (without kStored); kNone when the key has one already.
  uint32_t NewMessage(int64_t key);
  void AppendMessage();  // an entry in every message column, without kStored
};

}  // namespace learnloop::analytics
