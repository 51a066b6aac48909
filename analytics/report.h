#pragma once
// Weekly figures exactly as METRICS.md (definitions version 2) defines them: totals with trend
// and delta (§3), prompts and campaigns (§6), with the privacy rules of §7 on the prompt rows.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/time.h"
#include "store/store.h"

namespace learnloop::analytics {

constexpr int kDefinitionsVersion = 3;

// Everything a report needs, read from the store once.
struct Dataset {
  std::vector<User> users;
  std::vector<Group> groups;
  std::vector<Message> messages;
  std::vector<Reaction> reactions;
  std::vector<Prompt> prompts;
  std::vector<Answer> answers;
  static Dataset Load(store::Store& s);
};

struct Totals {
  int64_t members = 0, posts = 0, replies = 0, reactions = 0, active_users = 0, contributors = 0,
          new_contributors = 0;
  std::optional<double> engagement_rate, replies_per_post, response_rate,
      median_first_response_minutes;
};

struct PromptRow {
  std::string prompt_id, campaign, group_id, type;
  int step = 0;
  bool suppressed = false;
  std::optional<int64_t> audience, answerers;
  std::optional<double> response_rate, median_minutes_to_answer, correct_rate;
};

struct CampaignRow {
  std::string campaign;
  int64_t prompts = 0, participants = 0, answers = 0;
  std::optional<double> completion_rate;
};

struct Report {
  std::string week;
  std::string timezone;
  Time from{}, to{}, as_of{};
  bool provisional = false;
  Totals totals, trend;
  std::vector<PromptRow> prompts;
  std::vector<CampaignRow> campaigns;
  int min_group_size = 5;
  std::map<std::string, std::string> group_names;  // of the groups the rows name (display only)
};

struct ReportOptions {
  TimeZone tz = nullptr;
  std::string timezone_name;
  int min_group_size = 5;
};

Report ComputeWeekly(const Dataset& d, IsoWeek week, Time as_of, const ReportOptions& o);

std::string RenderJson(const Report& r);
std::string RenderMarkdown(const Report& r);
std::string RenderHtml(const Report& r);

}  // namespace learnloop::analytics
