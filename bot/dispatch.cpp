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

Status Bot::Dispatch() {
  auto log = Logger("bot");
  LL_ASSIGN_OR_RETURN(auto unfinished, store_.UnfinishedOutbox());
  for (const auto& item : unfinished) {
    // Stopping: what is left waits in the outbox for the next start (said once, at the stop).
    if (clock_.Interrupted()) return Status::Ok();
    Time now = clock_.Now();
    if (item.due_at > now) continue;
    auto pit = posters_.find(item.network);
    if (pit == posters_.end() || !pit->second) {
      LL_TRY(store_.MarkOutboxFailed(item.key, "network '" + item.network + "' cannot post", true));
      ++stats_.failed;
      continue;
    }
    connectors::Poster& poster = *pit->second;
    LL_ASSIGN_OR_RETURN(auto prompt, store_.GetPrompt(item.key));
    const config::CampaignConfig* campaign = prompt ? FindCampaign(prompt->campaign) : nullptr;
    // A prompt that waited past its campaign's catch_up (the ESN was down, say) is not posted
    // late: dropped, and said so. One that may have gone out already is looked for first.
    const bool aged = campaign && now - item.due_at > campaign->catch_up;
    // An item that will never go out takes its prompt with it: nobody was asked.
    auto give_up = [&](const std::string& why) -> Status {
      LL_TRY(store_.Transaction([&]() -> Status {
        LL_TRY(store_.MarkOutboxFailed(item.key, why, true));
        if (prompt && prompt->message_id.empty()) return store_.DeletePrompt(prompt->id);
        return Status::Ok();
      }));
      ++stats_.failed;
      return Status::Ok();
    };
    auto drop = [&]() -> Status {
      std::string why = "not posted: due at " + FormatIso(item.due_at) + ", " +
                        MinutesText(now - item.due_at) + " ago, past the campaign's catch_up";
      LL_TRY(give_up(why));
      log->warn("outbox {}: {}", item.key, why);
      return Status::Ok();
    };
    if (aged && item.state == "pending") {
      LL_TRY(drop());
      continue;
    }
    connectors::PostRequest req;
    req.group_id = item.group_id;
    req.reply_to = item.reply_to;
    req.to_user = item.to_user;
    // Every attempt sends the text of the first (its close time included): that is how an
    // attempt that went through unseen is found again.
    Time opened = item.sent_at.value_or(now);
    Millis open_for = campaign ? campaign->open_for : Millis{std::chrono::hours{72}};
    if (campaign) {
      config::StepConfig step =
          campaign
              ->steps[static_cast<size_t>(std::max(0, prompt->step - 1)) % campaign->steps.size()];
      step.text = item.body;  // what was scheduled, even if the file changed since
      req.body = PromptBody(*campaign, step, opened + open_for);
      if (!item.reply_to && (step.kind == "choice" || step.kind == "poll"))
        for (size_t i = 0; i < step.options.size(); ++i)
          req.choices.push_back({OptionLabel(static_cast<int>(i)),
                                 OptionLabel(static_cast<int>(i)) + ") " + step.options[i]});
    } else {
      req.body = item.body;
    }
    if (item.sent_body) req.body = *item.sent_body;

    auto record = [&](const connectors::Posted& posted) {
      return store_.Transaction([&]() -> Status {
        LL_TRY(store_.MarkOutboxPosted(item.key, posted.native_id, posted.created_at));
        if (prompt) {
          Prompt p = *prompt;
          p.message_id = MakeId(item.network, posted.native_id);
          p.posted_at = posted.created_at;
          // Open as long as it says (from the first attempt), and at least open_for once out.
          p.closes_at = std::max(opened + open_for, posted.created_at + open_for);
          return store_.UpsertPrompt(p);
        }
        return Status::Ok();
      });
    };

    if (item.state == "sending") {
      // The last attempt may have reached the ESN before we could record it: a post of ours
      // with this very text since the first attempt, that no other item has claimed.
      auto found =
          poster.FindPosted(req, item.sent_at.value_or(item.due_at) - std::chrono::minutes{5});
      if (!found.ok()) {
        log->warn("outbox {}: cannot check for an earlier post: {}", item.key,
                  found.error().message);
        continue;
      }
      const connectors::Posted* mine = nullptr;
      for (const auto& p : *found) {
        LL_ASSIGN_OR_RETURN(auto owner, store_.OutboxKeyOfPost(item.network, p.native_id));
        if (!owner || *owner == item.key) {
          mine = &p;
          break;
        }
      }
      if (mine) {
        LL_TRY(record(*mine));
        ++stats_.reconciled;
        continue;
      }
      if (aged) {
        LL_TRY(drop());
        continue;
      }
    }
    LL_TRY(store_.MarkOutboxSending(item.key, req.body, now));
    auto res = poster.Post(req);
    if (res.ok()) {
      LL_TRY(record(*res));
      ++stats_.posted;
      log->info("posted {} as {}", item.key, res->native_id);
    } else if (clock_.Interrupted()) {
      return Status::Ok();  // the attempt was cut short by the stop: tried again at the next start
    } else {
      int code = res.error().code;
      bool final = code >= 400 && code < 500 && code != 429 && code != 401;
      bool unreachable = final && item.to_user && (code == 403 || code == 404);
      if (unreachable) {
        // The person cannot be reached privately (Teams: the app is not installed for them):
        // asked in the community from the next round on, privately again in a week.
        std::string user = MakeId(item.network, *item.to_user);
        LL_TRY(store_.MarkUnreachable(user, {now, res.error().message}));
        log->info(
            "outbox {}: {} cannot be sent a private message ({}); asked in the "
            "community from the next round",
            item.key, user, res.error().message);
      }
      if (final) {
        LL_TRY(give_up(res.error().message));
      } else {
        LL_TRY(store_.MarkOutboxFailed(item.key, res.error().message, false));
        ++stats_.failed;
      }
      if (!unreachable)
        log->warn("outbox {}: {}{}", item.key, res.error().message,
                  final ? " (given up)" : " (will retry)");
    }
  }
  return Status::Ok();
}

Result<bool> Bot::EnqueueReply(const Prompt& p, const std::string& key, const std::string& body,
                               Time at) {
  store::OutboxItem item;
  item.key = key;
  item.network = p.network;
  item.group_id = NativeId(p.group_id);
  item.reply_to = NativeId(p.message_id);
  item.body = body;
  item.due_at = at;
  return store_.EnqueueOutbox(item);
}

}  // namespace learnloop::bot
