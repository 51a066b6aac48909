#pragma once
// The connector interface: connectors turn ESN API pages into normalized core events and take
// post requests. They know nothing of the store or the bot.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/result.h"
#include "net/message.h"
#include "net/url.h"

namespace learnloop::connectors {

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnUser(const User& u) = 0;
  virtual void OnGroup(const Group& g) = 0;
  virtual void OnMessage(const Message& m) = 0;
  // The complete current set of reactions of one kind on a message (e.g. Yammer's liked_by), or
  // with `kind` empty of every kind (Teams lists them all, emoji and custom ones included).
  virtual void OnReactionSnapshot(const std::string& message_id, const std::string& kind,
                                  const std::vector<Reaction>& reactions) = 0;
  // A card button pressed (an answer without a message).
  virtual void OnCardAction(const CardAction& a) { (void)a; }
  // Every message of the group created in [from, to) that the ESN still has: any other one
  // seen before has been deleted (feeds just stop showing deleted messages).
  virtual void OnPresent(const std::string& group_id, Time from, Time to,
                         const std::vector<std::string>& message_ids) {
    (void)group_id, (void)from, (void)to, (void)message_ids;
  }
  // How far a long read has come: the `done`-th of `total` parts (channels, communities) is
  // being read now. For the operator's progress lines only.
  virtual void OnProgress(const std::string& part, int64_t done, int64_t total) {
    (void)part, (void)done, (void)total;
  }
};

struct PollStats {
  int requests = 0;
  int messages = 0;
  int likes_unresolved = 0;  // likers the ESN named in a way no directory identifies (dropped)
  bool advanced = false;     // something newer than the cursors was seen
  std::vector<std::string> errors;  // per-feed failures; the poll went on with the others
};

// Cursors are state the daemon persists after each successful poll, so a restart resumes.
using Cursors = std::map<std::string, std::string>;

class Connector {
 public:
  virtual ~Connector() = default;
  virtual const std::string& network() const = 0;
  // Users, groups and memberships; also learns which account the daemon acts as.
  virtual Status SyncDirectory(EventSink& sink) = 0;
  // Fetches what is new since the cursors, and re-reads recent items when that is due (or at
  // once with refresh_now: reactions and edits arrive after a message was first seen).
  virtual PollStats Poll(EventSink& sink, bool refresh_now = false) = 0;
  virtual Cursors GetCursors() const = 0;
  virtual void RestoreCursors(const Cursors& c) = 0;
  // State that must stay secret (a rotated refresh token, say): kept by the daemon like the
  // cursors, but apart from them.
  virtual Cursors GetSecrets() const { return {}; }
  virtual void RestoreSecrets(const Cursors& s) { (void)s; }
  // The rate budgets spent in their current windows, for the next process to go on from.
  // RestoreRateBudgets gives them back, or, with nullopt after a process that did not stop
  // cleanly, takes every budget as spent at `now`: a restart never goes over a limit.
  virtual std::string SaveRateBudgets() { return ""; }
  virtual void RestoreRateBudgets(const std::optional<std::string>& saved, Time now) {
    (void)saved;
    (void)now;
  }
  // The id ("<network>:<native>") of the account the daemon acts as, once known.
  virtual std::optional<std::string> SelfUserId() const = 0;
  // The threads (ids) of prompts still open: a connector whose feed may miss replies to them
  // reads them on each poll.
  virtual void FollowThreads(const std::vector<std::string>& thread_ids) { (void)thread_ids; }
  // What works only in part, one sentence each (a directory call refused, say): the network
  // is still read, but a figure may be missing something.
  virtual std::vector<std::string> Degraded() const { return {}; }
};

struct PostRequest {
  std::string group_id;                 // native id of the community/channel
  std::optional<std::string> reply_to;  // native id of the message to reply to
  // Exactly the text of every attempt (it finds the post again after a crash: no bookkeeping
  // of ours is shown to people).
  std::string body;
  // Buttons of a question, as (value, title): where the ESN has them (Teams: an Adaptive Card
  // whose Action.Submit data is {"choice": value}); elsewhere the body lists the options.
  std::vector<std::pair<std::string, std::string>> choices;
  // A private message to this person (native id) instead of a post in group_id (which names
  // the community it is sent for). Only where the network PostsPrivately().
  std::optional<std::string> to_user;
};

struct Posted {
  std::string native_id;
  Time created_at{};
};

// Optional ability: posting.
class Poster {
 public:
  virtual ~Poster() = default;
  virtual Result<Posted> Post(const PostRequest& r) = 0;
  // Posts of ours, made at or after `since`, in r's place, whose text is r's as the ESN shows
  // it; oldest first. Asked before re-posting an item whose earlier attempt may have gone
  // through (the caller skips those it knows belong to another item).
  virtual Result<std::vector<Posted>> FindPosted(const PostRequest& r, Time since) = 0;
  // Whether the network takes private messages to one person (PostRequest::to_user). A person
  // it cannot reach so is refused with code 403 (Teams: the app is not installed for them).
  virtual bool PostsPrivately() const { return false; }
  // The conversation replies to one of our messages arrive in, as the thread_id of the
  // messages read: the message itself, or (a Teams personal chat) the chat.
  virtual std::string ConversationOf(const std::string& native_message_id) const {
    return native_message_id;
  }
  // Acknowledges a message (an answer) the way the ESN lets an app: a like on Viva Engage.
  // Saying it again is harmless. Where the ESN offers apps nothing of the kind (Teams: no
  // reactions for apps), an error with code 501.
  virtual Status Acknowledge(const std::string& native_message_id) {
    (void)native_message_id;
    return Status::Fail("this network offers apps no way to acknowledge a message", 501);
  }
};

// Optional ability: being told of changes (reference §2.12) instead of finding them by polling.
class PushReceiver {
 public:
  virtual ~PushReceiver() = default;
  // Called from the daemon loop with the listener's public URL: creates, renews or replaces
  // the subscriptions.
  virtual Status MaintainSubscriptions(const std::string& public_url) = 0;
  // The listener's paths this connector answers, e.g. "/teams/notify".
  virtual std::vector<std::string> PushPaths() const = 0;
  // Whether a request to a path several networks answer holds something of this network (a
  // notification of its subscriptions, an activity for its bot): only those networks get it.
  virtual bool ClaimsPush(const net::Request& r) const {
    (void)r;
    return true;
  }
  // A request that only checks the endpoint (Graph's validationToken, Slack's url_verification):
  // answered at once, even while the directory is not read yet (other pushes wait for it).
  virtual bool IsHandshake(const net::Request& r) const {
    (void)r;
    return false;
  }
  // Called on the listener's threads: must be quick (the sender waits at most 3 s).
  virtual net::Reply OnPush(const net::Request& r) = 0;
  // Something was pushed that PollPushed has not read yet.
  virtual bool PushPending() const = 0;
  // Takes what the pushes brought since the last call (as text, so that the raw archive can
  // keep it and a replay can read it again), and reads what it points at.
  virtual std::string TakePushed() = 0;
  virtual PollStats ReadPushed(const std::string& pushed, EventSink& sink) = 0;
  PollStats PollPushed(EventSink& sink) { return ReadPushed(TakePushed(), sink); }
  // When the subscriptions next need the daemon (renewal).
  virtual std::optional<Time> NextMaintenance() const = 0;
  // The service asked for something that cannot wait for that time (a subscription to
  // reauthorise or to make again, reference §2.12): MaintainSubscriptions at the next tick.
  virtual bool MaintenanceDue() const { return false; }
  // Whether every subscription is in place (what it pushes needs no poll to be on time).
  virtual bool SubscriptionsLive() const { return false; }
};

// A network's connector, as made by its kind (connectors/registry.cpp).
struct Built {
  std::unique_ptr<Connector> connector;
  Poster* poster = nullptr;      // the same object, when it can post
  PushReceiver* push = nullptr;  // the same object, when it takes pushes
};

}  // namespace learnloop::connectors
