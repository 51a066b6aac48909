#pragma once
// The Bot Framework connector service as Teams uses it (reference §3.2, §3.4): a new channel
// thread through POST v3/conversations, replies through …/activities[/{id}], per-thread rate
// limits. The bot's posts are ordinary channel messages from an application.
#include <array>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "sim/http_server.h"
#include "sim/identity.h"
#include "sim/jwt_signer.h"
#include "sim/notifications.h"
#include "sim/world.h"

namespace learnloop::sim {

class BotFrameworkApi {
 public:
  BotFrameworkApi(World& world, Identity& identity) : world_(world), identity_(identity) {}
  // Paths under /bf/ (the serviceUrl is http://127.0.0.1:PORT/bf/).
  SimReply Handle(const SimRequest& r);
  // POST /_sim/bot {"endpoint": URL, "all_messages": bool}: where the bot's activities go.
  SimReply Register(const SimRequest& r);
  // GET /botframework/v1/.well-known/openidconfiguration and …/keys (as login.botframework.com).
  SimReply OpenId(const SimRequest& r);
  // A person's message in a channel: delivered to the bot when it is in a thread the bot
  // started (or always, with all_messages, as RSC ChannelMessage.Read.Group does).
  void OnChange(size_t msg, bool created, Notifier& out);

 private:
  std::optional<SimReply> Throttle(const std::string& thread);
  World& world_;
  Identity& identity_;
  std::map<std::string, std::deque<Time>> sent_;  // per thread, the last hour
  JwtSigner signer_;
  std::string endpoint_, service_url_, host_;
  bool all_messages_ = false;
};

}  // namespace learnloop::sim
