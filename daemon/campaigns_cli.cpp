#include "daemon/campaigns_cli.h"

#include <yaml-cpp/yaml.h>

#include <iomanip>
#include <ostream>

#include "bot/answers.h"
#include "bot/schedule.h"
#include "connectors/registry.h"

namespace learnloop::daemon {

namespace {

std::string Communities(const config::CampaignConfig& c) {
  std::string out;
  for (const auto& g : c.communities) out += (out.empty() ? "" : ", ") + g;
  return out;
}

std::string FirstLine(const std::string& s, size_t max = 70) {
  std::string line = s.substr(0, s.find('\n'));
  return line.size() > max ? line.substr(0, max - 3) + "..." : line;
}

std::string Duration(Millis d) {
  auto m = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  if (m % (60 * 24) == 0) return std::to_string(m / (60 * 24)) + "d";
  if (m % 60 == 0) return std::to_string(m / 60) + "h";
  return std::to_string(m) + "m";
}

std::string Hhmm(int minutes) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60 % 100, minutes % 60);
  return buf;
}

std::string Status(const config::CampaignConfig& c, Time now) {
  if (c.paused) return "paused";
  if (c.end && now >= *c.end) return "ended";
  if (c.start && now < *c.start) return "starts " + FormatLocal(c.tz, *c.start).substr(0, 10);
  return "active";
}

}  // namespace

int RunCampaigns(const CampaignsCommand& cmd, std::ostream& out, std::ostream& err) {
  // Problems as check-config gives them: errors (exit 2) and warnings (said; exit 0).
  std::optional<config::Config> base;
  if (cmd.config) {
    auto r = config::LoadFile(*cmd.config, connectors::Kinds());
    for (const auto& e : r.errors) err << e.ToString() << "\n";
    if (!r.config) return 2;
    base = r.config;
  }
  // A whole configuration is checked as a whole (networks included).
  bool whole = false;
  try {
    YAML::Node root = YAML::LoadFile(cmd.file);
    whole = root.IsMap() && root["networks"].IsDefined();
  } catch (const YAML::Exception&) {
  }
  std::vector<config::CampaignConfig> campaigns;
  size_t warnings = 0;
  if (whole) {
    auto r = config::LoadFile(cmd.file, connectors::Kinds());
    for (const auto& e : r.errors) err << e.ToString() << "\n";
    for (const auto& w : r.warnings) err << w.ToString() << "\n";
    if (!r.config) return 2;
    campaigns = r.config->campaigns;
    warnings = r.warnings.size();
  } else {
    auto r = config::LoadCampaignFile(cmd.file, base ? &*base : nullptr);
    for (const auto& e : r.errors) err << e.ToString() << "\n";
    for (const auto& w : r.warnings) err << w.ToString() << "\n";
    if (!r.errors.empty()) return 2;
    campaigns = std::move(r.campaigns);
    warnings = r.warnings.size();
  }

  if (cmd.action == "validate") {
    out << cmd.file << ": OK (" << campaigns.size() << " campaign(s)"
        << (warnings ? ", " + std::to_string(warnings) + " warning(s)" : "")
        << (whole || base ? "" : "; network names not checked: give --config") << ")\n";
    return 0;
  }
  if (cmd.action == "list") {
    out << std::left << std::setw(24) << "campaign" << std::setw(10) << "network" << std::setw(20)
        << "schedule" << std::setw(18) << "time zone" << std::setw(7) << "steps"
        << "status\n";
    for (const auto& c : campaigns)
      out << std::left << std::setw(24) << c.name << std::setw(10) << c.network << std::setw(20)
          << c.schedule_text << std::setw(18) << c.timezone << std::setw(7) << c.steps.size()
          << Status(c, cmd.from) << "\n";
    return 0;
  }
  if (cmd.action == "show") {
    for (const auto& c : campaigns) {
      out << c.name << " (" << Status(c, cmd.from) << ")\n";
      out << "  network " << c.network << ", communities " << Communities(c) << "\n";
      out << "  schedule \"" << c.schedule_text << "\" in " << c.timezone << ", each prompt open "
          << Duration(c.open_for) << "\n";
      if (c.spaced.enabled)
        out << "  spaced repetition over " << c.steps.size() << " questions: each round asks "
            << "each person the question due next for them, at most " << c.spaced.per_person
            << " a day; wrong or unanswered comes back after " << Duration(c.spaced.wrong_after)
            << ", right after " << Duration(c.spaced.right_after) << "; retired after "
            << c.spaced.retire_after << " right in a row\n"
            << "  "
            << (c.spaced.privately ? "asked privately where the network allows it; others in "
                                   : "asked in ")
            << "at most " << c.spaced.daily_cap << " community thread(s) a day naming at most "
            << c.spaced.mention_cap << " people each\n";
      if (c.start || c.end)  // local dates, both days included
        out << "  from " << (c.start ? FormatLocal(c.tz, *c.start).substr(0, 10) : "the start")
            << " to " << (c.end ? FormatLocal(c.tz, *c.end - Millis{1}).substr(0, 10) : "no end")
            << " (" << c.timezone << ", both days included)\n";
      if (c.joined_from || c.joined_to)
        out << "  audience: people who joined "
            << (c.joined_from ? "from " + FormatIso(*c.joined_from).substr(0, 10) : std::string())
            << (c.joined_from && c.joined_to ? " " : "")
            << (c.joined_to ? "before " + FormatIso(*c.joined_to).substr(0, 10) : std::string())
            << "\n";
      if (c.quiet_hours)
        out << "  quiet hours " << Hhmm(c.quiet_hours->first) << "-" << Hhmm(c.quiet_hours->second)
            << " (" << (c.quiet_skip ? "skipped" : "deferred") << ")\n";
      if (!c.holidays.empty()) {
        out << "  holidays";
        for (const auto& h : c.holidays) out << " " << h;
        out << "\n";
      }
      if (c.reminders.enabled)
        out << "  reminders: up to " << c.reminders.max << ", first after "
            << Duration(c.reminders.after)
            << (c.reminders.mention ? ", mentioning" : ", none posted") << "\n";
      out << "  points: " << c.points_answer << " per answer, " << c.points_correct
          << " more when correct; answers " << (c.answers_public ? "public" : "private")
          << (c.feedback ? "; feedback at close" : "") << "\n";
      for (size_t i = 0; i < c.steps.size(); ++i) {
        const auto& s = c.steps[i];
        out << "  step " << i + 1 << " [" << s.kind << "] " << FirstLine(s.text) << "\n";
        for (size_t k = 0; k < s.options.size(); ++k)
          out << "      " << bot::OptionLabel(static_cast<int>(k)) << ") " << s.options[k]
              << (s.correct && *s.correct == static_cast<int>(k) ? "   (correct)" : "") << "\n";
      }
      out << "\n";
    }
    return 0;
  }
  if (cmd.action == "preview") {
    Time to = cmd.from + std::chrono::hours{24 * 7 * cmd.weeks};
    if (!whole && !base)
      out << "(no --config: a campaign without its own 'timezone' is shown in UTC; give the "
             "configuration for its zone)\n\n";
    for (const auto& c : campaigns) {
      out << c.name << " - " << Communities(c) << " - " << c.timezone << ", next " << cmd.weeks
          << " week(s)\n";
      if (c.paused) {
        out << "  paused: nothing is posted\n\n";
        continue;
      }
      if (c.relative())
        out << "  for people who join on " << FormatLocal(c.tz, cmd.from).substr(0, 10)
            << " (each day's newcomers get their own prompts, in each community)\n";
      auto occ = bot::Occurrences(c, cmd.from, to);
      if (occ.empty()) out << "  nothing scheduled\n";
      for (const auto& o : occ) {
        if (!o.post_at) {
          out << "  " << FormatLocal(c.tz, o.scheduled) << "  (" << FormatIso(o.scheduled)
              << ")  skipped: " << o.why_skipped << "\n";
          continue;
        }
        out << "  " << FormatLocal(c.tz, *o.post_at) << "  (" << FormatIso(*o.post_at) << ")  ";
        if (c.spaced.enabled)
          out << "round: each person's next due question";
        else
          out << (c.relative() ? "day " + std::to_string(c.after_joining[o.step]) + ", " : "")
              << "step " << o.step + 1 << ": "
              << FirstLine(c.steps[static_cast<size_t>(o.step)].text, 50);
        if (*o.post_at != o.scheduled)
          out << "  [deferred from " << FormatLocal(c.tz, o.scheduled) << "]";
        out << "\n";
      }
      out << "\n";
    }
    return 0;
  }
  err << "learnloop campaigns: the action is validate, list, show or preview\n";
  return 2;
}

}  // namespace learnloop::daemon
