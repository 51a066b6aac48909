#include "connectors/common/mentions.h"

#include <cctype>

namespace learnloop::connectors {

namespace {
const char* const kOpen = "{{mention:";
}

std::string MentionToken(const std::string& native_id, const std::string& name) {
  std::string clean;  // a name never closes the token early
  for (char c : name)
    if (c != '|' && c != '}' && c != '{') clean += c;
  return kOpen + native_id + "|" + clean + "}}";
}

std::string RenderMentions(const std::string& body,
                           const std::function<std::string(const MentionRef&)>& render,
                           std::vector<MentionRef>* refs) {
  std::string out;
  size_t at = 0;
  for (;;) {
    size_t open = body.find(kOpen, at);
    size_t close = open == std::string::npos ? open : body.find("}}", open);
    if (close == std::string::npos) {
      out += body.substr(at);
      return out;
    }
    std::string inner = body.substr(open + 10, close - open - 10);
    size_t bar = inner.find('|');
    MentionRef ref{inner.substr(0, bar), bar == std::string::npos ? "" : inner.substr(bar + 1)};
    out += body.substr(at, open - at) + render(ref);
    if (refs) refs->push_back(ref);
    at = close + 2;
  }
}

std::string EscapeHtml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string TextKey(const std::string& text) {
  std::string out;
  bool in_tag = false;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (in_tag) {
      in_tag = c != '>';
    } else if (c == '<') {
      in_tag = true;
    } else if (u >= 0x80) {
      out += c;  // a byte of a non-ASCII character: kept
    } else if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
    }
  }
  return out;
}

std::string CapText(std::string text) {
  constexpr size_t kMax = 1 << 20;
  if (text.size() <= kMax) return text;
  size_t total = text.size(), cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  text += "\n[truncated by learnloop: " + std::to_string(total) + " bytes in all]";
  return text;
}

}  // namespace learnloop::connectors
