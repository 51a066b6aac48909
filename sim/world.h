#pragma once
// The simulated organisation and everything that happens in it. Activity is generated ahead
// from the seed as pending events; an event becomes visible (and gets its increasing 64-bit id)
// only when the simulated clock passes its time, so ids always grow with time as on Yammer.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/time.h"

namespace learnloop::sim {

struct OrgOptions {
  uint64_t seed = 42;
  int people = 300;
  int communities = 0;  // 0: about one per 40 people, at least 4
  Time start{};         // the simulated "now" at start-up
  int history_days = 28;
  int horizon_days = 70;  // activity is generated this far past the start
  std::string timezone = "Europe/Berlin";
  double posts_per_person_day = 0.04;
  int teams = -1;  // Microsoft Teams teams (each with 1-3 channels); -1: one per 150 people
  double remote_share = 0.3;  // people who work in another time zone than the organisation's
  double delete_rate = 0.01;  // share of generated messages deleted later (within two days)
  double edit_rate = 0.03;    // share edited later
  // Viva Engage threads posted to "All Company": such messages carry no group_id and appear
  // only in the company feed (reference §1.4, §1.4.4).
  double company_share = 0.1;
  // Communities the service account belongs to that groups.json does not list (hidden from the
  // directory): their messages appear in the company feed all the same.
  int unlisted_communities = 1;
  // Likers listed in liked_by.names without a user_id (old data, §1.4.4), by permalink and name.
  double like_names_without_id = 0.1;
  // People who have installed the Teams app (personal scope): only they can be sent a 1:1
  // message by the bot (reference §3.2).
  double teams_app_share = 0.8;
};

struct Person {
  int64_t id = 0;
  std::string first, last, department, email;
  std::string state = "active";
  Time activated_at{};
  double activity = 0;  // 0 for people who only read
  bool bot = false;
  std::string aad_id;      // Entra object id (Teams, Graph)
  int64_t manager = 0;     // person id of the manager, 0 for none
  uint8_t zone = 0;        // index into World::zone_names(); 0 is the organisation's
  bool teams_app = false;  // has the Teams app installed for themselves
  std::string mri;         // their Bot Framework id (29:…), as a team roster gives it
};

// A Viva Engage community, or a Microsoft Teams channel (then team_id and channel_id are set).
struct Community {
  int64_t id = 0;
  std::string team_id;     // team GUID
  std::string channel_id;  // 19:…@thread.tacv2
  std::string team_name;
  bool IsChannel() const { return !channel_id.empty(); }
  std::string name, full_name, description;
  Time created_at{};
  std::vector<int64_t> members;  // person ids, sorted
  // "All Company": every person is a member; its messages have no group_id in the API and it
  // has no feed of its own.
  bool company_wide = false;
  bool listed = true;  // shown by groups.json
};

struct Msg {
  int64_t id = 0;  // 0 while pending
  int64_t sender = 0;
  int64_t group = 0;
  size_t parent = SIZE_MAX;  // index of the replied-to message
  size_t thread = SIZE_MAX;  // index of the thread starter (itself for starters)
  Time created_at{};
  uint32_t text = 0;              // index into World::Text
  int64_t mention = 0;            // a person mentioned in the message, 0 for none
  std::vector<int64_t> liked_by;  // sorted person ids
  std::vector<std::pair<int64_t, Time>> reacted_at;  // when each reaction came (Teams shows it)
  uint64_t change_seq = 0;  // last change to the message itself (Graph delta rounds)
  Time modified_at{};       // when that change happened
  uint64_t thread_seq = 0;  // last change to the message or, for a root, any of its replies
  Time thread_modified_at{};
  std::optional<Time> edited_at;
  std::optional<Time> deleted_at;
  bool system = false;
  bool deleted = false;
  bool by_bot = false;
  bool via_api = false;  // posted through the API ("O365 Api Auth"), not the web
  // A private conversation (group 0): the people it is to besides its sender; on Teams, the
  // personal chat with the bot it is in ("a:…").
  std::vector<int64_t> direct_to;
  std::string chat;
  bool Private() const { return !direct_to.empty(); }
  bool LikedBy(int64_t user) const;
};

// A button of an Adaptive Card the bot posted (reference §3.2): Action.Submit or Action.Execute.
struct CardAction {
  std::string title;
  std::string data;  // the action's data, JSON text
  bool execute = false;
};

// A person pressing one of those buttons: Teams sends it to the bot only (no channel message).
struct CardClick {
  size_t card = 0;  // index of the card message
  int64_t user = 0;
  Time at{};
  size_t action = 0;  // index into the card's actions
  bool done = false;  // the time has come and the bot was told
};

struct Stats {
  std::map<std::string, int64_t> requests;  // per endpoint class
  int64_t throttled = 0;
  int64_t violations = 0;
  int64_t unauthorized = 0;
  int64_t faults = 0;  // answers spoiled on purpose
};

class World {
 public:
  explicit World(const OrgOptions& o);

  std::mutex& mu() { return mu_; }  // every access below holds it

  Time Now() const { return now_; }
  // Moves the clock forward (never back) and makes due events visible.
  void AdvanceTo(Time t);

  const std::vector<Person>& people() const { return people_; }
  const std::vector<Community>& communities() const { return communities_; }
  const Person* FindPerson(int64_t id) const;
  const Community* FindCommunity(int64_t id) const;
  const Community* FindChannel(const std::string& team_id, const std::string& channel_id) const;
  const Person& bot() const { return people_[bot_index_]; }
  // "All Company" (Viva Engage).
  const Community& company() const { return communities_[company_index_]; }
  const std::vector<std::string>& zone_names() const { return zone_names_; }

  const std::vector<Msg>& messages() const { return msgs_; }
  const std::string& Text(const Msg& m) const { return texts_[m.text]; }
  // Visible message indexes in increasing id order: all, per group, per thread.
  const std::vector<size_t>& AllVisible() const { return visible_; }
  const std::vector<size_t>& YammerVisible() const { return yammer_visible_; }  // no channels
  uint64_t change_seq() const { return change_seq_; }
  const std::vector<size_t>& InGroup(int64_t gid) const;
  const std::vector<size_t>& InThread(int64_t thread_id) const;
  std::optional<size_t> FindMessage(int64_t id) const;

  // A message written now by `sender`; returns its index. Prompts posted by the bot into a
  // community make simulated employees answer some time later.
  // `actions`: the buttons of an Adaptive Card; people press one instead of replying.
  size_t Post(int64_t sender, int64_t group, std::optional<size_t> parent, const std::string& text,
              bool via_api, std::vector<CardAction> actions = {});
  // A private message now from `sender` to `to` (a reply in its thread with `parent`); with
  // `chat`, in that Teams personal chat. A question from the bot gets its answer later.
  size_t PostPrivate(int64_t sender, std::vector<int64_t> to, std::optional<size_t> parent,
                     const std::string& text, const std::string& chat,
                     std::vector<CardAction> actions = {});
  // Viva Engage private messages a person takes part in (not Teams chats), in increasing id order.
  const std::vector<size_t>& PrivateOf(int64_t person) const;
  // The bot's personal chat with a person (made on first use, the same ever after).
  std::string PersonalChat(int64_t person);
  int64_t PersonOfChat(const std::string& chat) const;  // 0: no such chat
  const Person* FindByMri(const std::string& mri) const;
  void Like(size_t msg, int64_t user, bool on);
  // An edit (new text) or a deletion made now, e.g. by the bot through the API.
  void Edit(size_t msg, const std::string& text);
  void Delete(size_t msg);
  const std::vector<CardAction>* CardActions(size_t msg) const;
  // What a simulated person meant by an answer to a question ("B", "4"), or nullptr.
  const std::string* Meant(size_t msg) const {
    auto it = meant_.find(msg);
    return it == meant_.end() ? nullptr : &it->second;
  }
  const std::vector<CardClick>& clicks() const { return clicks_; }

  Stats& stats() { return stats_; }
  // Called (under the lock) when a message appears (created) or a reaction changes it.
  void SetOnChange(std::function<void(size_t msg, bool created)> f) { on_change_ = std::move(f); }
  // Called (under the lock) when a person presses a card button.
  void SetOnClick(std::function<void(size_t click)> f) { on_click_ = std::move(f); }
  const OrgOptions& options() const { return opt_; }

 private:
  enum class EventKind { kAppear, kLike, kEdit, kDelete, kClick };
  struct Event {
    Time at;
    uint64_t seq;
    EventKind kind;
    size_t msg;  // for kClick: index into clicks_
    int64_t user;
    bool operator<(const Event& o) const { return at != o.at ? at < o.at : seq < o.seq; }
  };

  void Generate();
  // hour >= 0: the thread starter is drawn towards people whose working hours these are.
  void GenerateThread(size_t group_index, Time at, std::mt19937_64& rng, int hour = -1);
  void ScheduleAnswers(size_t prompt);
  static bool Names(const std::string& text, const Person& p);  // the text mentions p
  void ScheduleAnswer(size_t prompt, int64_t person, Time at, std::mt19937_64& rng);
  void Remind(size_t reminder);
  // Generated events go to the timeline (sorted once); events born at run time (answers to a
  // prompt) to a small ordered set. AdvanceTo merges the two.
  void Schedule(Time at, EventKind k, size_t msg, int64_t user);
  void ScheduleLive(Time at, EventKind k, size_t msg, int64_t user);
  void Apply(const Event& e);
  // A change to the message now (created, edited, deleted, reacted to): its change sequence
  // and time, and its thread's.
  void Touch(size_t idx, Time at);
  void Materialize(size_t msg);
  // A message by `sender` now (a reply to `parent`), not yet added; then added and shown.
  Msg NewMessage(int64_t sender, std::optional<size_t> parent, const std::string& text,
                 bool via_api);
  size_t AddMessage(Msg m, std::vector<CardAction> actions);
  int64_t PickMember(size_t community, std::mt19937_64& rng, bool only_active, int64_t not_this);
  uint32_t AddText(const std::string& t);

  OrgOptions opt_;
  std::mutex mu_;
  Time now_;
  std::vector<Person> people_;
  std::vector<std::string> zone_names_;
  std::vector<std::vector<float>> hour_factor_;  // [zone][hour since history start]
  std::map<int64_t, size_t> person_index_;
  size_t bot_index_ = 0;
  std::vector<Community> communities_;
  size_t company_index_ = 0;
  size_t first_channel_ = 0;  // communities_[first_channel_..] are Teams channels
  std::map<int64_t, size_t> community_index_;
  std::vector<Msg> msgs_;
  std::vector<std::string> texts_;
  std::map<std::string, uint32_t> text_index_;
  std::vector<Event> timeline_;
  size_t timeline_next_ = 0;
  std::set<Event> live_;
  // Per community: cumulative pick weights of its members (people who write; anyone).
  std::vector<std::vector<double>> cum_writers_, cum_anyone_;
  uint64_t seq_ = 0;
  int64_t next_id_ = 1'100'000'000'000;
  std::vector<size_t> visible_, yammer_visible_;
  int64_t last_teams_id_ = 0;
  uint64_t change_seq_ = 0;
  std::map<int64_t, std::vector<size_t>> by_group_;
  std::map<int64_t, std::vector<size_t>> by_thread_;  // thread starter id → messages
  std::map<int64_t, std::vector<size_t>>
      private_of_;                        // person → their Viva Engage private messages
  std::map<int64_t, std::string> chats_;  // person → personal chat with the bot
  std::map<int64_t, size_t> by_id_;
  Stats stats_;
  std::function<void(size_t, bool)> on_change_;
  std::function<void(size_t)> on_click_;
  std::map<size_t, std::vector<CardAction>> cards_;  // per card message index
  std::vector<CardClick> clicks_;
  std::map<size_t, std::set<int64_t>> answering_;  // per prompt: who answered or will
  std::map<size_t, std::string> meant_;            // per answer: the option or rating meant
};

}  // namespace learnloop::sim
