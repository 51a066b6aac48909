#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

#include "bot/answers.h"
#include "bot/bot.h"
#include "bot/helpers.h"
#include "bot/schedule.h"
#include "connectors/common/mentions.h"
#include "core/json.h"
#include "core/log.h"

namespace learnloop::bot {

std::optional<int> Bot::ReadChoice(const std::string& text,
                                   const std::vector<std::string>& options) {
  std::string key;
  for (const auto& o : options) key += o + '\x1f';
  key += '\x1e' + text;
  if (auto it = choices_read_.find(key); it != choices_read_.end()) return it->second;
  if (choices_read_.size() >= 100000) choices_read_.clear();
  auto option = ParseChoice(text, options);
  choices_read_.emplace(std::move(key), option);
  return option;
}

Status Bot::RecognizeAnswers(const std::vector<Prompt>& prompts) {
  Time now = clock_.Now();
  if (prompts.empty()) return Status::Ok();
  std::set<std::string> bots;
  LL_ASSIGN_OR_RETURN(const auto* users, Users());
  for (const auto& u : *users)
    if (u.is_bot) bots.insert(u.id);
  // The prompts looked at (replies written before the close may be fetched a little later: a
  // while past it), and what they hold, read at once.
  std::vector<const Prompt*> todo;
  std::vector<std::string> threads, ids, posts;
  for (const auto& p : prompts) {
    if (p.closes_at && now > *p.closes_at + std::chrono::hours{24 * 7}) continue;
    todo.push_back(&p);
    threads.push_back(AnswerThread(p));
    ids.push_back(p.id);
    posts.push_back(p.message_id);
  }
  LL_ASSIGN_OR_RETURN(auto in_thread, store_.MessagesInThreads(threads));
  LL_ASSIGN_OR_RETURN(auto recognised, store_.AnswersToPrompts(ids));
  LL_ASSIGN_OR_RETURN(auto pressed, store_.CardActionsOnMessages(posts));
  // Private prompts in a conversation they share (a Teams personal chat), by time.
  std::map<std::string, std::vector<Time>> private_in;
  for (size_t i = 0; i < todo.size(); ++i)
    if (todo[i]->is_private && threads[i] != todo[i]->message_id)
      private_in[threads[i]].push_back(todo[i]->posted_at);
  for (auto& [thread, times] : private_in) std::sort(times.begin(), times.end());

  for (size_t i = 0; i < todo.size(); ++i) {
    const Prompt& p = *todo[i];
    const std::vector<Message>& messages = in_thread[threads[i]];
    const std::vector<CardAction>& presses = pressed[p.message_id];
    std::map<std::string, Answer> before;  // what was recognised earlier, by message
    for (auto& a : recognised[p.id]) before[a.message_id] = a;
    if (messages.empty() && presses.empty() && before.empty()) continue;
    const config::CampaignConfig* c = FindCampaign(p.campaign);
    const config::StepConfig* step =
        c ? &c->steps[static_cast<size_t>(std::max(0, p.step - 1)) % c->steps.size()] : nullptr;
    std::string kind = step ? step->kind : "free_text";
    int points_answer = c ? c->points_answer : 1, points_correct = c ? c->points_correct : 0;

    // What an answer chose, and whether that is right.
    auto read = [&](Answer& a, const std::string& text, std::optional<std::string> pressed) {
      std::optional<int> option;
      if (kind == "choice" || kind == "poll") {
        if (pressed && pressed->size() == 1 &&
            std::isalpha(static_cast<unsigned char>((*pressed)[0])))
          option = std::toupper(static_cast<unsigned char>((*pressed)[0])) - 'A';
        else
          option = ReadChoice(pressed.value_or(text), step->options);
        if (option && (*option < 0 || *option >= static_cast<int>(step->options.size())))
          option.reset();
        if (option) a.choice = OptionLabel(*option);
        if (option && kind == "choice" && step->correct) a.correct = *option == *step->correct;
      } else if (kind == "rating") {
        if (auto r = ParseRating(pressed.value_or(text))) a.choice = std::to_string(*r);
      } else if (pressed) {
        a.choice = pressed;
      }
    };
    // In a conversation of the bot with one person, their messages from this prompt on, up to
    // the next private prompt there, answer it.
    std::optional<Time> next;
    if (auto shared = private_in.find(threads[i]); shared != private_in.end()) {
      auto after = std::upper_bound(shared->second.begin(), shared->second.end(), p.posted_at);
      if (after != shared->second.end()) next = *after;
    }

    std::vector<std::string> withdrawn;
    std::vector<Answer> answers;
    for (const auto& m : messages) {
      if (p.is_private &&
          ((next && m.created_at >= *next) ||
           std::find(p.audience.begin(), p.audience.end(), m.author_id) == p.audience.end()))
        continue;
      if (m.deleted) {  // a deleted reply withdraws its answer
        if (before.count(m.id)) withdrawn.push_back(m.id);
        continue;
      }
      if (m.id == p.message_id || bots.count(m.author_id)) continue;
      if (m.created_at < p.posted_at) continue;
      Answer a;
      a.prompt_id = p.id;
      a.user_id = m.author_id;
      a.message_id = m.id;
      a.answered_at = m.created_at;
      bool late = p.closes_at && m.created_at >= *p.closes_at;
      auto was = before.find(m.id);
      if (was != before.end() && p.closes_at && m.edited_at && *m.edited_at >= *p.closes_at) {
        answers.push_back(was->second);  // edited after the close: the answer stays as it was
        continue;
      }
      if (!late) read(a, m.text, std::nullopt);
      answers.push_back(std::move(a));
    }
    // Buttons pressed on the prompt's card are answers too; the choice is the button's
    // "choice" (or its whole data).
    for (const auto& ca : presses) {
      if (bots.count(ca.user_id) || ca.at < p.posted_at) continue;
      Answer a;
      a.prompt_id = p.id;
      a.user_id = ca.user_id;
      a.message_id = ca.id;
      a.answered_at = ca.at;
      auto data = json::Parse(ca.value);
      auto choice = data.ok() ? json::GetString(*data, "choice") : std::nullopt;
      if (!(p.closes_at && ca.at >= *p.closes_at)) read(a, "", choice.value_or(ca.value));
      answers.push_back(std::move(a));
    }
    // Points: each person's first answer in time that says something readable (any reply
    // for free text); later, late and unreadable ones score nothing.
    std::sort(answers.begin(), answers.end(), [](const Answer& x, const Answer& y) {
      return x.answered_at != y.answered_at ? x.answered_at < y.answered_at
                                            : x.message_id < y.message_id;
    });
    std::set<std::string> scored;
    std::vector<const Answer*> changed;
    for (auto& a : answers) {
      bool late = p.closes_at && a.answered_at >= *p.closes_at;
      bool readable = kind == "free_text" || a.choice.has_value();
      a.points = 0;
      if (!late && readable && scored.insert(a.user_id).second)
        a.points = points_answer + (a.correct.value_or(false) ? points_correct : 0);
      auto was = before.find(a.message_id);
      bool same = was != before.end() && was->second.user_id == a.user_id &&
                  was->second.answered_at == a.answered_at && was->second.choice == a.choice &&
                  was->second.correct == a.correct && was->second.points == a.points;
      if (!same) changed.push_back(&a);  // written only when something changed
    }
    if (changed.empty() && withdrawn.empty()) continue;
    LL_TRY(store_.Transaction([&]() -> Status {
      for (const auto& id : withdrawn) LL_TRY(store_.DeleteAnswer(p.id, id));
      for (const Answer* a : changed) LL_TRY(store_.UpsertAnswer(*a));
      return Status::Ok();
    }));
  }
  return Status::Ok();
}

std::string Bot::AnswerThread(const Prompt& p) const {
  // Its own thread; for a private one, the conversation replies arrive in: its own thread (a
  // Viva Engage private message), or the person's chat with the bot (Teams).
  if (!p.is_private || p.message_id.empty()) return p.message_id;
  auto poster = posters_.find(p.network);
  if (poster == posters_.end() || !poster->second) return p.message_id;
  return MakeId(p.network, poster->second->ConversationOf(NativeId(p.message_id)));
}

}  // namespace learnloop::bot
