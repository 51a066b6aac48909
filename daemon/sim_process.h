#pragma once
// Starts esn-sim as a child process on a free loopback port (for the demo and the tests).
#include <sys/types.h>

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace learnloop::daemon {

class SimProcess {
 public:
  SimProcess() = default;
  ~SimProcess() { Stop(); }
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  // `binary` is the esn-sim executable; `args` are its options (the port is chosen here).
  Status Start(const std::string& binary, const std::vector<std::string>& args);
  void Stop();
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

// Makes the simulator's clock follow `clock`: each jump of the manual clock is sent to it, so
// the simulated organisation lives exactly as far as the daemon's time has gone.
void KeepInStep(ManualClock& clock, const SimProcess& sim);
// The same for a simulator at `base_url` (http://127.0.0.1:PORT).
void KeepInStep(ManualClock& clock, const std::string& base_url);
// The simulator's time now (GET /_sim/clock).
Result<Time> SimulatorNow(const std::string& base_url);

// The esn-sim next to the running executable (or $LEARNLOOP_ESN_SIM when set).
std::string FindSimBinary();

}  // namespace learnloop::daemon
