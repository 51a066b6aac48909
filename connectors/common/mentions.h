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

// A message's text as stored: at most 1 MiB (cut at a character's boundary, with a note saying
// so); a larger field is an ESN's mistake or an attack, not something a report needs.
std::string CapText(std::string text);

// `text` safe inside HTML: &, <, > and " as entities (Teams reads a message's text as HTML).
std::string EscapeHtml(const std::string& text);

// What is left of a text to compare one we posted with the ESN's copy of it: markup (<…>)
// dropped, letters and digits only (ASCII in lower case, other characters as they are). The
// ESN may format, wrap or re-encode what we sent; the words stay.
std::string TextKey(const std::string& text);

}  // namespace learnloop::connectors
