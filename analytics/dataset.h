#pragma once
// A data set built by hand (tests); reports read the store as Columns::Load.
#include <set>
#include <string>
#include <vector>

#include "core/model.h"

namespace learnloop::analytics {

struct Dataset {
  std::vector<User> users;
  std::vector<Group> groups;
  std::vector<Message> messages;
  std::vector<Reaction> reactions;
  std::vector<Prompt> prompts;
  std::vector<Answer> answers;
  std::set<std::string> opted_out;  // user ids (`learnloop people opt-out`)
};

}  // namespace learnloop::analytics
