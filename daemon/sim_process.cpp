#include "daemon/sim_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "connectors/common/http.h"
#include "core/json.h"
#include "core/log.h"

namespace learnloop::daemon {

namespace fs = std::filesystem;

std::string FindSimBinary() {
  if (const char* env = std::getenv("LEARNLOOP_ESN_SIM"); env && *env) return env;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  for (const fs::path& candidate :
       {self.parent_path() / "esn-sim", self.parent_path().parent_path() / "sim" / "esn-sim"})
    if (fs::exists(candidate, ec)) return candidate.string();
  return "esn-sim";
}

Status SimProcess::Start(const std::string& binary, const std::vector<std::string>& args) {
  char tmpl[] = "/tmp/learnloop-sim-XXXXXX";
  if (!mkdtemp(tmpl)) return Status::Fail("cannot create a temporary folder");
  dir_ = tmpl;
  std::string port_file = dir_ + "/port";
  std::vector<std::string> argv_s{binary, "--port", "0", "--port-file", port_file};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::fflush(nullptr);  // the child must not write our buffered output a second time
  pid_ = fork();
  if (pid_ < 0) return Status::Fail("cannot start esn-sim: fork failed");
  if (pid_ == 0) {
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    // The simulator ends with its parent, even when the parent crashes.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    // Keep the simulator's own banner out of the caller's output.
    if (FILE* f = std::freopen("/dev/null", "w", stdout)) (void)f;
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  for (int i = 0; i < 300; ++i) {
    std::ifstream in(port_file);
    if (in >> port_ && port_ > 0) return Status::Ok();
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::Fail("esn-sim (" + binary + ") exited before listening");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Stop();
  return Status::Fail("esn-sim did not start listening within 15 s");
}

void SimProcess::Stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    dir_.clear();
  }
}

void KeepInStep(ManualClock& clock, const SimProcess& sim) { KeepInStep(clock, sim.base_url()); }

Result<Time> SimulatorNow(const std::string& base_url) {
  auto http = connectors::http::MakeClient(std::chrono::seconds{10});
  connectors::http::Request r;
  r.url = base_url + "/_sim/clock";
  auto res = http->Send(r);
  if (!res.ok()) return Result<Time>::Fail("esn-sim at " + base_url + ": " + res.error().message);
  auto v = json::Parse(res->body);
  auto t = v.ok() ? ParseIso(json::GetString(*v, "now").value_or("")) : std::nullopt;
  if (res->status != 200 || !t)
    return Result<Time>::Fail("esn-sim at " + base_url + " gave no time (GET /_sim/clock)");
  return *t;
}

void KeepInStep(ManualClock& clock, const std::string& base_url) {
  std::shared_ptr<connectors::http::Client> http =
      connectors::http::MakeClient(std::chrono::seconds{30});
  std::string url = base_url + "/_sim/clock";
  clock.SetOnAdvance([http, url](Time t) {
    connectors::http::Request r;
    r.method = "POST";
    r.url = url;
    r.body = "{\"now\":\"" + FormatIso(t) + "\"}";
    auto res = http->Send(r);
    if (!res.ok() || res->status != 200)
      Logger("sim")->error("cannot move the simulator's clock to {}", FormatIso(t));
  });
}

}  // namespace learnloop::daemon
