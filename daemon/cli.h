#pragma once
namespace learnloop::daemon {
// The `learnloop` command line. Returns the exit code: 0 done, 1 failed, 2 bad usage or config.
int Main(int argc, char** argv);
}  // namespace learnloop::daemon
