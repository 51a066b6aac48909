#include "bot/answers.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

namespace learnloop::bot {

namespace {

// Lower case ASCII; markup and mentions (Yammer [[user:1]], Teams <at>…</at>, @Name) dropped;
// everything that is not a letter, a digit or ASCII punctuation becomes a space.
std::string Normalize(std::string_view in) {
  std::string s(in);
  static const std::regex user_ref(R"(\[\[user:\d+\]\])"), at_tag(R"(<at>[^<]*</at>)"),
      tag(R"(<[^>]*>)"), handle(R"((^|\s)@\w+)");
  s = std::regex_replace(s, user_ref, " ");
  s = std::regex_replace(s, at_tag, " ");
  s = std::regex_replace(s, tag, " ");
  s = std::regex_replace(s, handle, " ");
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x80 || std::isspace(c))
      out += ' ';
    else
      out += static_cast<char>(std::tolower(c));
  }
  // One space between words, none at the ends.
  std::string squeezed;
  for (char c : out)
    if (c != ' ' || (!squeezed.empty() && squeezed.back() != ' ')) squeezed += c;
  while (!squeezed.empty() && squeezed.back() == ' ') squeezed.pop_back();
  return squeezed;
}

std::optional<int> LetterIndex(const std::string& token, size_t n) {
  if (token.size() == 1 && token[0] >= 'a' && token[0] < static_cast<char>('a' + n))
    return token[0] - 'a';
  if (!token.empty() && std::all_of(token.begin(), token.end(), ::isdigit) && token.size() < 3) {
    int v = std::stoi(token);
    if (v >= 1 && static_cast<size_t>(v) <= n) return v - 1;
  }
  return std::nullopt;
}

}  // namespace

std::string OptionLabel(int i) { return std::string(1, static_cast<char>('A' + i)); }

std::optional<int> ParseChoice(std::string_view reply, const std::vector<std::string>& options) {
  const size_t n = options.size();
  if (n == 0 || n > 26) return std::nullopt;
  std::string s = Normalize(reply);
  if (s.empty()) return std::nullopt;
  // Options that are numbers themselves ("5", "10", "15"): a number names the option with
  // that text, not the option at that position.
  bool numeric = std::all_of(options.begin(), options.end(), [](const std::string& o) {
    std::string t = Normalize(o);
    return !t.empty() && std::all_of(t.begin(), t.end(), ::isdigit);
  });
  if (numeric) {
    std::set<int> hits;
    static const std::regex num(R"((^|[^\d])(\d+)(?=$|[^\d]))");
    for (auto it = std::sregex_iterator(s.begin(), s.end(), num); it != std::sregex_iterator();
         ++it)
      for (size_t i = 0; i < n; ++i)
        if (Normalize(options[i]) == std::string((*it)[2])) hits.insert(static_cast<int>(i));
    if (hits.size() == 1) return *hits.begin();
    if (hits.size() > 1) return std::nullopt;
  }
  std::set<int> named;
  std::smatch m;
  // The reply is a label alone: "B", "b)", "(b).", "2".
  static const std::regex alone(R"(^\(?([a-z]|\d{1,2})\s*[\)\.\:\!]*$)");
  if (std::regex_match(s, m, alone)) {
    if (numeric && std::isdigit(static_cast<unsigned char>(std::string(m[1])[0])))
      return std::nullopt;
    if (auto i = LetterIndex(m[1], n)) return i;
  }
  // It starts with a label and punctuation: "b) because…", "B. …", "(c) …", "a: …", "d - …".
  static const std::regex leading(R"(^\(?([a-z])\s*(\)|\.|:|-|,|;)\s*)");
  if (std::regex_search(s, m, leading))
    if (auto i = LetterIndex(m[1], n)) named.insert(*i);
  // It starts with a lone letter and a word: "b because…" (not "a", "i": English words).
  static const std::regex lone(R"(^([b-hj-z])\s+\S)");
  if (named.empty() && std::regex_search(s, m, lone))
    if (auto i = LetterIndex(m[1], n)) named.insert(*i);
  // Said in words: "option b", "answer: c", "my answer is b", "I'd go with (d)"; a second
  // letter ("b or c") makes the reply name two.
  static const std::regex said(
      R"((?:^|\s)(?:option|answer|choice|antwort|is|it's|its|say|pick|choose|chose|with|guess|think|or|and|maybe)\s*(?:is\s*)?[\:\-]?\s*\(?([a-z]|\d{1,2})\)?(?=$|[\s\.\,\!\?\)\:;]))");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), said); it != std::sregex_iterator();
       ++it) {
    std::string token = (*it)[1];
    if (token == "a" || token == "i") {
      // "it is a …" is English; "is a." or "is a" at the end is a choice.
      size_t end = static_cast<size_t>(it->position(1) + it->length(1));
      bool closes = end >= s.size() || s[end] == '.' || s[end] == ')' || s[end] == '!' ||
                    s[end] == ',' || s[end] == ';' || s[end] == ':';
      std::string head = (*it)[0];
      bool keyword = head.find("option") != std::string::npos ||
                     head.find("answer") != std::string::npos ||
                     head.find("choice") != std::string::npos;
      if (!closes && !keyword) continue;
    }
    if (auto i = LetterIndex(token, n)) named.insert(*i);
  }
  if (named.size() == 1) return *named.begin();
  if (named.size() > 1) return std::nullopt;
  // The option's own words, when exactly one option's text is in the reply (the longest
  // wins when one option's text contains another's).
  std::vector<std::pair<size_t, int>> found;  // (length, index)
  for (size_t i = 0; i < n; ++i) {
    std::string o = Normalize(options[i]);
    while (!o.empty() && (o.back() == '.' || o.back() == '!' || o.back() == '?')) o.pop_back();
    if (o.size() < 3) continue;
    size_t at = s.find(o);
    auto boundary = [&](size_t p) { return p >= s.size() || !std::isalnum((unsigned char)s[p]); };
    if (at != std::string::npos && (at == 0 || boundary(at - 1)) && boundary(at + o.size()))
      found.push_back({o.size(), static_cast<int>(i)});
  }
  if (found.empty()) return std::nullopt;
  std::sort(found.rbegin(), found.rend());
  if (found.size() > 1) {
    // Two options named: only when the shorter is part of the longer is it one answer.
    std::string longest = Normalize(options[static_cast<size_t>(found[0].second)]);
    for (size_t k = 1; k < found.size(); ++k)
      if (longest.find(Normalize(options[static_cast<size_t>(found[k].second)])) ==
          std::string::npos)
        return std::nullopt;
  }
  return found[0].second;
}

std::optional<int> ParseRating(std::string_view reply, int max) {
  std::string raw(reply);
  // Stars: "★★★★" or "⭐⭐⭐".
  int stars = 0;
  for (const char* star : {"\xE2\x98\x85", "\xE2\xAD\x90"})
    for (size_t at = raw.find(star); at != std::string::npos; at = raw.find(star, at + 1)) ++stars;
  std::string s = Normalize(reply);
  std::set<int> numbers;
  static const std::regex number(R"((^|[^\d\.])(\d{1,2})(?=$|[^\d]))");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), number); it != std::sregex_iterator();
       ++it) {
    int v = std::stoi((*it)[2]);
    // "4/5", "4 out of 5", "4 of 5": the scale is not a second rating.
    size_t end = static_cast<size_t>(it->position(2) + it->length(2));
    std::string before = s.substr(0, static_cast<size_t>(it->position(2)));
    static const std::regex scale(R"((/|out of|of)\s*$)");
    bool is_scale = v == max && std::regex_search(before, scale);
    if (is_scale) continue;
    (void)end;
    numbers.insert(v);
  }
  if (numbers.empty() && stars >= 1 && stars <= max) return stars;
  if (numbers.size() != 1) return std::nullopt;
  int v = *numbers.begin();
  if (v < 1 || v > max) return std::nullopt;
  if (stars && stars != v) return std::nullopt;
  return v;
}

}  // namespace learnloop::bot
