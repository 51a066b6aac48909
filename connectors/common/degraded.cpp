#include "connectors/common/degraded.h"

#include "core/log.h"

namespace learnloop::connectors {

void Degradations::Note(const std::string& what, const std::string& why) {
  bool fresh = by_what_.insert_or_assign(what, why).second;
  if (fresh) Logger(log_name_)->warn("{}", why);
}

std::vector<std::string> Degradations::List() const {
  std::vector<std::string> out;
  for (const auto& [what, why] : by_what_) out.push_back(why);
  return out;
}

}  // namespace learnloop::connectors
