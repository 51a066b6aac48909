#pragma once
// The domain model, shared by every module. Ids are "<network>:<native id>" (METRICS.md §1).
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"

namespace learnloop {

inline std::string MakeId(const std::string& network, const std::string& native) {
  return network + ":" + native;
}
// The part after the first ':' ("" when there is none).
inline std::string NativeId(const std::string& id) {
  auto p = id.find(':');
  return p == std::string::npos ? "" : id.substr(p + 1);
}

// The native id of the group that holds a network's private conversations with the bot (a
// Viva Engage private message, a Teams personal chat): not a community; its messages are not
// exported and never count (METRICS.md §1).
inline const char* const kPrivateGroup = "direct";
inline bool IsPrivateGroup(const std::string& group_id) {
  return NativeId(group_id) == kPrivateGroup;
}

struct User {
  std::string id, network, name;
  std::optional<std::string> email, department;
  std::string state = "active";  // active | suspended | deleted
  bool is_bot = false;
  std::optional<Time> joined_at;
};

struct Group {
  std::string id, network, name;
  std::string kind = "community";  // community | channel
  std::vector<std::string> members;
  // False when the ESN would not say who the members are (a refused directory call): the
  // members stored before are kept.
  bool members_known = true;
};

struct Message {
  std::string id, network;
  std::optional<std::string> group_id;
  std::string thread_id;
  std::optional<std::string> reply_to_id;
  std::string author_id;
  Time created_at{};
  std::optional<Time> edited_at;
  bool deleted = false;
  std::string text;
  std::vector<std::string> mentions;
  std::string kind = "post";  // post | reply
};

struct Reaction {
  std::string message_id, user_id;
  std::string kind = "like";
  std::optional<Time> created_at;
};

// A press of an Adaptive Card button (Teams, Action.Submit or Action.Execute): an answer that
// is not a channel message.
struct CardAction {
  std::string id;  // "<network>:<activity id>"
  std::string network;
  std::string message_id;  // the card's message
  std::string user_id;
  std::string value;  // the button's data, JSON text
  Time at{};
};

struct Prompt {
  std::string id, campaign;
  int step = 0;
  std::string network, group_id, message_id;
  std::string type = "free_text";  // free_text | choice | poll | rating
  Time posted_at{};
  std::optional<Time> closes_at;
  std::optional<std::string> correct;
  // Who the prompt was addressed to (user ids) when it names people — a cohort's day, a
  // spaced-repetition round; empty: the members of its group.
  std::vector<std::string> audience;
  // Its campaign's last step when the campaign is a sequence that ends there (not one that
  // repeats, nor a spaced pool or days after joining).
  std::optional<int> last_step;
  bool spaced = false;      // a question of a spaced-repetition round
  bool is_private = false;  // sent to its one person privately, not posted in its group
};

struct Answer {
  std::string prompt_id, user_id, message_id;
  Time answered_at{};
  std::optional<std::string> choice;
  std::optional<bool> correct;
  int points = 0;
};

}  // namespace learnloop
