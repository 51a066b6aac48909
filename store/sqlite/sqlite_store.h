#pragma once
// The SQLite store: one class, its methods in files by job (see the sections below).
#include <sqlite3.h>

#include <array>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/interner.h"
#include "core/parallel.h"
#include "store/sqlite/statement.h"
#include "store/store.h"

namespace learnloop::store::sqlite {

// The keys a bulk transaction hands out from memory (outside the class: its default member
// initialisers must be complete where the class makes one).
struct BulkKeys {
  struct Table {
    Interner ids;               // ids looked up or given a key during the bulk transaction
    std::vector<int64_t> keys;  // by index in `ids`
  };
  // Messages' times (kNone: not written in this load), by index in messages.ids.
  std::vector<int64_t> created;
  // Into an empty store: the messages not deleted, by author << 32 | group (0: none), counted
  // as they come; when a message comes twice, or a key is larger, they are counted at the end.
  struct Counts {  // an open-addressing table of counts by a key above 0
    std::vector<std::pair<uint64_t, int64_t>> slots =
        std::vector<std::pair<uint64_t, int64_t>>(1024);
    size_t used = 0;
    void Add(uint64_t key);
  };
  Counts author_groups;
  bool recount = false;
  Table messages, others;    // messages' ids; people's and groups' ids
  int64_t next = 1;          // the next key to give
  bool table_empty = true;   // `ids` was empty: an id not in memory has no key yet
  std::string_view last_id;  // the id given a key last, and its key
  int64_t last_key = 0;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db, bool building = false) : db_(db), building_(building) {}
  ~SqliteStore() override {
    cache_.clear();
    if (building_) sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }

  // The connection and its transactions (connection.cpp).
  void Exec(const char* sql);

  Status Transaction(const std::function<Status()>& fn) override {
    return Run("BEGIN IMMEDIATE", fn);
  }
  Status ReadTransaction(const std::function<Status()>& fn) override {
    return Run("BEGIN DEFERRED", fn);
  }

  // Inside, errors are thrown (Stmt, Exec, Within, Write); every method of the interfaces
  // catches them at its edge (Guard) and says them by its Status or Result.

  // fn inside a transaction begun with `begin`, or inside the one already open (rolled back
  // when fn throws).
  void Within(const char* begin, const std::function<void()>& fn);
  void Write(const std::function<void()>& fn) { Within("BEGIN IMMEDIATE", fn); }
  // The same for a caller's fn, which says its error by the Status it returns.
  Status Run(const char* begin, const std::function<Status()>& fn);

  // f(), its exception as an error.
  template <typename F>
  static auto Guard(F&& f) {
    using R = std::invoke_result_t<F&>;
    try {
      if constexpr (std::is_void_v<R>) {
        f();
        return Status::Ok();
      } else {
        return Result<R>(f());
      }
    } catch (const std::exception& e) {
      if constexpr (std::is_void_v<R>)
        return Status::Fail(e.what());
      else
        return Result<R>::Fail(e.what());
    }
  }
  // What one method of the interfaces said, inside another: its error thrown.
  static void Check(const Status& s) {
    if (!s.ok()) throw std::runtime_error(s.message());
  }
  template <typename T>
  static T Value(Result<T> r) {
    if (!r.ok()) throw std::runtime_error(r.error().message);
    return std::move(r.value());
  }

  Result<bool> Compact() override;

  std::unique_ptr<Store> OpenReader() override;

  Result<int> SchemaVersion() override;

  // The schema, version by version (migrations.cpp).
  void Migrate(int up_to);

  // Keys and the writer of bulk loads (bulk.cpp).
  Status BulkTransaction(const std::function<Status()>& fn) override;

  // The key of an id, given to it now when it has none. `of_message`: the id is a message's (a
  // bulk load keeps those apart from the far fewer ids of people and groups, which then stay in
  // the processor's caches).
  int64_t KeyOf(std::string_view id, bool of_message);

  // A row handed to the writer of a bulk load: its numbers, and the sizes of its texts (kept one
  // after the other in the batch's `text`).
  struct BulkRow {
    enum class Kind : uint8_t { kId, kMessage, kReaction } kind;
    static constexpr size_t kValues = 8, kTexts = 4;
    int64_t value[kValues];
    uint32_t size[kTexts];
  };
  struct BulkBatch {
    std::vector<BulkRow> rows;
    std::string text;
    void Add(BulkRow::Kind kind, std::initializer_list<int64_t> values,
             std::initializer_list<std::string_view> texts) {
      BulkRow& row = rows.emplace_back(BulkRow{kind, {}, {}});
      std::copy(values.begin(), values.end(), row.value);
      size_t i = 0;
      for (std::string_view t : texts) {
        row.size[i++] = static_cast<uint32_t>(t.size());
        text.append(t);
      }
    }
    bool Full() const { return rows.size() >= 4096; }
    bool empty() const { return rows.empty(); }
    void clear() {
      rows.clear();
      text.clear();
    }
  };

  // A row of a message, a reaction or a new key: handed to the writer of a bulk load, or written
  // now.
  void AddRow(BulkRow::Kind kind, std::initializer_list<int64_t> values,
              std::initializer_list<std::string_view> texts);

  // The tables of those rows: how a row is bound from its numbers (`v`) and texts (`t`), and the
  // statements writing one row, or kRowsAtOnce rows (a fraction of the work per row of a
  // statement each). A key 0 and a time kNone are NULL.
  static constexpr int kRowsAtOnce = 64;
  struct RowTable {
    BulkRow::Kind kind;
    int columns;
    void (*bind)(Stmt& s, int at, const int64_t* v, const std::string_view* t);
    std::string one, many;
  };
  static std::string InsertSql(const char* table, int columns, int rows, const char* conflict);
  static const std::vector<RowTable>& RowTables();

  // Writes a batch's rows table by table, in their order within each table (a later row of the
  // same key wins).
  void WriteRows(const BulkBatch& batch);

  // A bulk load into a store without keys yet hands its rows of messages and reactions (and
  // their new keys) to a thread of its own, which writes them while this one reads the next.
  // Nothing else touches the connection meanwhile: every other use waits for it (Lock). Started
  // by the first message or reaction: people and groups, before them, are written at once.
  void StartWriterIntoNewStore();

  // Forgetting a person, and their tombstone (forget.cpp).
  // A person erased with ForgetUser never comes back, whatever a sync, an import or a replay
  // brings. Their tombstone is a keyed hash of their id: the store keeps nothing of them.
  bool Forgotten(const std::string& user_id);

  // The tombstone of an id, with the store's own key (made at the first forget; none before
  // unless `create`).
  std::optional<std::string> Tombstone(const std::string& user_id, bool create);

  // Tombstones written before they were hashed (kept as 'id:<user id>') are hashed now.
  void HashTombstones();

  Result<bool> IsForgotten(const std::string& user_id) override;

  Result<ForgetCounts> ForgetUser(const std::string& user_id, Time at) override;

  // What the ESN says: people, groups, messages, reactions, pushes (events.cpp).
  Status QueuePush(const std::string& network, const std::string& payload, Time at) override;
  Result<std::vector<std::pair<int64_t, std::string>>> QueuedPushes(
      const std::string& network) override;
  Status DeletePush(int64_t id) override;

  Status UpsertUser(const User& u) override;

  Status UpsertGroup(const Group& g) override;

  Status UpsertMessage(const Message& given) override;

  Status ReplaceReactions(const std::string& message_id, const std::string& kind,
                          const std::vector<Reaction>& reactions) override;

  Status UpsertReaction(const Reaction& r) override;

  Result<int> MarkDeletedExcept(const std::string& group_id, Time from, Time to,
                                const std::vector<std::string>& present) override;

  // Where the daemon resumes from, what it noted of campaigns and people, and secrets
  // (state.cpp).
  Result<std::map<std::string, std::string>> SyncCursors(const std::string& network) override;
  Status SaveSyncCursors(const std::string& network,
                         const std::map<std::string, std::string>& cursors) override;
  Result<std::optional<NetworkRun>> GetNetworkRun(const std::string& network) override;
  Status SetNetworkRun(const std::string& network, const NetworkRun& run) override;
  Result<std::optional<std::string>> LastReportWeek() override;
  Status SetLastReportWeek(const std::string& week) override;
  Status ProbeWrite(Time at) override;
  Result<CampaignState> GetCampaignState(const std::string& campaign) override;
  Status UpdateCampaignState(const std::string& campaign,
                             const std::function<void(CampaignState&)>& change) override;
  Result<std::optional<std::string>> SkippedPrompt(const std::string& key) override;
  Status SkipPrompt(const std::string& key, const std::string& why) override;
  Result<bool> Acknowledged(const std::string& message_id) override;
  Status MarkAcknowledged(const std::string& message_id, Time at,
                          const std::string& refused) override;
  Result<std::optional<bool>> OptedOut(const std::string& user_id) override;
  Status SetOptedOut(const std::string& user_id, bool out) override;
  Result<std::map<std::string, bool>> OptChoices() override;
  Result<std::optional<Unreachable>> UnreachableSince(const std::string& user_id) override;
  Status MarkUnreachable(const std::string& user_id, const Unreachable& u) override;
  Result<std::map<std::string, Unreachable>> AllUnreachable() override;
  Result<std::optional<std::string>> GetSecret(const std::string& key) override;
  Status SetSecret(const std::string& key, const std::string& value) override;
  Result<std::map<std::string, std::string>> SecretsWithPrefix(const std::string& prefix) override;

  // The outbox (outbox.cpp).
  Result<bool> EnqueueOutbox(const OutboxItem& o) override;

  static OutboxItem ReadOutbox(Stmt& s);

  Result<std::vector<OutboxItem>> AllOutbox() override;

  Result<std::optional<std::string>> OutboxKeyOfPost(const std::string& network,
                                                     const std::string& native_id) override;

  Result<std::vector<OutboxItem>> UnfinishedOutbox() override;

  Result<std::optional<OutboxItem>> GetOutbox(const std::string& key) override;

  Status MarkOutboxSending(const std::string& key, const std::string& body, Time at) override;

  Status MarkOutboxPosted(const std::string& key, const std::string& native_id, Time at) override;

  Status MarkOutboxFailed(const std::string& key, const std::string& error, bool final) override;

  // Campaigns' prompts, answers and card presses (ledger.cpp).
  Status UpsertPrompt(const Prompt& p) override;

  Status DeletePrompt(const std::string& id) override;

  static Prompt ReadPrompt(Stmt& s);

  Result<std::optional<Prompt>> GetPrompt(const std::string& id) override;

  Status UpsertAnswer(const Answer& a) override;

  Status UpsertCardAction(const CardAction& a) override;

  Result<std::vector<CardAction>> CardActionsOn(const std::string& message_id) override;

  Status DeleteAnswer(const std::string& prompt_id, const std::string& message_id) override;

  Result<std::map<std::string, std::vector<Answer>>> AnswersToPrompts(
      const std::vector<std::string>& prompt_ids) override;

  Result<std::map<std::string, std::vector<CardAction>>> CardActionsOnMessages(
      const std::vector<std::string>& message_ids) override;

  Result<std::vector<Prompt>> AllPrompts() override;

  Result<std::vector<Prompt>> PromptsOf(const std::string& campaign) override;

  Result<std::vector<Prompt>> PromptsOpenAfter(Time t) override;

  static Answer ReadAnswer(Stmt& s);

  Result<std::vector<Answer>> AllAnswers() override;

  Result<std::vector<Answer>> AnswersTo(const std::string& prompt_id) override;

  // Reads of the ESN's data, whole and for analytics (reads.cpp).
  static Message ReadMessage(Stmt& s);

  Result<std::vector<Message>> MessagesInThread(const std::string& thread_id) override;

  Result<std::map<std::string, std::vector<Message>>> MessagesInThreads(
      const std::vector<std::string>& thread_ids) override;

  static User ReadUser(Stmt& s);

  Result<std::optional<User>> GetUser(const std::string& id) override;

  Result<std::vector<User>> AllUsers() override;

  Result<std::vector<Group>> AllGroups() override;

  Result<std::vector<Message>> AllMessages() override;

  Result<std::vector<Reaction>> AllReactions() override;
  Result<int64_t> ReactionCount() override;

  Result<int64_t> MaxKey() override;

  Result<std::vector<int64_t>> KeysOf(const std::vector<std::string>& ids) override;

  Result<std::vector<std::string>> IdsOf(const std::vector<int64_t>& keys) override;

  Status ScanMessagesSince(Time from, const std::function<void(const MessageRow&)>& fn) override;
  Status ScanMessagesOf(const std::vector<int64_t>& keys,
                        const std::function<void(const MessageRow&)>& fn) override;
  Status ScanUsers(const std::function<void(const UserRow&)>& fn) override;
  Status ScanReactionsSince(Time from, const std::function<void(const ReactionRow&)>& fn) override;
  Status ScanAuthorGroups(const std::function<void(const AuthorGroupRow&)>& fn) override;
  Status ScanAnswersTo(const std::vector<std::string>& prompt_ids,
                       const std::function<void(const AnswerRow&)>& fn) override;
  Result<std::vector<KeptWeek>> KeptWeeks(const std::string& version) override;
  Result<int64_t> MarkWeeks(const std::string& version,
                            const std::vector<std::pair<Time, Time>>& weeks) override;
  Status KeepWeeks(int64_t mark, const std::vector<KeptWeek>& weeks) override;

  Result<Tally> Count(Time now) override;

 private:
  // Each row of `sql`, with `args` bound to ?1, ?2, …, handed to `row` until it returns false.
  template <typename Row, typename... Args>
  void EachRow(const char* sql, Row row, const Args&... args) {
    auto lock = Lock();
    Stmt s(db_, sql);
    int i = 0;
    (s.Bind(++i, args), ...);
    while (s.Step() && row(s)) {
    }
  }

  // Every row of `sql`, read by `read`.
  template <typename Read, typename... Args>
  std::vector<std::invoke_result_t<Read&, Stmt&>> ReadAll(const char* sql, Read read,
                                                          const Args&... args) {
    std::vector<std::invoke_result_t<Read&, Stmt&>> out;
    EachRow(
        sql,
        [&](Stmt& s) {
          out.push_back(read(s));
          return true;
        },
        args...);
    return out;
  }

  // The first row of `sql`, if any.
  template <typename Read, typename... Args>
  std::optional<std::invoke_result_t<Read&, Stmt&>> ReadOne(const char* sql, Read read,
                                                            const Args&... args) {
    std::optional<std::invoke_result_t<Read&, Stmt&>> out;
    EachRow(
        sql,
        [&](Stmt& s) {
          out = read(s);
          return false;
        },
        args...);
    return out;
  }

  template <typename F>
  void Locked(F&& f) {
    auto lock = Lock();
    f();
  }

  // The connection, for this thread alone: whatever the writer of a bulk load was handed is
  // written first.
  std::unique_lock<std::recursive_mutex> Lock() {
    std::unique_lock lock(mu_);
    if (writer_) writer_->Drain();
    return lock;
  }

  // The statements of the frequent writes, prepared once (keyed by their SQL literal).
  Stmt& Cached(const char* sql) {
    auto& s = cache_[sql];
    if (!s) s = std::make_unique<Stmt>(db_, sql);
    s->Reset();
    return *s;
  }

  sqlite3* db_;
  std::unordered_map<const char*, std::unique_ptr<Stmt>> cache_;
  std::optional<std::unordered_set<std::string>> bulk_forgotten_;  // during a bulk transaction
  static constexpr const char* kTombstoneKey = "privacy:tombstone_key";
  std::string tombstone_key_;  // once read or made
  std::optional<BulkKeys> bulk_keys_;
  std::unique_ptr<Handoff<BulkBatch>> writer_;  // during a bulk load into a store without keys
  BulkBatch one_;                               // a row written at once
  std::vector<std::array<std::string_view, BulkRow::kTexts>>
      texts_;                     // of the rows WriteRows writes
  std::vector<uint32_t> picked_;  // those of one table
  std::recursive_mutex mu_;
  int depth_ = 0;
  const bool building_;
};

}  // namespace learnloop::store::sqlite
