#pragma once
// Persistence behind one interface. Writes are idempotent upserts: seeing a page twice changes
// nothing. SQLite is the embedded default; other engines implement the same interface.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace learnloop::store {

// A post the daemon intends to make. Written before posting, so a restart never loses it; its
// state tells whether it may already have gone out (then the connector is asked first).
struct OutboxItem {
  std::string key;  // idempotency key, unique
  std::string network;
  std::string group_id;                 // native id of the target group/channel
  std::optional<std::string> reply_to;  // native id of the message to reply to
  std::string body;
  std::string state = "pending";  // pending | sending | posted | failed
  std::optional<std::string> native_id;
  int attempts = 0;
  Time due_at{};
  std::optional<Time> posted_at;
  std::string last_error;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs fn inside one transaction (rolled back when fn throws).
  virtual void Transaction(const std::function<void()>& fn) = 0;
  // A transaction for a large load (an import): the store may use much more memory meanwhile.
  virtual void BulkTransaction(const std::function<void()>& fn) = 0;

  virtual void UpsertUser(const User& u) = 0;
  virtual void UpsertGroup(const Group& g) = 0;  // replaces the group's members
  virtual void UpsertMessage(const Message& m) = 0;
  // The ESN's current set of reactions of one kind on a message (Yammer's liked_by is such a
  // snapshot): reactions no longer present are removed.
  virtual void ReplaceReactions(const std::string& message_id, const std::string& kind,
                                const std::vector<Reaction>& reactions) = 0;
  virtual void UpsertReaction(const Reaction& r) = 0;
  // Marks deleted every message of the group created in [from, to) whose id is not listed.
  // Returns how many were marked.
  virtual int MarkDeletedExcept(const std::string& group_id, Time from, Time to,
                                const std::vector<std::string>& present) = 0;

  virtual std::optional<std::string> GetCursor(const std::string& key) = 0;
  virtual void SetCursor(const std::string& key, const std::string& value) = 0;
  virtual std::map<std::string, std::string> CursorsWithPrefix(const std::string& prefix) = 0;

  // Returns false when an item with that key already exists (nothing is changed then).
  virtual bool EnqueueOutbox(const OutboxItem& item) = 0;
  virtual std::vector<OutboxItem> UnfinishedOutbox() = 0;  // pending or sending, by due time
  virtual std::optional<OutboxItem> GetOutbox(const std::string& key) = 0;
  virtual void MarkOutboxSending(const std::string& key) = 0;  // attempts + 1
  virtual void MarkOutboxPosted(const std::string& key, const std::string& native_id, Time at) = 0;
  // final: never retried. Otherwise the state is kept (a 'sending' item may have gone out).
  virtual void MarkOutboxFailed(const std::string& key, const std::string& error, bool final) = 0;

  virtual void UpsertPrompt(const Prompt& p) = 0;
  virtual std::optional<Prompt> GetPrompt(const std::string& id) = 0;
  virtual void UpsertAnswer(const Answer& a) = 0;
  virtual void UpsertCardAction(const CardAction& a) = 0;
  virtual std::vector<CardAction> CardActionsOn(const std::string& message_id) = 0;
  virtual void DeleteAnswer(const std::string& prompt_id, const std::string& message_id) = 0;
  virtual std::vector<Answer> AnswersTo(const std::string& prompt_id) = 0;  // by time

  // Erases a person: their user row, memberships, messages, reactions, answers and card
  // presses, their id from others' mentions and from prompts put to them, their name and email
  // from anyone's text; from then on
  // nothing about them is stored again (a sync, import or replay brings them back no more).
  struct ForgetCounts {
    int users = 0, memberships = 0, messages = 0, reactions = 0, answers = 0, mentions = 0;
  };
  virtual ForgetCounts ForgetUser(const std::string& user_id, Time at) = 0;
  virtual bool IsForgotten(const std::string& user_id) = 0;

  virtual std::vector<Message> MessagesInThread(const std::string& thread_id) = 0;
  virtual std::optional<User> GetUser(const std::string& id) = 0;

  // Whole-table reads, for analytics and export.
  virtual std::vector<User> AllUsers() = 0;
  virtual std::vector<Group> AllGroups() = 0;
  virtual std::vector<Message> AllMessages() = 0;
  virtual std::vector<Reaction> AllReactions() = 0;
  virtual std::vector<Prompt> AllPrompts() = 0;  // posted prompts only (message_id set)
  // A campaign's prompts, posted or still in the outbox, by time.
  virtual std::vector<Prompt> PromptsOf(const std::string& campaign) = 0;
  // Posted prompts still open at t (or never closing), by time.
  virtual std::vector<Prompt> PromptsOpenAfter(Time t) = 0;
  virtual std::vector<Answer> AllAnswers() = 0;

  // About how many rows the large tables hold (at least as many), for sizing buffers.
  struct Sizes {
    int64_t users = 0, messages = 0, reactions = 0;
  };
  virtual Sizes ApproxSizes() = 0;

  // Streaming reads of the two large tables, in no particular order, with only what analytics
  // use (no text): each row is valid during its call only.
  struct MessageRow {
    std::string_view id, thread_id, author_id;
    std::optional<std::string_view> group_id, reply_to_id;
    Time created_at{};
    bool deleted = false;
    const std::vector<std::string>* mentions = nullptr;
  };
  virtual void ScanMessages(const std::function<void(const MessageRow&)>& fn) = 0;
  struct ReactionRow {
    std::string_view message_id, user_id;
    std::optional<Time> created_at;
  };
  virtual void ScanReactions(const std::function<void(const ReactionRow&)>& fn) = 0;
};

// Opens (creating if needed) a SQLite store in WAL mode and applies pending migrations.
Result<std::unique_ptr<Store>> OpenSqlite(const std::string& path);

}  // namespace learnloop::store
