#include "bot/answers.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <initializer_list>
#include <regex>
#include <set>

namespace learnloop::bot {

namespace {

// What a reply says once what is not its own words is gone: lines quoting the prompt ("> …",
// <blockquote>), struck-out words (~~A~~, <s>, <del>: changed minds), mentions (Yammer
// [[user:1]], Teams <at>…</at>, @Name) and markup.
std::string OwnWords(std::string_view in) {
  std::string s(in);
  static const std::regex quote_block(R"(<blockquote[^>]*>[\s\S]*?</blockquote>)",
                                      std::regex::icase),
      struck(R"(~~[^~]*~~|<(s|del|strike)>[\s\S]*?</(s|del|strike)>)", std::regex::icase),
      user_ref(R"(\[\[user:\d+\]\])"), at_tag(R"(<at[^>]*>[^<]*</at>)"), tag(R"(<[^>]*>)"),
      handle(R"((^|\s)@\w+)");
  s = std::regex_replace(s, quote_block, " ");
  s = std::regex_replace(s, struck, " ");
  std::string kept;
  size_t start = 0;
  while (start <= s.size()) {  // lines quoting something ("> A) …") are not the answer
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    std::string line = s.substr(start, end - start);
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] != '>') kept += line + "\n";
    start = end + 1;
  }
  s = std::regex_replace(kept, user_ref, " ");
  s = std::regex_replace(s, at_tag, " ");
  s = std::regex_replace(s, tag, " ");
  s = std::regex_replace(s, handle, " ");
  return s;
}

// Lower case ASCII, one space between words, none at the ends; letters of other scripts as they
// are. Typographic marks become their ASCII kin ("’" an apostrophe, "…" dots); symbols and
// emoji (UTF-8 sequences led by E2, EF or F0, and C2's marks) separate words.
std::string Normalize(std::string_view in) {
  std::string s = OwnWords(in), out;
  for (const auto& [from, to] :
       std::initializer_list<std::pair<const char*, const char*>>{{"\xE2\x80\x99", "'"},
                                                                  {"\xE2\x80\x98", "'"},
                                                                  {"\xE2\x80\xA6", "..."},
                                                                  {"\xE2\x80\x93", "-"},
                                                                  {"\xE2\x80\x94", "-"}})
    for (size_t p; (p = s.find(from)) != std::string::npos;) s.replace(p, std::strlen(from), to);
  std::string plain;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (c == 0xE2 || c == 0xEF || c >= 0xF0 || c == 0xC2)
      plain += ' ';
    else
      plain.append(s, i, std::min(len, s.size() - i));
    i += len;
  }
  s.swap(plain);
  for (unsigned char c : s) {
    if (std::isspace(c)) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += static_cast<char>(c < 0x80 ? std::tolower(c) : c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

struct Token {
  std::string text;   // lower case
  bool word = false;  // letters or digits (else one mark of punctuation)
};

// Words (ASCII letters and digits, apostrophes inside, and the bytes of other letters) and
// marks. A word without an ASCII letter or digit (an emoji, ✅) says nothing: left out.
std::vector<Token> Tokenize(const std::string& s) {
  std::vector<Token> out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == ' ') {
      ++i;
      continue;
    }
    if (std::isalnum(c) || c >= 0x80) {
      std::string w;
      bool ascii = false;
      while (i < s.size()) {
        auto d = static_cast<unsigned char>(s[i]);
        bool apostrophe = (d == '\'') && !w.empty() && i + 1 < s.size() &&
                          std::isalpha(static_cast<unsigned char>(s[i + 1]));
        if (!(std::isalnum(d) || d >= 0x80 || apostrophe)) break;
        ascii |= std::isalnum(d) != 0;
        w += s[i++];
      }
      if (ascii) out.push_back({w, true});
      continue;
    }
    out.push_back({std::string(1, static_cast<char>(c)), false});
    ++i;
  }
  return out;
}

bool In(const std::set<std::string>& set, const std::string& w) { return set.count(w) > 0; }

// Words that go before an answer without being one: hedges, "I'd go for", "my vote:", and
// the same in French, German and Spanish.
const std::set<std::string>& Lead() {
  static const std::set<std::string> s = {
      // English
      "definitely", "def", "defo", "probably", "prob", "maybe", "perhaps", "surely", "clearly",
      "obviously", "certainly", "totally", "absolutely", "hmm", "hmmm", "hm", "um", "umm", "uh",
      "ok", "okay", "so", "well", "easy", "one", "i", "i'd", "id", "i'll", "i'm", "im", "think",
      "guess", "reckon", "believe", "say", "go", "going", "with", "for", "my", "vote", "votes",
      "answer", "answers", "is", "it's", "its", "it", "would", "be", "option", "choice", "pick",
      "picking", "choose", "choosing", "pretty", "sure", "has", "have", "to", "must", "gotta",
      "got", "final", "the", "correct", "right", "one's", "that's", "thats", "letter", "hey", "yes",
      "yeah", "yep", "oh", "ah", "then", "still", "also", "too", "am", "quite", "very", "but",
      "actually",
      // French
      "je", "dirais", "dis", "choisis", "choisirais", "vote", "voterais", "c'est", "cest", "la",
      "le", "réponse", "reponse", "plutôt", "plutot", "sûrement", "surement", "certainement",
      "peut-être", "bien", "sûr", "sur", "choix", "pour", "moi", "l'option", "ma", "mon", "opte",
      "pense", "que", "c'", "alors",
      // German
      "ich", "würde", "wuerde", "wurde", "nehme", "wähle", "waehle", "tippe", "auf", "definitiv",
      "eher", "vielleicht", "die", "das", "der", "antwort", "klar", "ist", "es", "meine",
      "wahrscheinlich", "bestimmt", "also", "sicher", "glaube", "denke", "mal", "hmm", "eindeutig",
      "sicherlich", "offensichtlich", "natürlich", "évidemment", "evidemment", "obviamente",
      "claramente", "definitivamente",
      // Spanish
      "creo", "diría", "diria", "elijo", "elegiría", "voto", "por", "respuesta", "opción", "opcion",
      "el", "sin", "duda", "seguro", "quizás", "quizas", "pues", "mi", "yo", "digo"};
  return s;
}

// Words that may follow an answer: "B for sure", "Ich würde B sagen", "B because …".
const std::set<std::string>& Trail() {
  static const std::set<std::string> s = {
      "for",     "all",  "definitely", "obviously", "clearly",    "surely",    "because",
      "since",   "as",   "cause",      "'cause",    "bc",         "coz",       "cos",
      "though",  "i",    "is",         "it",        "please",     "final",     "no",
      "without", "then", "probably",   "maybe",     "sagen",      "nehmen",    "wählen",
      "waehlen", "ist",  "weil",       "da",        "denn",       "natürlich", "sans",
      "parce",   "car",  "bien",       "sûr",       "évidemment", "porque",    "ya",
      "es",      "sin",  "claro",      "seguro",    "por",        "de",        "und",
      "here",    "too",  "again",      "right",     "correct",    "haha",      "lol"};
  return s;
}

// Negation before an option ("not B", "definitely not C", "nicht B", "pas B").
const std::set<std::string>& NegationBefore() {
  static const std::set<std::string> s = {"not",  "no",     "nicht", "kein",  "keine",  "pas",
                                          "non",  "ni",     "never", "nunca", "isn't",  "isnt",
                                          "nope", "except", "außer", "sauf",  "excepto"};
  return s;
}
// … and after it ("C is wrong", "B ist falsch").
const std::set<std::string>& NegationAfter() {
  static const std::set<std::string> s = {
      "wrong",      "incorrect",  "false", "falsch",  "faux",       "fausse", "falso",   "falsa",
      "incorrecto", "incorrecta", "nope",  "mistake", "irrelevant", "worst",  "unlikely"};
  return s;
}

// Letters that are also words (English "a", "I"; Spanish "y", "o", "e", "u"): an option only
// where nothing else can be meant.
bool WordLike(char c) {
  return c == 'a' || c == 'i' || c == 'y' || c == 'o' || c == 'e' || c == 'u';
}

// The option a token names as a label ("b" → 1), or nullopt. Digits name the option at that
// place only when the options are not numbers themselves.
std::optional<int> Label(const Token& t, size_t n, bool digits) {
  if (!t.word) return std::nullopt;
  if (t.text.size() == 1 && t.text[0] >= 'a' && t.text[0] < static_cast<char>('a' + n))
    return t.text[0] - 'a';
  if (digits && t.text.size() <= 2 &&
      std::all_of(t.text.begin(), t.text.end(), [](char c) { return std::isdigit(c); })) {
    int v = std::stoi(t.text);
    if (v >= 1 && static_cast<size_t>(v) <= n) return v - 1;
  }
  return std::nullopt;
}

// Every option the reply names by its label, and whether one of them is negated.
struct Named {
  std::set<int> options;
  bool negated = false;
};

Named NamedByLabel(const std::vector<Token>& t, size_t n, bool digits) {
  Named out;
  std::vector<size_t> words;  // token indexes of the words
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i].word) words.push_back(i);
  if (words.empty()) return out;
  auto word_at = [&](size_t w) -> const Token* {
    return w < words.size() ? &t[words[w]] : nullptr;
  };
  // The mark right after a word ("b)" → ")"), and the token after that.
  auto mark_after = [&](size_t w) -> std::string {
    size_t i = words[w] + 1;
    return i < t.size() && !t[i].word ? t[i].text : "";
  };
  auto token_after_mark = [&](size_t w) -> const Token* {
    size_t i = words[w] + 2;
    return i < t.size() ? &t[i] : nullptr;
  };
  // The first word that is not a lead-in ("Definitely", "I'd go for", "Ich würde", "Réponse :").
  size_t first = 0;
  while (first < words.size() && In(Lead(), t[words[first]].text) &&
         !Label(t[words[first]], n, false))
    ++first;
  // A lead-in that is a letter too ("I think B", "la B"): skipped when a label follows.
  while (first + 1 < words.size() && In(Lead(), t[words[first]].text) &&
         Label(t[words[first + 1]], n, digits))
    ++first;
  static const std::set<std::string> kJoin = {"or", "and", "oder", "und", "ou",
                                              "et", "o",   "y",    "vs",  "versus"};
  std::set<size_t> listed;  // labels joined by "or"/"and": "A or B", "b und c"
  for (size_t w = 0; w + 2 < words.size(); ++w)
    if (Label(t[words[w]], n, digits) && In(kJoin, t[words[w + 1]].text) &&
        Label(t[words[w + 2]], n, digits))
      listed.insert(w), listed.insert(w + 2);
  for (size_t w = 0; w < words.size(); ++w) {
    const Token& tok = t[words[w]];
    auto label = Label(tok, n, digits);
    if (!label) continue;
    std::string mark = mark_after(w);
    // "e.g.", "i.e.", "a.m.": an abbreviation, not a label; "b/c": because.
    if (const Token* after = token_after_mark(w);
        after && after->word && after->text.size() == 1 && (mark == "." || mark == "/"))
      continue;
    bool is_digit = std::isdigit(static_cast<unsigned char>(tok.text[0])) != 0;
    const Token* next = word_at(w + 1);
    const Token* prev = w > 0 ? word_at(w - 1) : nullptr;
    bool alone = words.size() == 1;
    bool label_mark = mark == ")" || mark == "." || mark == ":" || mark == "-" || mark == "!" ||
                      mark == "?" || mark == "," || mark == ";";
    bool at_end = !next;
    bool cue_before = prev && In(Lead(), prev->text);
    // "…, C" at the end: an answer after a comma or colon.
    size_t before = words[w] > 0 ? words[w] - 1 : std::string::npos;
    bool any_mark_before = before != std::string::npos && !t[before].word;
    bool mark_before = any_mark_before &&
                       (t[before].text == "," || t[before].text == ":" || t[before].text == "-");
    // A label compared or negated still names its option: "D rather than C", "B - not C".
    static const std::set<std::string> kCompared = {"than", "over", "vs", "versus", "instead"};
    bool named_against = prev && (In(kCompared, prev->text) || In(NegationBefore(), prev->text));
    static const std::set<std::string> kStrong = {
        "option", "answer",   "choice", "réponse", "reponse", "antwort", "respuesta", "opción",
        "opcion", "l'option", "la",     "die",     "letter",  "vote",    "voto",      "choix"};
    bool strong_before = prev && In(kStrong, prev->text);
    bool trail_after = next && In(Trail(), next->text);
    bool counts;
    if (is_digit) {
      counts = alone || strong_before;  // "2", "option 2"
    } else if (WordLike(tok.text[0])) {
      // "a" and "i" are words too: an option only alone, after "option", as "a)", or as the
      // last word after a lead-in ("I'd go with a.").
      counts = alone || strong_before || listed.count(w) ||
               ((w == first || cue_before) && (label_mark || at_end)) ||
               (w == first && trail_after && next->text != "i");
    } else {
      counts = alone || strong_before || listed.count(w) || w == first || named_against ||
               (cue_before && (at_end || label_mark || trail_after)) ||
               (label_mark && (at_end || trail_after || any_mark_before)) ||
               (at_end && mark_before);
    }
    if (!counts) continue;
    out.options.insert(*label);
    // Negated: "not B", "definitely not C", "no es la D", "anything but A"; "C is wrong".
    if (w >= 2 && t[words[w - 1]].text == "but" &&
        (t[words[w - 2]].text == "anything" || t[words[w - 2]].text == "all"))
      out.negated = true;
    for (size_t back = 1; back <= 3 && back <= w; ++back) {
      if (!In(NegationBefore(), t[words[w - back]].text)) continue;
      // "not sure, B" and "no doubt: B" are hedges, not negations.
      const Token* after = word_at(w - back + 1);
      if (after && (after->text == "sure" || after->text == "doubt" || after->text == "100" ||
                    after->text == "idea"))
        continue;
      out.negated = true;
    }
    for (size_t ahead = 1; ahead <= 3; ++ahead)
      if (const Token* a = word_at(w + ahead); a && In(NegationAfter(), a->text))
        out.negated = true;
  }
  return out;
}

// The option whose own words the reply gives, when exactly one option's are there: its whole
// text, or (in a short reply) a word of four letters or more that only that option has
// ("histograms!" for "Use histograms").
std::optional<int> NamedByText(const std::string& s, const std::vector<std::string>& options) {
  const size_t n = options.size();
  auto boundary = [&](size_t p) { return p >= s.size() || !std::isalnum((unsigned char)s[p]); };
  std::vector<std::pair<size_t, int>> found;  // (length, index)
  for (size_t i = 0; i < n; ++i) {
    std::string o = Normalize(options[i]);
    while (!o.empty() && std::ispunct(static_cast<unsigned char>(o.back()))) o.pop_back();
    if (o.size() < 3) continue;
    size_t at = s.find(o);
    if (at != std::string::npos && (at == 0 || boundary(at - 1)) && boundary(at + o.size()))
      found.push_back({o.size(), static_cast<int>(i)});
  }
  if (!found.empty()) {
    std::sort(found.rbegin(), found.rend());
    // Two options named: only when the shorter is part of the longer is it one answer.
    std::string longest = Normalize(options[static_cast<size_t>(found[0].second)]);
    for (size_t k = 1; k < found.size(); ++k)
      if (longest.find(Normalize(options[static_cast<size_t>(found[k].second)])) ==
          std::string::npos)
        return std::nullopt;
    return found[0].second;
  }
  // A short reply with a word only one option has.
  auto words_of = [](const std::string& text) {
    std::set<std::string> out;
    for (const auto& t : Tokenize(Normalize(text))) {
      if (!t.word || t.text.size() < 4) continue;
      std::string w = t.text;
      if (w.size() > 4 && w.back() == 's') w.pop_back();  // plural
      out.insert(w);
    }
    return out;
  };
  auto reply = words_of(s);
  size_t reply_words = 0;
  for (const auto& t : Tokenize(s)) reply_words += t.word;
  if (reply_words > 4) return std::nullopt;
  std::vector<std::set<std::string>> per_option;
  for (const auto& o : options) per_option.push_back(words_of(o));
  std::set<int> hits;
  for (size_t i = 0; i < n; ++i)
    for (const auto& w : per_option[i]) {
      if (!reply.count(w)) continue;
      bool only_here = true;
      for (size_t j = 0; j < n; ++j)
        if (j != i && per_option[j].count(w)) only_here = false;
      if (only_here) hits.insert(static_cast<int>(i));
    }
  if (hits.size() == 1) return *hits.begin();
  return std::nullopt;
}

std::optional<int> ChoiceIn(const std::string& text, const std::vector<std::string>& options) {
  const size_t n = options.size();
  std::string s = Normalize(text);
  if (s.empty()) return std::nullopt;
  // Options that are numbers themselves ("5", "10", "15"): a number names the option with
  // that text, not the option at that place.
  bool numeric = std::all_of(options.begin(), options.end(), [](const std::string& o) {
    std::string t = Normalize(o);
    return !t.empty() && std::all_of(t.begin(), t.end(), ::isdigit);
  });
  auto tokens = Tokenize(s);
  Named named = NamedByLabel(tokens, n, !numeric);
  if (numeric) {
    for (const auto& t : tokens)
      for (size_t i = 0; i < n; ++i)
        if (t.word && Normalize(options[i]) == t.text) named.options.insert(static_cast<int>(i));
  }
  // Two options named, or the only one negated: no choice (kept as a comment).
  if (named.options.size() > 1) return std::nullopt;
  if (named.options.size() == 1) {
    if (named.negated) return std::nullopt;
    return *named.options.begin();
  }
  auto by_text = NamedByText(s, options);
  if (!by_text) return std::nullopt;
  // The option's words, but negated ("not the intranet", "searching is wrong"): none. Words of
  // the option itself ("Say no right away") do not count.
  std::set<std::string> own;
  for (const auto& t : Tokenize(Normalize(options[static_cast<size_t>(*by_text)])))
    own.insert(t.text);
  for (const auto& t : tokens)
    if (t.word && !own.count(t.text) &&
        (In(NegationBefore(), t.text) || In(NegationAfter(), t.text)))
      return std::nullopt;
  return by_text;
}

}  // namespace

std::string OptionLabel(int i) { return std::string(1, static_cast<char>('A' + i)); }

std::optional<int> ParseChoice(std::string_view reply, const std::vector<std::string>& options) {
  if (options.empty() || options.size() > 26) return std::nullopt;
  std::string text(reply);
  // "Edit: …" / "Update: …": a changed mind; what follows the last such note is the answer
  // when it names one.
  static const std::regex edited(R"((^|[\s\(\[])(edit|edited|update|correction|edit\s*\d*)\s*:)",
                                 std::regex::icase);
  size_t last = std::string::npos;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), edited);
       it != std::sregex_iterator(); ++it)
    last = static_cast<size_t>(it->position(0) + it->length(0));
  if (last != std::string::npos)
    if (auto after = ChoiceIn(text.substr(last), options)) return after;
  return ChoiceIn(text, options);
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
    // "4/5", "4 out of 5", "4 of 5", "4 von 5", "4 sur 5", "4 de 5": the scale is not a second
    // rating.
    std::string before = s.substr(0, static_cast<size_t>(it->position(2)));
    static const std::regex scale(R"((/|out of|of|von|sur|de)\s*$)");
    if (v == max && std::regex_search(before, scale)) continue;
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
