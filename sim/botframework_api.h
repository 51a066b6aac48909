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
#include "sim/world.h"

namespace learnloop::sim {

class BotFrameworkApi {
 public:
  BotFrameworkApi(World& world, Identity& identity) : world_(world), identity_(identity) {}
  // Paths under /bf/ (the serviceUrl is http://127.0.0.1:PORT/bf/).
  SimReply Handle(const SimRequest& r);

 private:
  std::optional<SimReply> Throttle(const std::string& thread);
  World& world_;
  Identity& identity_;
  std::map<std::string, std::deque<Time>> sent_;  // per thread, the last hour
};

}  // namespace learnloop::sim
