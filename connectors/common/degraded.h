#pragma once
// What works only in part in a connector (a directory call refused, say): each thing said once,
// at warn, when it first goes wrong, and forgotten when it works again.
#include <map>
#include <string>
#include <vector>

namespace learnloop::connectors {

class Degradations {
 public:
  explicit Degradations(std::string log_name) : log_name_(std::move(log_name)) {}
  // `what` names the thing (one sentence each); `why` is the sentence shown.
  void Note(const std::string& what, const std::string& why);
  void Clear(const std::string& what) { by_what_.erase(what); }
  std::vector<std::string> List() const;

 private:
  std::string log_name_;
  std::map<std::string, std::string> by_what_;
};

}  // namespace learnloop::connectors
