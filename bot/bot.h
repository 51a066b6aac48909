#pragma once
// Campaigns: prompts posted on a schedule through the outbox, and answers recognised as replies
// in the prompt's thread. The bot's methods live in files by job: prompts.cpp (the scheduler),
// spaced.cpp (spaced repetition), dispatch.cpp (the outbox), recognize.cpp (answers),
// followups.cpp (reminders, feedback, acknowledgements), leaderboards.cpp, operator.cpp
// (operator commands) and bot.cpp (the tick and what the others read).
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "connectors/connector.h"
#include "core/clock.h"
#include "store/store.h"

namespace learnloop::bot {

struct BotStats {
  int enqueued = 0, posted = 0, reconciled = 0, failed = 0, reminders = 0, feedback = 0,
      acknowledged = 0;
};

class Bot {
 public:
  Bot(const config::Config& cfg, store::Store& store, Clock& clock,
      std::map<std::string, connectors::Poster*> posters);

  // One tick of the daemon: answers, the prompts due, reminders, feedback, likes,
  // leaderboards, then the outbox — reading the open prompts once.
  Status Tick();
  // Writes every prompt that is due into the outbox (a missed time within the campaign's
  // catch-up window is still posted; older ones are skipped and logged). Campaigns of days
  // after joining post each day's prompt to that day's newcomers; spaced campaigns post, at
  // each round, every person's next due question (one post per question, naming its people).
  Status Schedule();
  // Posts what the outbox holds. An item whose earlier attempt may have gone out is first
  // looked for on the ESN, so it is never posted twice.
  Status Dispatch();
  // Replies in the thread of an open prompt, by people, before it closes, are answers.
  Status RecognizeAnswers() { return WithRecent(&Bot::RecognizeAnswers); }
  // Reminders of open prompts (campaigns with `reminders`): a reply in the thread that
  // mentions the people of the community who have not answered, after the configured delay,
  // at most the configured number, never in quiet hours or on holidays, never after the close.
  Status Remind() { return WithRecent(&Bot::Remind); }
  // At a prompt's close (campaigns with `feedback`): the right answer and why, the poll's
  // tally, the average rating, or the number of answers, as a reply in the thread — who
  // answered what only when the campaign's answers are public.
  Status Feedback() { return WithRecent(&Bot::Feedback); }
  // Likes each person's scored answer (campaigns with `acknowledge`), once; where the ESN
  // offers apps no such thing (Teams), nothing.
  Status Acknowledge() { return WithRecent(&Bot::Acknowledge); }
  // Points and streaks of a campaign in one community, for the people who opted in: points of
  // every scored answer in the campaign, streak = how many of the community's latest prompts
  // put to them (all, or those naming them) the person answered in a row. Best first.
  struct Standing {
    std::string user_id, name;
    int points = 0, streak = 0;
  };
  Result<std::vector<Standing>> Standings(const config::CampaignConfig& c,
                                          const std::string& community);
  // Leaderboards at their scheduled times (campaigns with `leaderboard`), a new post in each
  // community, naming only people who opted in.
  Status Leaderboards();

  // Operator actions, kept in the store so the running daemon follows them at its next tick.
  Status SetPaused(const std::string& campaign, bool paused);
  Result<Time> SkipNext(const std::string& campaign);        // the skipped time
  Result<std::string> PostNow(const std::string& campaign);  // the prompt's key
  // Opting out: never named by the bot; opting in: also shown on leaderboards.
  static Status SetOptOut(store::PeopleState& people, const std::string& user_id, bool out) {
    return people.SetOptedOut(user_id, out);
  }
  Result<bool> OptedOut(const std::string& user_id) const;
  // Paused by its file, or by an operator (whose pause or resume wins).
  Result<bool> Paused(const config::CampaignConfig& c) const;
  static bool Paused(const config::CampaignConfig& c, const store::CampaignState& state) {
    return state.paused.value_or(c.paused);
  }

  // Spaced repetition: where one person stands with one question of the pool.
  struct Practice {
    bool asked = false, open = false, retired = false;  // open: asked, not answered, not closed
    int right_in_a_row = 0;
    Time due{};
  };
  // Each person's state per question (index into the steps) of a spaced campaign in one
  // community at time `at`, from the prompts posted and answers given until then; and how
  // many questions each person was asked per local day.
  struct PracticeState {
    std::map<std::string, std::map<int, Practice>> by_user;
    std::map<std::string, std::map<std::string, int>> asked_per_day;  // user → day → count
    std::map<std::string, int> threads_per_day;  // the community's public threads, per day
  };
  Result<PracticeState> Practices(const config::CampaignConfig& c, const std::string& community,
                                  Time at);
  // The question a person is asked next at `at` (nullopt: none due, or the daily cap is
  // reached): due repeats first (earliest due, then pool order), then questions never asked.
  static std::optional<int> NextQuestion(const config::CampaignConfig& c, const PracticeState& s,
                                         const std::string& user_id, Time at);

  // The next time a campaign has a prompt due (nullopt: none).
  Result<std::optional<Time>> NextDue() const;
  const BotStats& stats() const { return stats_; }

  // The prompt as posted: its text, the options (A, B, …) of a choice or poll, how to answer
  // and when it closes. Nothing else: people see no bookkeeping of ours.
  static std::string PromptBody(const config::CampaignConfig& c, const config::StepConfig& step,
                                Time closes);

 private:
  const config::CampaignConfig* FindCampaign(const std::string& name) const;
  // ParseChoice, remembered.
  std::optional<int> ReadChoice(const std::string& text, const std::vector<std::string>& options);
  // How many steps of a sequence have been posted (the next one's index).
  Result<int> StepsPosted(const config::CampaignConfig& c) const;
  Result<bool> EnqueuePrompt(const config::CampaignConfig& c, const std::string& key_time,
                             Time post);
  // One prompt into the outbox (and the prompts table); false when its key is there already.
  // With `to_user` (a person's native id), a private message to them instead of a post.
  Result<bool> EnqueuePromptIn(const config::CampaignConfig& c, const std::string& key,
                               const std::string& community, int step, Time post,
                               std::vector<std::string> audience, const std::string& lead,
                               const std::optional<std::string>& to_user = std::nullopt);
  Status ScheduleAfterJoining(const config::CampaignConfig& c, Time now,
                              const store::CampaignState& state);
  // The first time after `after` a campaign of days after joining has a prompt for someone.
  Result<std::optional<Time>> NextAfterJoining(const config::CampaignConfig& c, Time after) const;
  Result<bool> EnqueueRound(const config::CampaignConfig& c, const std::string& key_time,
                            Time post);
  // Whether a person can be sent a private message on a network: not when an earlier one
  // could not reach them (Teams: the app is not installed for them), for a week.
  Result<bool> Reachable(const std::string& user_id) const;
  // The thread a prompt's answers are in: its own, or for a private one the conversation
  // replies arrive in (shared with the private prompts after it on Teams).
  std::string AnswerThread(const Prompt& p) const;
  // The people of a community a campaign speaks to: active, not bots, in its cohort.
  Result<std::vector<User>> Audience(const config::CampaignConfig& c, const std::string& community);
  // Posted prompts that are open or closed within the last week (what the steps look at).
  Result<std::vector<Prompt>> RecentPrompts();
  // A step run on them.
  Status WithRecent(Status (Bot::*step)(const std::vector<Prompt>&)) {
    LL_ASSIGN_OR_RETURN(auto prompts, RecentPrompts());
    return (this->*step)(prompts);
  }
  Status RecognizeAnswers(const std::vector<Prompt>& prompts);
  Status Remind(const std::vector<Prompt>& prompts);
  Status Feedback(const std::vector<Prompt>& prompts);
  Status Acknowledge(const std::vector<Prompt>& prompts);
  // A reply of the bot in a prompt's thread (reminder, feedback) into the outbox; false when
  // the key is there already.
  Result<bool> EnqueueReply(const Prompt& p, const std::string& key, const std::string& body,
                            Time at);
  // Where the schedule is read from at `now`: what is due after it is still to be dealt with.
  static Time ScheduleFrom(const config::CampaignConfig& c, Time now,
                           const store::CampaignState& state);

  // The directory, read once per tick (outside a tick: at each use).
  Result<const std::vector<User>*> Users();
  Result<const std::vector<Group>*> Groups();

  const config::Config& cfg_;
  store::Store& store_;
  Clock& clock_;
  std::map<std::string, connectors::Poster*> posters_;
  BotStats stats_;
  // What each reply chose, by options and text: every tick reads the open prompts' replies
  // again, and reading one (ParseChoice) is the costly part. Emptied when it grows large.
  std::unordered_map<std::string, std::optional<int>> choices_read_;
  std::optional<std::vector<User>> tick_users_;
  std::optional<std::vector<Group>> tick_groups_;
  bool in_tick_ = false;
};

}  // namespace learnloop::bot
