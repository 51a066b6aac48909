#include "connectors/teams/graph_parse.h"

#include "connectors/common/mentions.h"
#include "core/json.h"

namespace learnloop::connectors::teams {

namespace {

std::optional<std::string> UserIdOf(const json::Value& identity_set) {
  // from / mentioned / reaction.user: {"user": {"id"}} or {"application": {"id"}}.
  if (const json::Value* u = json::Find(identity_set, "user"))
    if (auto id = json::GetString(*u, "id"); id && !id->empty()) return id;
  if (const json::Value* a = json::Find(identity_set, "application"))
    if (auto id = json::GetString(*a, "id"); id && !id->empty()) return id;
  return std::nullopt;
}

std::optional<Time> TimeOf(const json::Value& obj, const char* key) {
  auto s = json::GetString(obj, key);
  return s ? ParseIso(*s) : std::nullopt;
}

Result<ParsedMessage> Convert(const json::Value& v, const std::string& network,
                              const std::string& channel_id) {
  ParsedMessage out;
  Message& m = out.message;
  auto id = json::GetString(v, "id");
  auto created = TimeOf(v, "createdDateTime");
  if (!id || !created) return Result<ParsedMessage>::Fail("a chatMessage without id or time");
  std::string type = json::GetString(v, "messageType").value_or("message");
  if (type != "message") return Result<ParsedMessage>::Fail("skip: " + type);
  const json::Value* from = json::Find(v, "from");
  auto author = from ? UserIdOf(*from) : std::nullopt;
  if (!author) return Result<ParsedMessage>::Fail("skip: no author");
  m.network = network;
  m.id = MakeId(network, MessageNativeId(channel_id, *id));
  auto reply_to = json::GetString(v, "replyToId");
  m.thread_id = MakeId(network, MessageNativeId(channel_id, reply_to.value_or(*id)));
  if (reply_to) m.reply_to_id = m.thread_id;
  m.kind = reply_to ? "reply" : "post";
  m.group_id = MakeId(network, channel_id);
  m.author_id = MakeId(network, *author);
  m.created_at = *created;
  m.edited_at = TimeOf(v, "lastEditedDateTime");
  m.deleted = json::Find(v, "deletedDateTime") != nullptr;
  if (const json::Value* body = json::Find(v, "body")) {
    std::string content = json::GetString(*body, "content").value_or("");
    // (Capped: a body of many megabytes is kept truncated, with a note.)
    m.text = CapText(json::GetString(*body, "contentType").value_or("text") == "html"
                         ? TextOfHtml(content)
                         : content);
  }
  if (const json::Value* mentions = json::Find(v, "mentions"); mentions && mentions->is_array())
    for (const auto& x : mentions->as_array())
      if (const json::Value* who = json::Find(x, "mentioned"))
        if (auto uid = UserIdOf(*who)) m.mentions.push_back(MakeId(network, *uid));
  if (const json::Value* rs = json::Find(v, "reactions"); rs && rs->is_array())
    for (const auto& x : rs->as_array()) {
      const json::Value* who = json::Find(x, "user");
      auto uid = who ? UserIdOf(*who) : std::nullopt;
      if (!uid) continue;
      Reaction r;
      r.message_id = m.id;
      r.user_id = MakeId(network, *uid);
      // A custom reaction is told apart by its name (or image): one person may give several.
      r.kind = json::GetString(x, "reactionType").value_or("like");
      if (r.kind == "custom") {
        std::string which = json::GetString(x, "displayName").value_or("");
        if (which.empty()) which = json::GetString(x, "reactionContentUrl").value_or("");
        if (!which.empty()) r.kind += ":" + which;
      }
      r.created_at = TimeOf(x, "createdDateTime");
      out.reactions.push_back(std::move(r));
    }
  if (auto next = json::GetString(v, "replies@odata.nextLink")) out.replies_next = next;
  return out;
}

void Collect(const json::Value& v, const std::string& network, const std::string& channel_id,
             std::vector<ParsedMessage>& out) {
  auto one = Convert(v, network, channel_id);
  if (one.ok()) out.push_back(std::move(*one));
  if (const json::Value* replies = json::Find(v, "replies"); replies && replies->is_array())
    for (const auto& r : replies->as_array()) Collect(r, network, channel_id, out);
}

}  // namespace

std::string MessageNativeId(const std::string& channel_id, const std::string& message_id) {
  return channel_id + "/" + message_id;
}

std::string GraphMessageId(const std::string& native_id) {
  auto slash = native_id.rfind('/');
  return slash == std::string::npos ? native_id : native_id.substr(slash + 1);
}

std::string TextOfHtml(const std::string& html) {
  std::string out;
  bool in_tag = false;
  for (size_t i = 0; i < html.size(); ++i) {
    char c = html[i];
    if (in_tag) {
      in_tag = c != '>';
      continue;
    }
    if (c == '<') {
      // Block ends become spaces so that words of two paragraphs do not run together.
      if (!out.empty() && out.back() != ' ' &&
          (html.compare(i, 3, "<br") == 0 || html.compare(i, 3, "</p") == 0 ||
           html.compare(i, 4, "</di") == 0))
        out.push_back(' ');
      in_tag = true;
      continue;
    }
    if (c == '&') {
      static const std::pair<const char*, char> kEntities[] = {{"&amp;", '&'},  {"&lt;", '<'},
                                                               {"&gt;", '>'},   {"&quot;", '"'},
                                                               {"&#39;", '\''}, {"&nbsp;", ' '}};
      bool done = false;
      for (auto [name, ch] : kEntities)
        if (html.compare(i, std::char_traits<char>::length(name), name) == 0) {
          out.push_back(ch);
          i += std::char_traits<char>::length(name) - 1;
          done = true;
          break;
        }
      if (done) continue;
    }
    out.push_back(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

Result<MessagePage> ParseMessagePage(const std::string& body, const std::string& network,
                                     const std::string& channel_id) {
  auto v = json::Parse(body);
  if (!v.ok() || !v->is_object()) return Result<MessagePage>::Fail("not a JSON object");
  const json::Value* value = json::Find(*v, "value");
  if (!value || !value->is_array()) return Result<MessagePage>::Fail("no 'value' array");
  MessagePage page;
  for (const auto& m : value->as_array()) Collect(m, network, channel_id, page.messages);
  page.next_link = json::GetString(*v, "@odata.nextLink");
  page.delta_link = json::GetString(*v, "@odata.deltaLink");
  return page;
}

Result<ParsedMessage> ParseOneMessage(const std::string& body, const std::string& network,
                                      const std::string& channel_id) {
  auto v = json::Parse(body);
  if (!v.ok() || !v->is_object()) return Result<ParsedMessage>::Fail("not a JSON object");
  return Convert(*v, network, channel_id);
}

}  // namespace learnloop::connectors::teams
