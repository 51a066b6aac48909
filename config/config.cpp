#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace learnloop::config {

std::string Diagnostic::ToString() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message;
}

const NetworkConfig* Config::FindNetwork(const std::string& name) const {
  for (const auto& n : networks)
    if (n.name == name) return &n;
  return nullptr;
}

// Every key given twice in a mapping (below).
void DuplicateKeys(const YAML::Node& n, const std::string& file, std::vector<Diagnostic>& out);

namespace {

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;  // "FILE:LINE:COL: warning: …"
  // Secrets of the networks that cannot be read (an unset variable, a missing file): only the
  // commands that talk to the ESN need them.
  std::vector<Diagnostic> network_secret_errors;

  void Error(const YAML::Node& n, const std::string& msg) {
    auto m = n.Mark();
    errors.push_back(Diagnostic{file_, m.line + 1, m.column + 1, msg});
  }
  void Warn(const YAML::Node& n, const std::string& msg) {
    auto m = n.Mark();
    warnings.push_back(Diagnostic{file_, m.line + 1, m.column + 1, "warning: " + msg});
  }

  // A mapping whose keys are declared one by one; Finish() reports every key not declared.
  class Map {
   public:
    Map(Loader& l, const YAML::Node& node, std::string where)
        : l_(l), node_(node), where_(std::move(where)) {}

    YAML::Node Take(const std::string& key) {
      declared_.insert(key);
      if (!node_.IsMap()) return YAML::Node();
      return node_[key];
    }

    template <typename F>
    void Field(const std::string& key, bool required, F&& parse) {
      YAML::Node v = Take(key);
      if (!v.IsDefined() || v.IsNull()) {
        if (required) l_.Error(node_, where_ + ": missing required key '" + key + "'");
        return;
      }
      parse(v);
    }

    void String(const std::string& key, std::string& out, bool required = false) {
      Field(key, required, [&](const YAML::Node& v) {
        if (!v.IsScalar())
          l_.Error(v, "'" + key + "' must be a string");
        else
          out = v.Scalar();
      });
    }

    void Int(const std::string& key, int& out, int lo, int hi) {
      Field(key, false, [&](const YAML::Node& v) {
        try {
          int x = v.as<int>();
          if (x < lo || x > hi)
            l_.Error(v, "'" + key + "' must be between " + std::to_string(lo) + " and " +
                            std::to_string(hi));
          else
            out = x;
        } catch (const YAML::Exception&) {
          l_.Error(v, "'" + key + "' must be an integer");
        }
      });
    }

    void Bool(const std::string& key, bool& out) {
      Field(key, false, [&](const YAML::Node& v) {
        try {
          out = v.as<bool>();
        } catch (const YAML::Exception&) {
          l_.Error(v, "'" + key + "' must be true or false");
        }
      });
    }

    // A duration of at most a year: none of learnloop's waits, windows or intervals is longer,
    // and a larger one is a typo.
    void Duration(const std::string& key, Millis& out) {
      Field(key, false, [&](const YAML::Node& v) {
        auto d = v.IsScalar() ? ParseDuration(v.Scalar()) : std::nullopt;
        // Written as a duration, but too long to be one (ParseDuration stops at a century).
        bool shaped = v.IsScalar() && !v.Scalar().empty() &&
                      std::isdigit(static_cast<unsigned char>(v.Scalar()[0])) &&
                      v.Scalar().find_first_not_of("0123456789smhdw") == std::string::npos &&
                      std::string("smhdw").find(v.Scalar().back()) != std::string::npos;
        if (!d && shaped)
          l_.Error(v, "'" + key + "' must be at most 366d (a year)");
        else if (!d || d->count() <= 0)
          l_.Error(v, "'" + key + "' must be a duration such as 90s, 15m, 2h, 3d or 1w");
        else if (*d > std::chrono::hours{24 * 366})
          l_.Error(v, "'" + key + "' must be at most 366d (a year)");
        else
          out = *d;
      });
    }

    void Date(const std::string& key, std::optional<Time>& out) {
      Field(key, false, [&](const YAML::Node& v) {
        auto t = v.IsScalar() ? ParseIso(v.Scalar()) : std::nullopt;
        if (!t)
          l_.Error(v, "'" + key + "' must be a date (2026-01-31) or an ISO 8601 time in UTC");
        else
          out = t;
      });
    }

    void StringList(const std::string& key, std::vector<std::string>& out, bool required = false) {
      Field(key, required, [&](const YAML::Node& v) {
        if (!v.IsSequence()) {
          l_.Error(v, "'" + key + "' must be a list");
          return;
        }
        out.clear();
        for (const auto& e : v) {
          if (!e.IsScalar())
            l_.Error(e, "items of '" + key + "' must be strings");
          else
            out.push_back(e.Scalar());
        }
      });
    }

    void Zone(const std::string& key, std::string& name, TimeZone& tz) {
      Field(key, false, [&](const YAML::Node& v) {
        if (!v.IsScalar()) {
          l_.Error(v, "'" + key + "' must be an IANA time zone name");
          return;
        }
        auto z = FindZone(v.Scalar());
        if (!z.ok())
          l_.Error(v, z.error().message);
        else {
          name = v.Scalar();
          tz = *z;
        }
      });
    }

    // How errors name this mapping from here on.
    void SetWhere(std::string where) { where_ = std::move(where); }

    void Finish() {
      if (!node_.IsMap()) return;
      for (auto it = node_.begin(); it != node_.end(); ++it) {
        std::string k = it->first.Scalar();
        if (declared_.count(k)) continue;
        std::string hint;
        for (const auto& d : declared_)
          if (EditDistance(k, d) <= 2) hint = " (did you mean '" + d + "'?)";
        l_.Error(it->first, where_ + ": unknown key '" + k + "'" + hint);
      }
    }

   private:
    Loader& l_;
    YAML::Node node_;
    std::string where_;
    std::set<std::string> declared_;
  };

  bool ExpectMap(const YAML::Node& n, const std::string& what) {
    if (n.IsMap()) return true;
    Error(n, what + " must be a mapping");
    return false;
  }

  // `network`: a secret only talking to the ESN needs; when it cannot be read, that is said to
  // those commands (Config::network_secret_errors) and the others work without it.
  void Secret(Map& m, const std::string& key, learnloop::Secret& out, bool network = false) {
    YAML::Node ref = m.Take(key);
    YAML::Node file = m.Take(key + "_file");
    bool has_ref = ref.IsDefined() && !ref.IsNull();
    bool has_file = file.IsDefined() && !file.IsNull();
    if (has_ref && has_file) {
      Error(file, "give either '" + key + "' or '" + key + "_file', not both");
      return;
    }
    if (!has_ref && !has_file) return;  // the caller decides whether it is required
    const YAML::Node& n = has_ref ? ref : file;
    if (!n.IsScalar()) {
      Error(n, "'" + key + "' must be a string");
      return;
    }
    auto s = has_ref ? learnloop::Secret::FromReference(n.Scalar())
                     : learnloop::Secret::FromFile(n.Scalar());
    if (s.ok()) {
      out = *s;
      return;
    }
    auto mark = n.Mark();
    Diagnostic d{file_, mark.line + 1, mark.column + 1, "'" + key + "': " + s.error().message};
    // A secret written into the file is always wrong; one that is not there (yet) matters only
    // to who needs it.
    bool deferred = network && (!has_ref || IsEnvReference(n.Scalar()));
    (deferred ? network_secret_errors : errors).push_back(std::move(d));
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

// Reads `keys` of the mapping `node` (through m) into out: each key given, checked as its type
// says, or else its default. Secrets are a network's (a missing one matters only to the
// commands that talk to the ESN).
void ReadKeys(Loader& l, Loader::Map& m, const YAML::Node& node, const std::vector<KeySpec>& keys,
              Settings& out) {
  auto mark = [](const YAML::Node& v) {
    auto mk = v.Mark();
    return Mark{mk.line + 1, mk.column + 1};
  };
  for (const KeySpec& k : keys) {
    const YAML::Node& given = node.IsMap() ? node[k.name] : YAML::Node();
    bool has = given.IsDefined() && !given.IsNull();
    if (has) out.MarkGiven(k.name, mark(given));
    switch (k.type) {
      case KeyType::kString:
      case KeyType::kUrl:
      case KeyType::kChoice: {
        std::string v = k.default_value;
        m.String(k.name, v, k.required);
        if (!k.older_name.empty()) {
          std::string older;
          m.String(k.older_name, older);
          if (!older.empty() && has)
            l.Error(node[k.older_name], "give either '" + k.name + "' or '" + k.older_name +
                                            "' (its older name), not both");
          else if (!older.empty()) {
            v = older;
            out.MarkGiven(k.name, mark(node[k.older_name]));
          }
        }
        if (has && k.type == KeyType::kUrl && v.rfind("https://", 0) != 0 &&
            v.rfind("http://", 0) != 0)
          l.Error(given, "'" + k.name + "' must be an http:// or https:// URL");
        if (has && k.type == KeyType::kChoice &&
            std::find(k.choices.begin(), k.choices.end(), v) == k.choices.end()) {
          std::string list;
          for (size_t i = 0; i < k.choices.size(); ++i)
            list += (i == 0                      ? ""
                     : i + 1 == k.choices.size() ? " or "
                                                 : ", ") +
                    ("'" + k.choices[i] + "'");
          l.Error(given, "'" + k.name + "' is " + list + ", not '" + v + "'");
        }
        out.Set(k.name, v);
        break;
      }
      case KeyType::kSecret: {
        learnloop::Secret v;
        l.Secret(m, k.name, v, true);
        const YAML::Node& file = node.IsMap() ? node[k.name + "_file"] : YAML::Node();
        if (!has && file.IsDefined() && !file.IsNull()) out.MarkGiven(k.name, mark(file));
        if (k.required && !out.Given(k.name))
          l.Error(node, "missing required key '" + k.name + "' (or '" + k.name + "_file')");
        out.Set(k.name, v);
        break;
      }
      case KeyType::kBool: {
        bool v = k.default_value == "true";
        m.Bool(k.name, v);
        out.Set(k.name, v);
        break;
      }
      case KeyType::kInt: {
        int v = k.default_value.empty() ? 0 : std::stoi(k.default_value);
        m.Int(k.name, v, k.min, k.max);
        out.Set(k.name, v);
        break;
      }
      case KeyType::kDuration: {
        Millis v = ParseDuration(k.default_value).value_or(Millis{0});
        m.Duration(k.name, v);
        out.Set(k.name, v);
        break;
      }
      case KeyType::kDate: {
        std::optional<Time> v = ParseIso(k.default_value);
        m.Date(k.name, v);
        if (v)
          out.Set(k.name, *v);
        else
          out.Set(k.name, std::monostate{});
        break;
      }
      case KeyType::kList: {
        std::vector<std::string> v;
        m.StringList(k.name, v, k.required);
        out.Set(k.name, std::move(v));
        break;
      }
      case KeyType::kMap: {
        Settings sub;
        YAML::Node none;
        bool read = false;
        m.Field(k.name, k.required, [&](const YAML::Node& v) {
          if (!l.ExpectMap(v, "'" + k.name + "'")) return;
          Loader::Map sm(l, v, k.name);
          ReadKeys(l, sm, v, k.keys, sub);
          sm.Finish();
          read = true;
        });
        if (!read) {
          // Not given (or not a mapping): its keys' defaults, and no error of theirs.
          Loader quiet(l.file());
          Loader::Map sm(quiet, none, k.name);
          std::vector<KeySpec> optional = k.keys;
          for (auto& key : optional) key.required = false;
          ReadKeys(quiet, sm, none, optional, sub);
        }
        out.SetMap(k.name, std::move(sub));
        break;
      }
    }
  }
}

// Mistakes a campaign file can hold that no single key shows: errors when the campaign cannot
// work as written, warnings when it works but probably not as meant.
void CheckCampaign(Loader& l, const YAML::Node& e, const CampaignConfig& cc) {
  const Time now = std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  if (cc.start && cc.end && *cc.end <= *cc.start)
    l.Error(e["end"], "campaign '" + cc.name + "' ends before it starts ('end' " +
                          e["end"].Scalar() + " is before 'start' " + e["start"].Scalar() + ")");
  else if (cc.end && *cc.end <= now)
    l.Warn(e["end"],
           "campaign '" + cc.name + "' ended on " + e["end"].Scalar() + ": it posts nothing more");
  for (size_t i = 0; i < cc.steps.size(); ++i)
    if (cc.steps[i].kind == "choice" && !cc.steps[i].correct && !cc.spaced.enabled)
      l.Warn(e["steps"].IsSequence() ? e["steps"][i] : e,
             "campaign '" + cc.name + "', step " + std::to_string(i + 1) +
                 ": a choice without 'correct' counts nobody as right; give 'correct', or make "
                 "it a poll");
  if (cc.reminders.enabled && cc.reminders.mention)
    for (int k = 1; k <= cc.reminders.max; ++k)
      if (cc.reminders.after * k >= cc.open_for) {
        auto h = [](Millis d) {
          return std::to_string(std::chrono::duration_cast<std::chrono::minutes>(d).count() / 60.0)
              .substr(0, 4);
        };
        l.Warn(e["reminders"], "campaign '" + cc.name + "': reminder " + std::to_string(k) +
                                   " would come " + h(cc.reminders.after * k) +
                                   " h after the prompt, when it is closed (open for " +
                                   h(cc.open_for) + " h): it is never posted");
        break;
      }
  // Quiet hours (or holidays) that leave no prompt of the next eight weeks.
  if (!cc.relative() && cc.quiet_hours && cc.quiet_skip && cc.tz) {
    Time from = std::max(now, cc.start.value_or(now));
    int due = 0, posted = 0;
    for (auto t = cc.schedule.Next(cc.tz, from);
         t && *t < from + std::chrono::hours{24 * 56} && (!cc.end || *t < *cc.end);
         t = cc.schedule.Next(cc.tz, *t)) {
      ++due;
      auto local = UtcToLocal(cc.tz, *t);
      auto day = std::chrono::floor<std::chrono::days>(local);
      int minute =
          static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
      auto [q_from, q_to] = *cc.quiet_hours;
      bool quiet =
          q_from < q_to ? minute >= q_from && minute < q_to : minute >= q_from || minute < q_to;
      posted += !quiet;
    }
    if (due > 0 && posted == 0)
      l.Error(e["quiet_hours"], "campaign '" + cc.name + "': every prompt of the next 8 weeks (" +
                                    std::to_string(due) +
                                    ") falls in the quiet hours and is skipped: move the "
                                    "schedule or the quiet hours, or defer instead of skip");
  }
}

// The campaigns of a `campaigns` list (in the configuration or a campaign file) into c;
// `names` catches a name used twice across files.
void ParseCampaigns(Loader& l, const YAML::Node& n, Config& c, std::set<std::string>& names,
                    bool check_networks) {
  if (!n.IsSequence()) {
    l.Error(n, "'campaigns' must be a list");
    return;
  }
  for (const auto& e : n) {
    if (!l.ExpectMap(e, "a campaign")) continue;
    CampaignConfig cc;
    cc.timezone = c.timezone;
    cc.tz = c.tz;
    Loader::Map m(l, e, "campaign");
    m.String("name", cc.name, true);
    if (!cc.name.empty() && !names.insert(cc.name).second)
      l.Error(e["name"], "duplicate campaign name '" + cc.name + "'");
    m.String("network", cc.network, true);
    if (check_networks && !cc.network.empty() && !c.FindNetwork(cc.network))
      l.Error(e["network"],
              "campaign '" + cc.name + "' names unknown network '" + cc.network + "'");
    std::string one;
    m.String("community", one);
    m.StringList("communities", cc.communities);
    if (!one.empty()) cc.communities.insert(cc.communities.begin(), one);
    if (cc.communities.empty())
      l.Error(e, "campaign '" + cc.name + "': give 'community' or 'communities'");
    const YAML::Node relative_node = e["schedule"];
    m.Field("schedule", true, [&](const YAML::Node& s) {
      if (s.IsMap()) {  // days after joining
        Loader::Map rm(l, s, "schedule");
        rm.Field("after_joining", true, [&](const YAML::Node& v) {
          if (!v.IsSequence() || v.size() == 0) {
            l.Error(v, "'after_joining' must be a list of days (0 = the day of joining)");
            return;
          }
          for (const auto& d : v) {
            int day = -1;
            try {
              day = d.IsScalar() ? d.as<int>() : -1;
            } catch (const YAML::Exception&) {
            }
            if (day < 0 || day > 3650)
              l.Error(d, "a day after joining is a whole number from 0 to 3650");
            else if (!cc.after_joining.empty() && day <= cc.after_joining.back())
              l.Error(d, "days after joining must grow (each later than the one before)");
            else
              cc.after_joining.push_back(day);
          }
        });
        rm.Field("at", false, [&](const YAML::Node& v) {
          int h = -1, mi = -1;
          char tail;
          if (!v.IsScalar() || std::sscanf(v.Scalar().c_str(), "%d:%d%c", &h, &mi, &tail) != 2 ||
              h < 0 || h > 23 || mi < 0 || mi > 59)
            l.Error(v, "'at' must be a local time of day such as 09:30");
          else
            cc.at_minute = h * 60 + mi;
        });
        rm.Finish();
        char at[16];
        std::snprintf(at, sizeof at, "%02d:%02d", cc.at_minute / 60, cc.at_minute % 60);
        std::string days;
        for (int d : cc.after_joining) days += (days.empty() ? "" : ", ") + std::to_string(d);
        cc.schedule_text = "days " + days + " after joining, at " + at;
        return;
      }
      auto parsed =
          s.IsScalar() ? CronSchedule::Parse(s.Scalar())
                       : Result<CronSchedule>::Fail(
                             "'schedule' must be a cron rule or {after_joining: [...], at: HH:MM}");
      if (!parsed.ok())
        l.Error(s, parsed.error().message);
      else {
        cc.schedule = *parsed;
        cc.schedule_text = s.Scalar();
      }
    });
    m.Zone("timezone", cc.timezone, cc.tz);
    m.Duration("open_for", cc.open_for);
    m.Duration("catch_up", cc.catch_up);
    std::vector<std::string> texts;
    m.StringList("prompts", texts);
    for (size_t i = 0; i < texts.size(); ++i) {
      if (texts[i].find_first_not_of(" \t\r\n") == std::string::npos)
        l.Error(e["prompts"][i], "a prompt is what people read: it cannot be empty");
      cc.steps.push_back(StepConfig{std::move(texts[i]), "free_text", {}, {}, ""});
    }
    m.Field("steps", false, [&](const YAML::Node& list) {
      if (e["prompts"].IsDefined()) {
        l.Error(list, "give 'prompts' or 'steps', not both");
        return;
      }
      if (!list.IsSequence()) {
        l.Error(list, "'steps' must be a list");
        return;
      }
      for (const auto& st : list) {
        if (!l.ExpectMap(st, "a step")) continue;
        StepConfig step;
        Loader::Map sm(l, st, "step");
        sm.String("text", step.text, true);
        if (st["text"].IsDefined() && step.text.find_first_not_of(" \t\r\n") == std::string::npos)
          l.Error(st["text"], "a step's 'text' is what people read: it cannot be empty");
        sm.String("kind", step.kind);
        if (step.kind == "text") step.kind = "free_text";
        if (step.kind != "free_text" && step.kind != "choice" && step.kind != "poll" &&
            step.kind != "rating")
          l.Error(st["kind"], "'kind' is text, choice, poll or rating, not '" + step.kind + "'");
        sm.StringList("options", step.options);
        bool needs_options = step.kind == "choice" || step.kind == "poll";
        if (needs_options && (step.options.size() < 2 || step.options.size() > 26))
          l.Error(st, "a " + step.kind + " step needs 2 to 26 'options'");
        if (!needs_options && !step.options.empty())
          l.Error(st["options"], "only choice and poll steps have 'options'");
        sm.Field("correct", false, [&](const YAML::Node& v) {
          std::string c = v.IsScalar() ? v.Scalar() : "";
          int i = c.size() == 1 ? std::toupper(static_cast<unsigned char>(c[0])) - 'A' : -1;
          if (step.kind != "choice")
            l.Error(v, "only a choice step has a 'correct' option");
          else if (i < 0 || i >= static_cast<int>(step.options.size()))
            l.Error(v, "'correct' must be the letter of one of the options (A-" +
                           std::string(1, static_cast<char>(
                                              'A' + std::max<int>(0, step.options.size() - 1))) +
                           ")");
          else
            step.correct = i;
        });
        sm.String("explanation", step.explanation);
        sm.Finish();
        cc.steps.push_back(std::move(step));
      }
    });
    if (cc.steps.empty())
      l.Error(e, "campaign '" + cc.name + "' needs at least one of 'prompts' or 'steps'");
    if (cc.relative() && cc.after_joining.size() != cc.steps.size())
      l.Error(relative_node, "campaign '" + cc.name + "' has " +
                                 std::to_string(cc.after_joining.size()) +
                                 " days after joining for " + std::to_string(cc.steps.size()) +
                                 " steps: give one day per step");
    if (cc.relative() && check_networks)
      if (const NetworkConfig* n = c.FindNetwork(cc.network); n && n->kind && !n->kind->join_dates)
        l.Error(relative_node, "campaign '" + cc.name +
                                   "': days after joining need the date people joined, which " +
                                   n->kind->title + " does not give");
    std::string mode = "sequence";
    m.String("mode", mode);
    if (mode != "sequence" && mode != "spaced")
      l.Error(e["mode"], "'mode' is sequence or spaced, not '" + mode + "'");
    cc.spaced.enabled = mode == "spaced";
    m.Field("spacing", false, [&](const YAML::Node& v) {
      if (!cc.spaced.enabled) l.Error(v, "'spacing' is for campaigns with 'mode: spaced'");
      if (!l.ExpectMap(v, "'spacing'")) return;
      Loader::Map sm(l, v, "spacing");
      sm.Int("per_person", cc.spaced.per_person, 1, 50);
      std::string delivery = cc.spaced.privately ? "private" : "public";
      sm.String("delivery", delivery);
      if (delivery != "private" && delivery != "public")
        l.Error(v["delivery"], "'delivery' is private or public, not '" + delivery + "'");
      cc.spaced.privately = delivery == "private";
      sm.Int("daily_cap", cc.spaced.daily_cap, 0, 20);
      sm.Int("mention_cap", cc.spaced.mention_cap, 1, 50);
      sm.Duration("wrong_after", cc.spaced.wrong_after);
      sm.Duration("right_after", cc.spaced.right_after);
      sm.Int("retire_after", cc.spaced.retire_after, 1, 20);
      sm.Finish();
    });
    if (cc.spaced.enabled) {
      if (cc.relative())
        l.Error(relative_node, "a spaced campaign's 'schedule' is a cron rule (its rounds)");
      for (const auto& st : cc.steps)
        if (st.kind != "choice" || !st.correct) {
          l.Error(e, "campaign '" + cc.name +
                         "': every question of a spaced campaign is a choice step with a "
                         "'correct' option");
          break;
        }
    }
    // start and end: local dates in the campaign's zone, both days included (an ISO time with
    // an hour is that instant).
    auto local_date = [&](const char* key, std::optional<Time>& out, int days) {
      m.Field(key, false, [&](const YAML::Node& v) {
        std::string text = v.IsScalar() ? v.Scalar() : "";
        auto t = text.size() == 10 ? StartOfLocalDay(cc.tz, text, days) : ParseIso(text);
        if (!t)
          l.Error(v, "'" + std::string(key) +
                         "' must be a date that exists (2026-01-31: a local date of the "
                         "campaign's time zone) or an ISO 8601 time");
        else
          out = t;
      });
    };
    local_date("start", cc.start, 0);
    local_date("end", cc.end, 1);  // the end date is a day of the campaign: up to its midnight
    m.Bool("paused", cc.paused);
    m.Bool("repeat", cc.repeat);
    m.Field("quiet_hours", false, [&](const YAML::Node& v) {
      // "20:00-08:00"
      int h1, m1, h2, m2;
      char tail;
      if (!v.IsScalar() ||
          std::sscanf(v.Scalar().c_str(), "%d:%d-%d:%d%c", &h1, &m1, &h2, &m2, &tail) != 4 ||
          h1 < 0 || h1 > 24 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 ||
          h1 * 60 + m1 == h2 * 60 + m2)
        l.Error(v, "'quiet_hours' must look like 20:00-08:00 (local time, from-to)");
      else
        cc.quiet_hours = std::make_pair(h1 * 60 + m1, h2 * 60 + m2);
    });
    m.Field("quiet_action", false, [&](const YAML::Node& v) {
      if (v.IsScalar() && (v.Scalar() == "defer" || v.Scalar() == "skip"))
        cc.quiet_skip = v.Scalar() == "skip";
      else
        l.Error(v, "'quiet_action' is defer or skip");
    });
    m.Field("holidays", false, [&](const YAML::Node& v) {
      if (!v.IsSequence()) {
        l.Error(v, "'holidays' must be a list of dates (2026-12-24)");
        return;
      }
      for (const auto& d : v) {
        auto t = d.IsScalar() && d.Scalar().size() == 10 ? ParseIso(d.Scalar()) : std::nullopt;
        if (!t)
          l.Error(d, "a holiday must be a date such as 2026-12-24");
        else
          cc.holidays.push_back(d.Scalar());
      }
    });
    m.Field("reminders", false, [&](const YAML::Node& v) {
      if (!l.ExpectMap(v, "'reminders'")) return;
      cc.reminders.enabled = true;
      Loader::Map rm(l, v, "reminders");
      rm.Duration("after", cc.reminders.after);
      rm.Int("max", cc.reminders.max, 0, 10);
      std::string how = "mention";
      rm.String("mode", how);
      if (how != "mention" && how != "none")
        l.Error(v["mode"], "reminder 'mode' is mention or none");
      cc.reminders.mention = how == "mention";
      rm.Finish();
    });
    m.Field("audience", false, [&](const YAML::Node& v) {
      if (!l.ExpectMap(v, "'audience'")) return;
      Loader::Map am(l, v, "audience");
      am.Date("joined_from", cc.joined_from);
      am.Date("joined_to", cc.joined_to);
      am.Finish();
      if (cc.joined_from && cc.joined_to && *cc.joined_to <= *cc.joined_from)
        l.Error(v, "'audience': 'joined_to' must come after 'joined_from'");
    });
    m.Field("leaderboard", false, [&](const YAML::Node& v) {
      if (!l.ExpectMap(v, "'leaderboard'")) return;
      cc.leaderboard.enabled = true;
      Loader::Map lm(l, v, "leaderboard");
      lm.Field("schedule", true, [&](const YAML::Node& sv) {
        auto parsed = sv.IsScalar() ? CronSchedule::Parse(sv.Scalar())
                                    : Result<CronSchedule>::Fail("'schedule' must be a string");
        if (!parsed.ok()) {
          l.Error(sv, parsed.error().message);
        } else {
          cc.leaderboard.schedule = *parsed;
          cc.leaderboard.schedule_text = sv.Scalar();
        }
      });
      lm.Int("top", cc.leaderboard.top, 1, 100);
      lm.Finish();
    });
    m.Field("scoring", false, [&](const YAML::Node& v) {
      if (!l.ExpectMap(v, "'scoring'")) return;
      Loader::Map sm(l, v, "scoring");
      sm.Int("answer", cc.points_answer, 0, 1000);
      sm.Int("correct", cc.points_correct, 0, 1000);
      sm.Finish();
    });
    m.Bool("answers_public", cc.answers_public);
    m.Bool("feedback", cc.feedback);
    m.Bool("acknowledge", cc.acknowledge);
    m.Finish();
    CheckCampaign(l, e, cc);
    c.campaigns.push_back(std::move(cc));
  }
}

// A campaign file: a list of campaigns, or a mapping with `campaigns:` (a whole configuration
// file is read for its campaigns too). Errors and warnings name that file.
struct FileDiagnostics {
  std::vector<Diagnostic> errors, warnings;
};
FileDiagnostics ReadCampaignFile(const std::string& path, Config& c, std::set<std::string>& names,
                                 bool check_networks) {
  Loader l(path);
  std::ifstream in(path);
  if (!in) return {{Diagnostic{path, 1, 1, "cannot read the file"}}, {}};
  std::stringstream ss;
  ss << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(ss.str());
  } catch (const YAML::Exception& e) {
    return {{Diagnostic{path, e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg}}, {}};
  }
  // A key given twice would silently lose one of its values.
  std::vector<Diagnostic> twice;
  DuplicateKeys(root, path, twice);
  if (!twice.empty()) return {std::move(twice), {}};
  if (root.IsSequence()) {
    ParseCampaigns(l, root, c, names, check_networks);
  } else if (root.IsMap() && root["campaigns"].IsDefined()) {
    ParseCampaigns(l, root["campaigns"], c, names, check_networks);
  } else {
    l.Error(root, "a campaign file is a list of campaigns, or has a 'campaigns' list");
  }
  return {std::move(l.errors), std::move(l.warnings)};
}

Config Build(Loader& l, const YAML::Node& root, const NetworkKinds& kinds) {
  Config c;
  c.tz = *FindZone("UTC");
  if (!l.ExpectMap(root, "the configuration")) return c;
  Loader::Map top(l, root, "config");
  top.Zone("timezone", c.timezone, c.tz);
  top.Field("log_level", false, [&](const YAML::Node& v) {
    static const std::set<std::string> kLevels = {"trace",   "debug", "info",     "warn",
                                                  "warning", "error", "critical", "off"};
    if (!v.IsScalar() || !kLevels.count(v.Scalar()))
      l.Error(v, "'log_level' is one of trace, debug, info, warn, error, critical, off");
    else
      c.log_level = v.Scalar() == "warning" ? "warn" : v.Scalar();
  });
  top.Field("log_format", false, [&](const YAML::Node& v) {
    if (!v.IsScalar() || (v.Scalar() != "text" && v.Scalar() != "json"))
      l.Error(v, "'log_format' is text or json");
    else
      c.log_format = v.Scalar();
  });
  // host:port with a port of 0-65535 (0: any free port).
  auto check_listen = [&](const YAML::Node& n, const std::string& value, const char* key) {
    auto colon = value.rfind(':');
    if (!value.empty() &&
        (colon == std::string::npos || colon + 1 == value.size() || value.size() - colon - 1 > 5 ||
         value.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
         std::stoi(value.substr(colon + 1)) > 65535))
      l.Error(n, std::string("'") + key +
                     "' must be host:port with a port from 1 to 65535 (0: any free port), e.g. "
                     "127.0.0.1:8080");
  };
  top.Field("admin", false, [&](const YAML::Node& n) {
    if (!l.ExpectMap(n, "'admin'")) return;
    Loader::Map m(l, n, "admin");
    m.String("listen", c.admin.listen, false);
    if (n["listen"].IsDefined()) {
      c.admin.listen_given = true;
      if (c.admin.listen == "off")
        c.admin.listen.clear();
      else if (c.admin.listen.empty())
        l.Error(n["listen"], "'listen' must be host:port, or off");
      else
        check_listen(n["listen"], c.admin.listen, "listen");
    }
    l.Secret(m, "token", c.admin.token);
    m.String("tls_cert", c.admin.tls_cert);
    m.String("tls_key", c.admin.tls_key);
    m.Finish();
    if (c.admin.tls_cert.empty() != c.admin.tls_key.empty())
      l.Error(n, "'tls_cert' and 'tls_key' go together: give both, or neither");
    for (const auto* f : {&c.admin.tls_cert, &c.admin.tls_key})
      if (!f->empty() && !std::ifstream(*f))
        l.Error(n[f == &c.admin.tls_cert ? "tls_cert" : "tls_key"], "cannot read " + *f);
  });
  top.Field("store", false, [&](const YAML::Node& n) {
    if (!l.ExpectMap(n, "'store'")) return;
    Loader::Map m(l, n, "store");
    m.String("path", c.store_path, true);
    if (n["path"].IsDefined() && c.store_path.empty())
      l.Error(n["path"], "'path' must name the store's file");
    m.Finish();
  });
  top.Field("server", false, [&](const YAML::Node& n) {
    if (!l.ExpectMap(n, "'server'")) return;
    Loader::Map m(l, n, "server");
    m.String("listen", c.listen, true);
    m.String("public_url", c.public_url);
    m.Finish();
    check_listen(n["listen"], c.listen, "listen");
  });
  top.Field("report", false, [&](const YAML::Node& n) {
    if (!l.ExpectMap(n, "'report'")) return;
    Loader::Map m(l, n, "report");
    m.String("out_dir", c.report_dir);
    m.Field("formats", false, [&](const YAML::Node& f) {
      std::vector<std::string> formats;
      if (!f.IsSequence()) {
        l.Error(f, "'formats' must be a list of json, md, html, csv");
        return;
      }
      for (const auto& e : f) {
        std::string s = e.IsScalar() ? e.Scalar() : "";
        if (s != "json" && s != "md" && s != "html" && s != "csv")
          l.Error(e, "unknown report format '" + s + "' (json, md, html, csv)");
        else
          formats.push_back(s);
      }
      c.report_formats = formats;
    });
    m.Field("post_to", false, [&](const YAML::Node& v) {
      if (!l.ExpectMap(v, "'post_to'")) return;
      Loader::Map pm(l, v, "post_to");
      pm.String("network", c.digest_network, true);
      pm.String("community", c.digest_community, true);
      pm.String("link", c.digest_link, false);
      pm.Field("at", false, [&](const YAML::Node& a) {
        int h = -1, mi = -1;
        char tail;
        if (!a.IsScalar() || std::sscanf(a.Scalar().c_str(), "%d:%d%c", &h, &mi, &tail) != 2 ||
            h < 0 || h > 23 || mi < 0 || mi > 59)
          l.Error(a, "'at' must be a local time of day such as 08:00");
        else
          c.digest_minute = h * 60 + mi;
      });
      pm.Finish();
    });
    m.Finish();
  });
  top.Field("privacy", false, [&](const YAML::Node& n) {
    if (!l.ExpectMap(n, "'privacy'")) return;
    Loader::Map m(l, n, "privacy");
    m.Int("min_group_size", c.min_group_size, 1, 1000);
    l.Secret(m, "pseudonym_key", c.pseudonym_key);
    m.Finish();
  });
  top.Field("networks", true, [&](const YAML::Node& n) {
    if (!n.IsSequence()) {
      l.Error(n, "'networks' must be a list");
      return;
    }
    std::set<std::string> names;
    for (const auto& e : n) {
      if (!l.ExpectMap(e, "a network")) continue;
      NetworkConfig nc;
      Loader::Map m(l, e, "network");
      Settings common;
      ReadKeys(l, m, e, CommonNetworkKeys(), common);
      nc.type = common.String("type");
      nc.name = common.String("name").empty() ? nc.type : common.String("name");
      nc.poll_interval = common.Duration("poll_interval");
      nc.backfill_since = common.Date("backfill_since");
      nc.archive = common.String("archive");
      nc.request_timeout = common.Duration("request_timeout");
      nc.rate_limit_requests = common.Int("rate_limit_requests");
      nc.rate_limit_window = common.Duration("rate_limit_window");
      for (const auto& k : kinds)
        if (k.type == nc.type) nc.kind = &k;
      if (!nc.type.empty() && !nc.kind) {
        std::string available;
        for (const auto& k : kinds) available += (available.empty() ? "" : ", ") + k.type;
        l.Error(e["type"],
                "unknown connector type '" + nc.type + "' (available: " + available + ")");
      }
      if (nc.name.empty() || nc.name.find(':') != std::string::npos)
        l.Error(e, "network name must be non-empty and contain no ':'");
      if (!names.insert(nc.name).second) l.Error(e, "duplicate network name '" + nc.name + "'");
      m.SetWhere("network '" + nc.name + "'");
      if (nc.kind) {
        ReadKeys(l, m, e, nc.kind->keys, nc.settings);
        // A key of another kind of network: declared, but not here.
        auto declares = [](const std::vector<KeySpec>& keys, const std::string& key) {
          return std::any_of(keys.begin(), keys.end(), [&](const KeySpec& k) {
            return k.name == key || k.older_name == key ||
                   (k.type == KeyType::kSecret && k.name + "_file" == key);
          });
        };
        for (auto it = e.begin(); it != e.end(); ++it) {
          std::string key = it->first.Scalar();
          if (declares(nc.kind->keys, key) || declares(CommonNetworkKeys(), key)) continue;
          for (const auto& other : kinds) {
            if (&other == nc.kind || !declares(other.keys, key)) continue;
            l.Error(it->first, "network '" + nc.name + "': '" + key + "' is a key of " +
                                   other.type + " networks, not of " + nc.type + " ones");
            m.Take(key);
            break;
          }
        }
        if (nc.kind->check)
          nc.kind->check(nc.settings, [&](const std::string& key, const std::string& message) {
            auto where = key.empty() ? std::nullopt : nc.settings.Where(key);
            std::string text = "network '" + nc.name + "': " + message;
            if (where)
              l.errors.push_back(Diagnostic{l.file(), where->line, where->col, text});
            else
              l.Error(e, text);
          });
      }
      // Of an unknown kind, its keys cannot be checked: the type's error says enough.
      if (nc.kind || nc.type.empty()) m.Finish();
      c.networks.push_back(std::move(nc));
    }
  });
  std::set<std::string> campaign_names;
  top.Field("campaigns", false,
            [&](const YAML::Node& n) { ParseCampaigns(l, n, c, campaign_names, true); });
  top.Field("campaigns_dir", false, [&](const YAML::Node& n) {
    if (!n.IsScalar()) {
      l.Error(n, "'campaigns_dir' must be a folder");
      return;
    }
    // Relative to the configuration file.
    std::filesystem::path dir = n.Scalar();
    if (dir.is_relative() && !l.file().empty())
      dir = std::filesystem::path(l.file()).parent_path() / dir;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      l.Error(n, "'campaigns_dir': " + dir.string() + " is not a folder");
      return;
    }
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
      if (e.path().extension() == ".yaml" || e.path().extension() == ".yml")
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto more = ReadCampaignFile(f.string(), c, campaign_names, true);
      l.errors.insert(l.errors.end(), more.errors.begin(), more.errors.end());
      l.warnings.insert(l.warnings.end(), more.warnings.begin(), more.warnings.end());
    }
  });
  // A network with spaced campaigns asked privately reads the bot's private conversations.
  for (const auto& cc : c.campaigns)
    if (cc.spaced.enabled && cc.spaced.privately)
      for (auto& n : c.networks)
        if (n.name == cc.network) {
          if (n.kind && n.kind->private_needs_listener && c.listen.empty() && !n.private_messages)
            l.Warn(root["networks"],
                   "campaign '" + cc.name +
                       "' asks people privately on Teams, whose answers "
                       "reach the bot's endpoint only: set server.listen, or they are not read");
          n.private_messages = true;
        }
  if (!c.digest_network.empty() && !c.FindNetwork(c.digest_network))
    l.Error(root["report"]["post_to"]["network"],
            "'post_to' names unknown network '" + c.digest_network + "'");
  top.Finish();
  return c;
}

}  // namespace

// Every key given twice in a mapping, anywhere in the document: an error at the second, naming
// the first.
void DuplicateKeys(const YAML::Node& n, const std::string& file, std::vector<Diagnostic>& out) {
  if (n.IsSequence()) {
    for (const auto& e : n) DuplicateKeys(e, file, out);
    return;
  }
  if (!n.IsMap()) return;
  std::map<std::string, YAML::Mark> seen;
  for (const auto& kv : n) {
    if (kv.first.IsScalar()) {
      auto [it, fresh] = seen.emplace(kv.first.Scalar(), kv.first.Mark());
      if (!fresh) {
        auto m = kv.first.Mark();
        out.push_back(Diagnostic{file, m.line + 1, m.column + 1,
                                 "'" + kv.first.Scalar() + "' is given twice (first at line " +
                                     std::to_string(it->second.line + 1) + ", column " +
                                     std::to_string(it->second.column + 1) + ")"});
      }
    }
    DuplicateKeys(kv.second, file, out);
  }
}

LoadResult LoadString(const std::string& text, const std::string& name, const NetworkKinds& kinds) {
  LoadResult r;
  Loader l(name);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    r.errors.push_back(
        Diagnostic{name, e.mark.line + 1, e.mark.column + 1, "YAML syntax: " + e.msg});
    return r;
  }
  if (root.IsNull() && text.find_first_not_of(" \t\r\n") == std::string::npos) {
    r.errors.push_back(Diagnostic{name, 1, 1, "empty configuration"});
    return r;
  }
  // A key given twice would silently lose one of its values.
  DuplicateKeys(root, name, r.errors);
  if (!r.errors.empty()) return r;
  Config c = Build(l, root, kinds);
  c.file = name;
  c.network_secret_errors = std::move(l.network_secret_errors);
  r.errors = std::move(l.errors);
  r.warnings = std::move(l.warnings);
  if (r.errors.empty()) r.config = std::move(c);
  return r;
}

LoadResult LoadFile(const std::string& path, const NetworkKinds& kinds) {
  std::ifstream in(path);
  if (!in) {
    LoadResult r;
    r.errors.push_back(Diagnostic{path, 1, 1, "cannot read the file"});
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return LoadString(ss.str(), path, kinds);
}

CampaignFileResult LoadCampaignFile(const std::string& path, const Config* base) {
  CampaignFileResult r;
  Config c;
  if (base) c = *base;
  c.campaigns.clear();
  if (c.timezone.empty() || !c.tz) {
    c.timezone = "UTC";
    c.tz = *FindZone("UTC");
  }
  std::set<std::string> names;
  auto d = ReadCampaignFile(path, c, names, base != nullptr);
  r.errors = std::move(d.errors);
  r.warnings = std::move(d.warnings);
  r.campaigns = std::move(c.campaigns);
  return r;
}

}  // namespace learnloop::config
