#pragma once
// How close learnloop's connectors come to the ESNs' documented rate ceilings without crossing
// them: a backfill against esn-sim, measured in simulated time from the simulator's counters;
// and whether what was read is what esn-sim holds (every message and like, no more).
#include <string>

namespace learnloop::bench {

struct ApiFigures {
  std::string network;          // yammer | teams
  int64_t messages = 0;         // messages (and replies) ingested
  int64_t requests = 0;         // message requests made (the bucket that limits a backfill)
  int64_t budget_requests = 0;  // every request drawing from that budget (Teams: subscriptions)
  int64_t minimum = 0;          // fewest requests the page sizes allow
  double seconds = 0;           // simulated time the backfill took
  double ceiling_rps = 0;       // the documented request ceiling for this backfill
  double window_seconds = 0;    // the window that ceiling is counted over
  int64_t violations = 0;       // rate-limit violations counted by the simulator
  int64_t throttled = 0;        // 429s served
  // After the backfill and a sync until caught up (and, for Teams, an hour of pushes), as
  // `learnloop sync` leaves a store: messages and likes (reactions) esn-sim shows, those
  // stored, and how many of the former the store lacks or of the latter esn-sim has not.
  int64_t truth_messages = 0, stored_messages = 0, truth_likes = 0, stored_likes = 0;
  int64_t missing = 0, extra = 0;
  std::string error;  // why the run failed, if it did
};

// Backfills `days` of history of an organisation of `people` (Yammer: every community;
// Teams: every channel of every team) with the daemon on a manual clock.
ApiFigures MeasureYammer(int people, int days, uint64_t seed);
ApiFigures MeasureTeams(int people, int days, uint64_t seed);

}  // namespace learnloop::bench
