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

Status Bot::Remind(const std::vector<Prompt>& prompts) {
  Time now = clock_.Now();
  std::optional<std::map<std::string, User>> users;
  std::optional<std::map<std::string, Group>> groups;
  for (const auto& p : prompts) {
    const config::CampaignConfig* c = FindCampaign(p.campaign);
    if (!c || !c->reminders.enabled || !c->reminders.mention || c->reminders.max <= 0) continue;
    if (p.closes_at && now >= *p.closes_at) continue;
    if (p.is_private) continue;  // a private question is not chased
    // Only the latest reminder due: after downtime the ones missed are not sent in a row,
    // and one missed by more than catch_up not at all.
    int k = static_cast<int>(std::min<int64_t>(
        c->reminders.max, (now - p.posted_at) / std::max(Millis{1}, c->reminders.after)));
    for (; k >= 1; k = 0) {
      Time due = p.posted_at + c->reminders.after * k;
      std::string key = "reminder:" + p.id + ":" + std::to_string(k);
      if (now - due > c->catch_up) continue;
      LL_ASSIGN_OR_RETURN(auto queued, store_.GetOutbox(key));
      if (queued) continue;
      std::optional<Time> at = PostTimeSeenAt(*c, due, now);
      if (!at || (p.closes_at && *at >= *p.closes_at)) continue;  // quiet until the close
      if (!users) {
        LL_ASSIGN_OR_RETURN(const auto* all_users, Users());
        LL_ASSIGN_OR_RETURN(const auto* all_groups, Groups());
        users.emplace();
        for (const auto& u : *all_users) (*users)[u.id] = u;
        groups.emplace();
        for (const auto& g : *all_groups) (*groups)[g.id] = g;
      }
      std::set<std::string> answered;
      LL_ASSIGN_OR_RETURN(auto answers, store_.AnswersTo(p.id));
      for (const auto& a : answers) answered.insert(a.user_id);
      std::vector<const User*> missing;
      // Those it was addressed to (a cohort's day, a practice round), else its community.
      const std::vector<std::string>* audience = &p.audience;
      if (p.audience.empty()) {
        auto g = groups->find(p.group_id);
        static const std::vector<std::string> kNobody;
        audience = g != groups->end() ? &g->second.members : &kNobody;
      }
      for (const auto& uid : *audience) {
        auto u = users->find(uid);
        if (u == users->end() || u->second.is_bot || u->second.state != "active") continue;
        if (!c->InCohort(u->second.joined_at)) continue;  // not in the campaign's cohort
        LL_ASSIGN_OR_RETURN(bool out, OptedOut(uid));
        if (out) continue;  // never named again
        if (!answered.count(uid)) missing.push_back(&u->second);
      }
      if (missing.empty()) continue;  // everyone has answered: nothing to remind
      std::sort(missing.begin(), missing.end(),
                [](const User* a, const User* b) { return a->id < b->id; });
      std::string body = "Reminder: this question is open until " +
                         FormatLocal(c->tz, p.closes_at.value_or(now)) + " - " +
                         MentionList(missing) + ", we would love to read your answer.";
      LL_ASSIGN_OR_RETURN(bool queued_now, EnqueueReply(p, key, body, *at));
      if (queued_now) ++stats_.reminders;
    }
  }
  return Status::Ok();
}

Status Bot::Feedback(const std::vector<Prompt>& prompts) {
  Time now = clock_.Now();
  std::optional<std::map<std::string, User>> users;
  for (const auto& p : prompts) {
    const config::CampaignConfig* c = FindCampaign(p.campaign);
    if (!c || !c->feedback || !p.closes_at || now < *p.closes_at) continue;
    if (p.is_private) continue;                      // feedback is a reply in a community thread
    if (now - *p.closes_at > c->catch_up) continue;  // closed while we were down: not now
    std::string key = "feedback:" + p.id;
    LL_ASSIGN_OR_RETURN(auto queued, store_.GetOutbox(key));
    if (queued) continue;
    std::optional<Time> at = PostTime(*c, std::max(*p.closes_at, now));
    if (!at) at = std::max(*p.closes_at, now);  // quiet hours skip: it still goes, at once
    const config::StepConfig& step =
        c->steps[static_cast<size_t>(std::max(0, p.step - 1)) % c->steps.size()];
    LL_ASSIGN_OR_RETURN(auto answers, store_.AnswersTo(p.id));
    std::map<std::string, Answer> first = FirstAnswers(p, step.kind, answers);
    if (c->answers_public && !users) {
      LL_ASSIGN_OR_RETURN(const auto* all_users, Users());
      users.emplace();
      for (const auto& u : *all_users) (*users)[u.id] = u;
    }
    auto names = [&](const std::vector<std::string>& ids) {
      std::string out;
      for (const auto& id : ids) {
        auto u = users->find(id);
        out += (out.empty() ? "" : ", ") + (u != users->end() ? u->second.name : id);
      }
      return out;
    };
    size_t n = first.size();
    std::string body = "This question is now closed. ";
    if (step.kind == "choice" || step.kind == "poll") {
      std::vector<std::vector<std::string>> by_option(step.options.size());
      for (const auto& [uid, a] : first) {
        int i = std::toupper(static_cast<unsigned char>((*a.choice)[0])) - 'A';
        if (i >= 0 && i < static_cast<int>(by_option.size())) by_option[i].push_back(uid);
      }
      if (step.kind == "choice" && step.correct) {
        body +=
            "The answer: " + OptionLabel(*step.correct) + ") " + step.options[*step.correct] + ".";
        if (!step.explanation.empty()) body += " " + step.explanation;
        size_t right = by_option[static_cast<size_t>(*step.correct)].size();
        body += "\n" + std::to_string(n) + " answer(s)";
        if (n) body += ", " + std::to_string(right * 100 / n) + "% right";
        body += ".";
      } else {
        body += "Results from " + std::to_string(n) + " answer(s):";
      }
      for (size_t i = 0; i < by_option.size(); ++i) {
        body += "\n" + OptionLabel(static_cast<int>(i)) + ") " + step.options[i] + ": " +
                std::to_string(by_option[i].size());
        if (c->answers_public && !by_option[i].empty()) body += " (" + names(by_option[i]) + ")";
      }
    } else if (step.kind == "rating") {
      double sum = 0;
      for (const auto& [uid, a] : first) sum += std::stod(*a.choice);
      char avg[32];
      std::snprintf(avg, sizeof avg, "%.1f", n ? sum / static_cast<double>(n) : 0.0);
      body += std::to_string(n) + " rating(s)" + (n ? std::string(", on average ") + avg : "") +
              " out of 5.";
    } else {
      body += "Thank you to the " + std::to_string(n) + " colleague(s) who answered" +
              (n ? " - do read each other's answers above." : ".");
    }
    LL_ASSIGN_OR_RETURN(bool queued_now, EnqueueReply(p, key, body, *at));
    if (queued_now) ++stats_.feedback;
  }
  return Status::Ok();
}

Status Bot::Acknowledge(const std::vector<Prompt>& prompts) {
  Time now = clock_.Now();
  auto log = Logger("bot");
  for (const auto& p : prompts) {
    const config::CampaignConfig* c = FindCampaign(p.campaign);
    if (!c || !c->acknowledge) continue;
    if (p.closes_at && now > *p.closes_at + std::chrono::hours{24}) continue;
    auto poster = posters_.find(p.network);
    if (poster == posters_.end() || !poster->second) continue;
    LL_ASSIGN_OR_RETURN(auto answers, store_.AnswersTo(p.id));
    for (const auto& a : answers) {
      if (a.points <= 0) continue;  // only each person's scored answer
      LL_ASSIGN_OR_RETURN(bool done, store_.Acknowledged(a.message_id));
      if (done) continue;
      auto s = poster->second->Acknowledge(NativeId(a.message_id));
      if (s.ok()) {
        LL_TRY(store_.MarkAcknowledged(a.message_id, now));
        ++stats_.acknowledged;
      } else if (s.error().code == 501 || (s.error().code >= 400 && s.error().code < 500 &&
                                           s.error().code != 429 && s.error().code != 401)) {
        // Not again.
        LL_TRY(store_.MarkAcknowledged(a.message_id, now, "not possible: " + s.message()));
        log->info("answer {} not acknowledged: {}", a.message_id, s.message());
      }  // otherwise tried again at the next tick
    }
  }
  return Status::Ok();
}

}  // namespace learnloop::bot
