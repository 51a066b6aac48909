#pragma once
// Turns Yammer REST v1 payloads into core events. Tolerant: unknown fields are ignored, ids may
// be numbers or strings, optional fields may be missing; system messages are skipped.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace learnloop::connectors::yammer {

// The group of messages posted to "All Company": they carry no group_id (reference §1.4.4) and
// are kept in a group of their own, "<network>:all-company".
inline constexpr const char* kAllCompany = "all-company";

// A liker named in liked_by.names without a user_id (old data), whom the page's references do
// not name by permalink: found by permalink or name in the directory. `by_name` is who the
// references call by that full name (only one person there), for when the directory cannot
// tell.
struct LikerRef {
  std::string full_name, permalink;
  std::optional<std::string> by_name;
};

struct Likes {
  std::string message_id;
  std::vector<Reaction> reactions;
  std::vector<LikerRef> unresolved;  // names the page's references did not identify
};

// The largest message id used for paging and cursors (2^53: the service's ids are numbers a
// JavaScript client reads exactly).
constexpr int64_t kMaxCursorId = int64_t{1} << 53;

struct MessagePage {
  std::vector<Message> messages;  // system messages left out
  std::vector<Likes> likes;       // one entry per message that carried liked_by
  // Every message of the page, system ones too (for paging), whose id is at most kMaxCursorId.
  std::vector<int64_t> native_ids;
  std::optional<bool> older_available;
  std::optional<std::string> sender_of_first;  // native sender id of messages[0] (posting)
  std::vector<std::string> native_senders;     // parallel to messages: native sender ids
  // Native ids and names of the groups the page's references describe.
  std::vector<std::pair<std::string, std::string>> groups;
  int64_t MinId() const;
  int64_t MaxId() const;
};

Result<MessagePage> ParseMessagePage(const std::string& body, const std::string& network);
Result<User> ParseUserBody(const std::string& body, const std::string& network);
// users.json answers an array; users/in_group answers {"users":[…],"more_available":bool}.
struct UserPage {
  std::vector<User> users;
  std::vector<std::string> permalinks;  // parallel to users ("" when not given)
  std::optional<bool> more_available;
};
Result<UserPage> ParseUserPage(const std::string& body, const std::string& network);
struct GroupInfo {
  std::string native_id, name;
};
Result<std::vector<GroupInfo>> ParseGroups(const std::string& body);  // array or one object

// "[[user:123]]" tokens of body.parsed → native user ids, each once.
std::vector<std::string> MentionsFromParsed(const std::string& parsed);

}  // namespace learnloop::connectors::yammer
