#pragma once
// Mentions in what the bot posts: the bot writes "{{mention:<native user id>|<name>}}" and each
// connector renders it as its ESN shows a mention.
#include <functional>
#include <string>
#include <vector>

namespace learnloop::connectors {

struct MentionRef {
  std::string native_id, name;
};

std::string MentionToken(const std::string& native_id, const std::string& name);

// `body` with every mention token replaced by render(ref); the refs in order into `refs`.
std::string RenderMentions(const std::string& body,
                           const std::function<std::string(const MentionRef&)>& render,
                           std::vector<MentionRef>* refs = nullptr);

}  // namespace learnloop::connectors
