#pragma once
// Microsoft Graph chatMessage pages (reference §2.5, §2.6, §2.8) into core events. Teams
// message ids are unique only within a channel, so a message's native id is
// "<channel id>/<message id>"; users are their Entra object ids, the bot its app id.
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace learnloop::connectors::teams {

struct ParsedMessage {
  Message message;
  std::vector<Reaction> reactions;          // the complete current set
  std::optional<std::string> replies_next;  // more replies than came inline: follow this link
};

struct MessagePage {
  std::vector<ParsedMessage> messages;  // roots and, when expanded, their replies
  std::optional<std::string> next_link;
  std::optional<std::string> delta_link;
};

// `network` is the id prefix; system messages and unknown message types are left out.
Result<MessagePage> ParseMessagePage(const std::string& body, const std::string& network,
                                     const std::string& channel_id);
// One chatMessage object (a single message, or a reply created through the API).
Result<ParsedMessage> ParseOneMessage(const std::string& body, const std::string& network,
                                      const std::string& channel_id);

std::string MessageNativeId(const std::string& channel_id, const std::string& message_id);
// The Graph message id inside a native id ("<channel>/<message>" → "<message>").
std::string GraphMessageId(const std::string& native_id);

// Plain text of a chatMessage body: tags dropped, the common entities decoded.
std::string TextOfHtml(const std::string& html);

}  // namespace learnloop::connectors::teams
