#pragma once
#include <string>

namespace learnloop::daemon {

struct DemoOptions {
  int weeks = 4;
  int people = 300;
  uint64_t seed = 7;
  std::string out_dir = "out/demo";
  std::string config_file;  // empty: the built-in demo configuration
};

// Starts esn-sim, runs the daemon against it on simulated time, writes each week's report and
// prints a summary. Returns the exit code.
int RunDemo(const DemoOptions& o);

}  // namespace learnloop::daemon
