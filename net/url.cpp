#include "net/url.h"

#include <cpprest/uri.h>

#include <algorithm>

namespace learnloop::net {

std::string UrlDecode(const std::string& s, bool plus_is_space) {
  std::string text = s;
  if (plus_is_space) std::replace(text.begin(), text.end(), '+', ' ');
  try {
    return web::uri::decode(text);
  } catch (const std::exception&) {
    return text;
  }
}

std::string UrlEncode(const std::string& s) { return web::uri::encode_data_string(s); }

std::string PathEncode(const std::string& path) {
  return web::uri::encode_uri(path, web::uri::components::path);
}

std::map<std::string, std::string> ParseForm(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    std::string part = body.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      out[UrlDecode(part.substr(0, eq), true)] =
          eq == std::string::npos ? "" : UrlDecode(part.substr(eq + 1), true);
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

}  // namespace learnloop::net
