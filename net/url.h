#pragma once
// URL and form encoding (cpprestsdk behind these functions).
#include <map>
#include <string>

namespace learnloop::net {

std::string UrlEncode(const std::string& s);      // for a query value
std::string PathEncode(const std::string& path);  // for a path ("/" kept)

// Decodes application/x-www-form-urlencoded text.
std::map<std::string, std::string> ParseForm(const std::string& body);
// Decodes %XX escapes (and, for form data, + as a space); text that is not valid is kept as is.
std::string UrlDecode(const std::string& s, bool plus_is_space = false);

}  // namespace learnloop::net
