// learnloop-bench-gen: writes a synthetic organisation in the exchange format (docs/metrics.md
// §1) for the benchmarks.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/dataset_gen.h"

int main(int argc, char** argv) {
  learnloop::bench::GenOptions o;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--people")
      o.people = std::atoi(next().c_str());
    else if (a == "--groups")
      o.groups = std::atoi(next().c_str());
    else if (a == "--weeks")
      o.weeks = std::atoi(next().c_str());
    else if (a == "--seed")
      o.seed = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--out")
      out = next();
    else if (a == "--start") {
      // A Monday: 1970-01-01 was a Thursday.
      auto t = learnloop::ParseIso(next() + "T00:00:00Z");
      auto days = t ? t->time_since_epoch().count() / 86400000 : 0;
      if (!t || (days + 3) % 7 != 0) {
        std::fprintf(stderr, "--start is a Monday, YYYY-MM-DD\n");
        return 2;
      }
      o.start = *t;
    } else if (a == "--shape") {
      std::string shape = next();
      if (shape != "one-network" && shape != "two-networks") {
        std::fprintf(stderr, "--shape is one-network or two-networks\n");
        return 2;
      }
      o.two_networks = shape == "two-networks";
    } else {
      std::fprintf(stderr,
                   "usage: learnloop-bench-gen --out DIR [--people N] [--groups G] [--weeks W] "
                   "[--seed S] [--shape one-network|two-networks] [--start MONDAY]\n");
      return 2;
    }
  }
  if (out.empty() || o.people < 1 || o.weeks < 1) {
    std::fprintf(stderr, "learnloop-bench-gen: --out DIR, --people >= 1 and --weeks >= 1\n");
    return 2;
  }
  auto n = learnloop::bench::Generate(o, out);
  if (!n.ok()) {
    std::fprintf(stderr, "learnloop-bench-gen: %s\n", n.error().message.c_str());
    return 1;
  }
  std::printf(
      "%lld users, %lld groups, %lld messages, %lld reactions, %lld prompts, %lld answers; "
      "the top 1 %% of people wrote %.0f %% of the messages\n",
      static_cast<long long>(n->users), static_cast<long long>(n->groups),
      static_cast<long long>(n->messages), static_cast<long long>(n->reactions),
      static_cast<long long>(n->prompts), static_cast<long long>(n->answers),
      100 * n->top_percent_share);
  return 0;
}
