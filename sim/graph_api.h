#pragma once
// Microsoft Graph for Teams channel messages (reference §2): teams, channels, members, users,
// channel messages, replies and delta rounds, with Graph's throttles and error envelope.
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>

#include "core/json.h"
#include "sim/http_server.h"
#include "sim/identity.h"
#include "sim/world.h"

namespace learnloop::sim {

struct GraphOptions {
  int message_rps = 20;           // GET channel message, per app per tenant (§2.10)
  int channel_rps = 4;            // any request, per app per team or channel
  int other_rps = 30;             // other GET Teams calls
  double retry_after_rate = 0.5;  // share of 429s that carry Retry-After (the real one forgets)
  // Whether a new reply (or a reaction on one) brings its root back into the next delta round;
  // the reference does not know (§2.6 [U]): off by default, the harder case for a reader.
  bool replies_bring_root = false;
  // Teams whose member list answers 403 (a missing permission), by team id.
  std::set<std::string> members_forbidden;
};

class GraphApi {
 public:
  GraphApi(World& world, Identity& identity, GraphOptions o, uint64_t seed)
      : world_(world), identity_(identity), opt_(o), rng_(seed) {}
  // Paths under /v1.0/.
  SimReply Handle(const SimRequest& r);
  GraphOptions& options() { return opt_; }

 private:
  SimReply Messages(const SimRequest& r, const Community& c, const std::string& base);
  SimReply Delta(const SimRequest& r, const Community& c, const std::string& base);
  SimReply Replies(const SimRequest& r, const Community& c, const Msg& root,
                   const std::string& base);
  SimReply Users(const SimRequest& r, const std::string& base);
  SimReply NewestFirst(const SimRequest& r, const Community& c, const std::vector<size_t>& source,
                       int64_t scope, const std::function<bool(size_t)>& keep,
                       const std::string& context, const std::string& base, bool expand);
  std::optional<SimReply> Throttle(const std::string& bucket, int limit);
  void WriteMessage(json::Writer& w, const Msg& m, const Community& c, bool with_replies);
  // The change sequence a delta round orders a root by: its own, or its thread's.
  uint64_t SeqOf(const Msg& root) const {
    return opt_.replies_bring_root ? root.thread_seq : root.change_seq;
  }

  World& world_;
  Identity& identity_;
  GraphOptions opt_;
  std::mt19937_64 rng_;
  std::map<std::string, std::deque<Time>> windows_;
  std::map<std::string, Time> blocked_until_;
};

}  // namespace learnloop::sim
