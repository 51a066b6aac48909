#pragma once
// A synthetic organisation written in the exchange format of docs/metrics.md §1, for the
// benchmarks: heavy-tailed activity, about two replies per post, reactions with and without
// times, mentions, deletions, bots, prompts and their answers. The same options and seed give
// the same files.
//
// Two shapes: one Viva Engage network (numeric ids), or two networks as a company that runs
// both has them: two fifths of the people and channels on Teams (Entra GUIDs for people,
// `19:…@thread.tacv2` channel ids with colons, `<channel>/<ms epoch>` message ids, replies to
// the channel post only, emoji reactions), the heavier participation tail of real ESNs (the top
// 1 % of people write over half of the messages) and reactions mostly without times.
#include <cstdint>
#include <string>

#include "core/result.h"
#include "core/time.h"

namespace learnloop::bench {

struct GenOptions {
  int people = 1000;
  int groups = 0;  // 0: one per 100 people, at least 8
  int weeks = 52;
  uint64_t seed = 1;
  Time start{};  // a Monday 00:00 UTC; default: 2025-11-24 (--start)
  bool two_networks = false;
};

struct GenCounts {
  int64_t users = 0, groups = 0, messages = 0, reactions = 0, prompts = 0, answers = 0;
  double top_percent_share = 0;  // of the messages, those written by the top 1 % of people
};

Result<GenCounts> Generate(const GenOptions& o, const std::string& dir);

}  // namespace learnloop::bench
