#pragma once
// Slack Web API answers (reference §4) as the domain model. A message is (channel, ts): its
// native id is "<channel>/<ts>", its thread the parent's "<channel>/<thread_ts>".
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/model.h"
#include "core/result.h"

namespace learnloop::connectors::slack {

// "1512085950.000216" (seconds and a sequence of microseconds) as a time.
std::optional<Time> ParseTs(const std::string& ts);
std::string MessageNativeId(const std::string& channel, const std::string& ts);
// The channel and ts of a native message id.
std::pair<std::string, std::string> SplitNativeId(const std::string& native_id);

// A method's answer: HTTP 200 with {"ok": true, …}, or its error code as the message, with a
// code the daemon acts on: 401 for a token Slack refuses, 404 for what is not there, 403 for
// what the bot may not see, 429 for `ratelimited`, 400 otherwise.
Result<json::Value> ParseAnswer(const std::string& body);
// response_metadata.next_cursor ("" at the end).
std::string NextCursor(const json::Value& answer);

struct MessagePage {
  std::vector<Message> messages;
  // Every message's reactions (of every kind), by message id.
  std::vector<std::pair<std::string, std::vector<Reaction>>> reactions;
  // Parents with replies: their ts and their latest reply's ts.
  std::vector<std::pair<std::string, std::string>> threads;
  std::string next_cursor;
};
// conversations.history / conversations.replies of `channel`.
Result<MessagePage> ParseMessages(const std::string& body, const std::string& network,
                                  const std::string& channel);

struct UserPage {
  std::vector<User> users;
  std::string next_cursor;
};
Result<UserPage> ParseUsers(const std::string& body, const std::string& network);

struct Channel {
  std::string id, name;
  bool is_member = false, is_archived = false;
};
struct ChannelPage {
  std::vector<Channel> channels;
  std::string next_cursor;
};
Result<ChannelPage> ParseChannels(const std::string& body);

// The user ids of `<@U123>` (or `<@U123|name>`) in a message's text, each once.
std::vector<std::string> Mentions(const std::string& text);

}  // namespace learnloop::connectors::slack
