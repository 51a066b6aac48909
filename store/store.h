#pragma once
// Persistence behind interfaces by role. Writes are idempotent upserts: seeing a page twice
// changes nothing. SQLite is the embedded default; other engines implement the same interfaces.
// Every method says whether it worked by its Status or Result (a full disk, a lock held too
// long, a damaged file): nothing is thrown across these interfaces.
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
  // The text as first sent, and when: every later attempt sends the same, so that a post whose
  // answer was lost can be found by its text.
  std::optional<std::string> sent_body;
  std::optional<Time> sent_at;
  // A private message to this person (native id) instead of a post in group_id.
  std::optional<std::string> to_user;
};

// The store in roles: each part of the daemon holds the narrow view it uses. One engine
// implements them all (Store, below).

// What the ESN says, as connectors, imports and replays hand it over.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual Status UpsertUser(const User& u) = 0;
  // Replaces the group's members (unless they are unknown: then those stored are kept).
  virtual Status UpsertGroup(const Group& g) = 0;
  virtual Status UpsertMessage(const Message& m) = 0;
  // The ESN's current set of reactions of one kind on a message (Yammer's liked_by is such a
  // snapshot), or with `kind` empty of every kind: reactions no longer present are removed.
  virtual Status ReplaceReactions(const std::string& message_id, const std::string& kind,
                                  const std::vector<Reaction>& reactions) = 0;
  virtual Status UpsertReaction(const Reaction& r) = 0;
  // Marks deleted every message of the group created in [from, to) whose id is not listed.
  // Returns how many were marked.
  virtual Result<int> MarkDeletedExcept(const std::string& group_id, Time from, Time to,
                                        const std::vector<std::string>& present) = 0;
  virtual Status UpsertCardAction(const CardAction& a) = 0;

  // What the ESN pushed and the daemon acknowledged (change notifications, bot activities, card
  // presses), kept until it has been read into the store: a kill between the acknowledgement
  // and the read loses nothing. Queued in order; read back oldest first.
  virtual Status QueuePush(const std::string& network, const std::string& payload, Time at) = 0;
  virtual Result<std::vector<std::pair<int64_t, std::string>>> QueuedPushes(
      const std::string& network) = 0;
  virtual Status DeletePush(int64_t id) = 0;
};

// How a network was left by the last process that used it.
struct NetworkRun {
  bool running = false;                     // still in use, or killed while it was
  std::optional<std::string> rate_budgets;  // what it had spent, saved when it stopped
};

// Where the daemon resumes from: each network's cursors (opaque to the store: the connector's
// own names and values) and run, and the last weekly report written.
class SyncState {
 public:
  virtual ~SyncState() = default;
  virtual Result<std::map<std::string, std::string>> SyncCursors(const std::string& network) = 0;
  // Sets the cursors given (others of the network are kept).
  virtual Status SaveSyncCursors(const std::string& network,
                                 const std::map<std::string, std::string>& cursors) = 0;
  virtual Result<std::optional<NetworkRun>> GetNetworkRun(const std::string& network) = 0;
  virtual Status SetNetworkRun(const std::string& network, const NetworkRun& run) = 0;
  virtual Result<std::optional<std::string>> LastReportWeek() = 0;  // "2026-W41"
  virtual Status SetLastReportWeek(const std::string& week) = 0;
  // A write that changes nothing anyone reads: whether the store takes writes (readiness).
  virtual Status ProbeWrite(Time at) = 0;
};

// What must stay secret (refresh tokens, the pseudonym key): a table of their own, never
// exported nor shown.
class SecretStore {
 public:
  virtual ~SecretStore() = default;
  virtual Result<std::optional<std::string>> GetSecret(const std::string& key) = 0;
  virtual Status SetSecret(const std::string& key, const std::string& value) = 0;
  virtual Result<std::map<std::string, std::string>> SecretsWithPrefix(
      const std::string& prefix) = 0;
};

// What the daemon will post, and posted.
class OutboxQueue {
 public:
  virtual ~OutboxQueue() = default;
  // Returns false when an item with that key already exists (nothing is changed then).
  virtual Result<bool> EnqueueOutbox(const OutboxItem& item) = 0;
  virtual Result<std::vector<OutboxItem>>
  UnfinishedOutbox() = 0;  // pending or sending, by due time
  virtual Result<std::optional<OutboxItem>> GetOutbox(const std::string& key) = 0;
  virtual Result<std::vector<OutboxItem>> AllOutbox() = 0;  // by due time
  // The item a post of the ESN was recorded for, if any.
  virtual Result<std::optional<std::string>> OutboxKeyOfPost(const std::string& network,
                                                             const std::string& native_id) = 0;
  // Attempts + 1; the first attempt's text and time are kept (sent_body, sent_at).
  virtual Status MarkOutboxSending(const std::string& key, const std::string& body, Time at) = 0;
  virtual Status MarkOutboxPosted(const std::string& key, const std::string& native_id,
                                  Time at) = 0;
  // final: never retried. Otherwise the state is kept (a 'sending' item may have gone out).
  virtual Status MarkOutboxFailed(const std::string& key, const std::string& error, bool final) = 0;
};

// What the bot keeps of a campaign from one tick to the next.
struct CampaignState {
  std::optional<Time> first_seen;      // when this store first saw the campaign
  std::optional<Time> last_due;        // the latest prompt time dealt with (posted or skipped)
  int steps_posted = 0;                // of its sequence
  std::optional<Time> ended_at;        // its sequence was over (said once)
  std::optional<Time> skip_through;    // an operator skipped its prompts up to this time
  std::optional<bool> paused;          // an operator's pause (true) or resume (false)
  std::optional<Time> leaderboard_at;  // the period of the last leaderboard posted
};

// Campaigns: their state, prompts, the answers and card presses they had.
class CampaignLedger {
 public:
  virtual ~CampaignLedger() = default;
  virtual Result<CampaignState> GetCampaignState(const std::string& campaign) = 0;
  // Reads, changes and writes a campaign's state in one transaction (an operator's command in
  // another process changes other fields meanwhile).
  virtual Status UpdateCampaignState(const std::string& campaign,
                                     const std::function<void(CampaignState&)>& change) = 0;
  // A prompt the bot decided not to post (the key its outbox item would have had), and why.
  virtual Result<std::optional<std::string>> SkippedPrompt(const std::string& key) = 0;
  virtual Status SkipPrompt(const std::string& key, const std::string& why) = 0;
  // Whether the bot has acknowledged an answer (or found it could not: `refused` says why).
  virtual Result<bool> Acknowledged(const std::string& message_id) = 0;
  virtual Status MarkAcknowledged(const std::string& message_id, Time at,
                                  const std::string& refused = "") = 0;

  virtual Status UpsertPrompt(const Prompt& p) = 0;
  virtual Result<std::optional<Prompt>> GetPrompt(const std::string& id) = 0;
  // A prompt that will never be posted (its outbox item failed for good), with its answers.
  virtual Status DeletePrompt(const std::string& id) = 0;
  virtual Result<std::vector<Prompt>> AllPrompts() = 0;  // posted prompts only (message_id set)
  // A campaign's prompts, posted or still in the outbox, by time.
  virtual Result<std::vector<Prompt>> PromptsOf(const std::string& campaign) = 0;
  // Posted prompts still open at t (or never closing), by time.
  virtual Result<std::vector<Prompt>> PromptsOpenAfter(Time t) = 0;
  virtual Status UpsertAnswer(const Answer& a) = 0;
  virtual Status DeleteAnswer(const std::string& prompt_id, const std::string& message_id) = 0;
  virtual Result<std::vector<Answer>> AnswersTo(const std::string& prompt_id) = 0;  // by time
  virtual Result<std::vector<Answer>> AllAnswers() = 0;
  virtual Result<std::vector<CardAction>> CardActionsOn(const std::string& message_id) = 0;
  // The same for many at once (what the bot reads at each tick), each list by time.
  virtual Result<std::map<std::string, std::vector<Answer>>> AnswersToPrompts(
      const std::vector<std::string>& prompt_ids) = 0;
  virtual Result<std::map<std::string, std::vector<CardAction>>> CardActionsOnMessages(
      const std::vector<std::string>& message_ids) = 0;
};

// A person as the bot may or may not reach them.
struct Unreachable {
  Time since{};
  std::string why;  // what the ESN answered
};

// People's privacy and reach: whether they opted out of being named (or in, to leaderboards),
// whether a private message to them failed, and forgetting them.
class PeopleState {
 public:
  virtual ~PeopleState() = default;
  // true: opted out; false: opted in; nothing: never said.
  virtual Result<std::optional<bool>> OptedOut(const std::string& user_id) = 0;
  virtual Status SetOptedOut(const std::string& user_id, bool out) = 0;
  // Everyone who said, by id: true for out, false for in.
  virtual Result<std::map<std::string, bool>> OptChoices() = 0;
  virtual Result<std::optional<Unreachable>> UnreachableSince(const std::string& user_id) = 0;
  virtual Status MarkUnreachable(const std::string& user_id, const Unreachable& u) = 0;
  virtual Result<std::map<std::string, Unreachable>> AllUnreachable() = 0;

  // Erases a person: their user row, memberships, messages, reactions, answers and card
  // presses, their id from others' mentions and from prompts put to them, their name, email and
  // id from anyone's text and from what the bot posted or will post (its mentions of them
  // become "a colleague"), what the bot noted about them; from then on nothing about them is
  // stored again (a sync, import or replay brings them back no more), by a tombstone that is a
  // keyed hash of their id.
  struct ForgetCounts {
    int users = 0, memberships = 0, messages = 0, reactions = 0, answers = 0, mentions = 0;
  };
  virtual Result<ForgetCounts> ForgetUser(const std::string& user_id, Time at) = 0;
  virtual Result<bool> IsForgotten(const std::string& user_id) = 0;
};

// The ESN's data read back: by thread for the bot, whole for export, narrow for analytics.
class AnalyticsReader {
 public:
  virtual ~AnalyticsReader() = default;
  virtual Result<std::vector<Message>> MessagesInThread(const std::string& thread_id) = 0;
  // The same for many at once (what the bot reads at each tick), each list by time.
  virtual Result<std::map<std::string, std::vector<Message>>> MessagesInThreads(
      const std::vector<std::string>& thread_ids) = 0;
  virtual Result<std::optional<User>> GetUser(const std::string& id) = 0;

  // Whole-table reads, for analytics and export.
  virtual Result<std::vector<User>> AllUsers() = 0;
  virtual Result<std::vector<Group>> AllGroups() = 0;
  virtual Result<std::vector<Message>> AllMessages() = 0;
  virtual Result<std::vector<Reaction>> AllReactions() = 0;
  virtual Result<int64_t> ReactionCount() = 0;  // one per (message, person, kind)

  // Integer keys: every id of a person, group or message the store holds has one, given when
  // first written and never changed; keys are 1, 2, 3, … (0: none).
  virtual Result<int64_t> MaxKey() = 0;
  virtual Result<std::vector<int64_t>> KeysOf(const std::vector<std::string>& ids) = 0;  // 0: none
  virtual Result<std::vector<std::string>> IdsOf(const std::vector<int64_t>& keys) = 0;  // "": none

  // Reads for analytics, with only what they use (no text); each row is valid during its call
  // only. A report reads the weeks it needs (a range of time), and of the history before them
  // only what the store keeps counted.
  struct MessageRow {
    int64_t key = 0, thread = 0, parent = 0, author = 0, group = 0;  // 0: none
    Time created_at{};
    bool deleted = false;
    const std::vector<std::string>* mentions = nullptr;  // ids
  };
  struct UserRow {
    int64_t key = 0;
    std::string_view id, state;
    bool is_bot = false;
    std::optional<Time> joined_at;
  };
  virtual Status ScanUsers(const std::function<void(const UserRow&)>& fn) = 0;  // by id
  // The messages created at or after `from`, in order of time.
  virtual Status ScanMessagesSince(Time from, const std::function<void(const MessageRow&)>& fn) = 0;
  // The messages of these keys (those the store holds), in no particular order.
  virtual Status ScanMessagesOf(const std::vector<int64_t>& keys,
                                const std::function<void(const MessageRow&)>& fn) = 0;
  struct ReactionRow {
    int64_t message = 0, user = 0;
    std::optional<Time>
        at;  // the time it counts at (its own, or else its message's); none: its message's
  };
  // The reactions that count at or after `from` (a reaction whose message is not stored has no
  // such time: it is not read).
  virtual Status ScanReactionsSince(Time from,
                                    const std::function<void(const ReactionRow&)>& fn) = 0;
  // Each person's messages that are not deleted, counted by group (group 0: none), whenever
  // they were written.
  struct AuthorGroupRow {
    int64_t author = 0, group = 0, messages = 0;
  };
  virtual Status ScanAuthorGroups(const std::function<void(const AuthorGroupRow&)>& fn) = 0;
  struct AnswerRow {
    std::string_view prompt_id, user_id, message_id;
    Time answered_at{};
    std::optional<bool> correct;
  };
  // The answers to these prompts.
  virtual Status ScanAnswersTo(const std::vector<std::string>& prompt_ids,
                               const std::function<void(const AnswerRow&)>& fn) = 0;

  // Figures of whole weeks [from, to) a report computed, kept for the next one (in the form the
  // report gives them; `version` names that form). The store removes a kept week as soon as
  // what its figures read changes: a message or reaction of a time before `to` + 7 days, or
  // the directory, or a network's first group (which names its private conversations).
  struct KeptWeek {
    Time from{}, to{};
    std::string figures;
  };
  virtual Result<std::vector<KeptWeek>> KeptWeeks(const std::string& version) = 0;
  // Before a report reads the data of weeks it has no figures for: marks them; the mark is
  // removed like a kept week. Then KeepWeeks keeps the figures of the weeks still marked by
  // `mark` (nothing they read changed meanwhile), and drops the others.
  virtual Result<int64_t> MarkWeeks(const std::string& version,
                                    const std::vector<std::pair<Time, Time>>& weeks) = 0;
  virtual Status KeepWeeks(int64_t mark, const std::vector<KeptWeek>& weeks) = 0;
};

// Persistence: every role, and what concerns the whole store.
class Store : public EventSink,
              public SyncState,
              public SecretStore,
              public OutboxQueue,
              public CampaignLedger,
              public PeopleState,
              public AnalyticsReader {
 public:
  ~Store() override = default;

  // Runs fn inside one transaction: committed when fn returns Ok, rolled back when it returns an
  // error (which is returned) or throws (which goes on). Inside another transaction, fn is part
  // of it: its error is for the outer fn to return.
  virtual Status Transaction(const std::function<Status()>& fn) = 0;
  // Runs fn with one view of the store: reads inside see the same data, and cost no locking
  // each.
  virtual Status ReadTransaction(const std::function<Status()>& fn) = 0;
  // A transaction for a large load (an import): the store may use much more memory meanwhile.
  virtual Status BulkTransaction(const std::function<Status()>& fn) = 0;

  // Rewrites the store without the space of what was deleted (nothing erased stays in its files);
  // false when its log could not be emptied (another process is reading it).
  virtual Result<bool> Compact() = 0;

  // What the store holds, counted (the metrics of the admin listener).
  struct Tally {
    std::map<std::string, int64_t> outbox;  // by state: pending, sending, posted, failed
    int64_t prompts_open = 0;               // posted, not closed at `now`
    int64_t answers = 0, pushes_queued = 0;
  };
  virtual Result<Tally> Count(Time now) = 0;
  virtual Result<int> SchemaVersion() = 0;
  // A second handle on the same store, for reading at the same time on another thread (its
  // own view of the data); nullptr when there cannot be one.
  virtual std::unique_ptr<Store> OpenReader() = 0;
};

struct SqliteOptions {
  int up_to_version = 0;  // 0: every migration; otherwise those up to it (tests of a migration)
  // A store being built aside by its only writer (a load into a new store, moved into place
  // when complete): no log meanwhile, so every page is written once; in WAL mode when closed.
  bool building = false;
};
// Opens (creating if needed) a SQLite store in WAL mode and applies pending migrations.
Result<std::unique_ptr<Store>> OpenSqlite(const std::string& path, const SqliteOptions& o = {});

}  // namespace learnloop::store
