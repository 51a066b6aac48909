#pragma once
// The Bot Framework connector service as Teams uses it (reference §3.2, §3.4): a new channel
// thread through POST v3/conversations, replies through …/activities[/{id}], per-thread rate
// limits; a personal chat with one person who installed the app (the team roster gives their
// ids). The bot's posts are ordinary channel messages from an application.
#include <array>
#include <deque>
#include <map>
#include <optional>
#include <set>
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
  // A person pressed a card button: a `message` activity with `value` (Action.Submit) or an
  // `invoke` named adaptiveCard/action (Action.Execute), as Teams sends them (§3.2).
  void OnClick(size_t click, Notifier& out);

 private:
  SimReply Change(const SimRequest& r, const std::string& rest, const json::Value& body);
  // GET …/{conversation}/members: the team's roster.
  SimReply Members(const std::string& rest);
  // POST v3/conversations with isGroup false: the personal chat with one person.
  SimReply Personal(const json::Value& body);
  // POST …/a:…/activities: a message in a personal chat.
  SimReply InPersonal(const std::string& rest, const json::Value& body);
  // The fields every activity from a person in their personal chat with the bot carries.
  void BeginPersonalActivity(json::Writer& w, const std::string& type, const std::string& id,
                             Time at, const Person& from, const std::string& chat);
  // The fields every activity from a person in a channel thread carries.
  void BeginActivity(json::Writer& w, const std::string& type, const std::string& id, Time at,
                     const Person& from, const Community& channel, const Msg& root,
                     const std::string* card = nullptr);
  // Signs and queues a finished activity for the bot's endpoint.
  void Deliver(std::string body, Notifier& out);
  std::optional<SimReply> Throttle(const std::string& thread);
  World& world_;
  Identity& identity_;
  std::map<std::string, std::deque<Time>> sent_;  // per thread, the last hour
  JwtSigner signer_;
  std::string endpoint_, service_url_, host_;
  bool all_messages_ = false;
};

}  // namespace learnloop::sim
