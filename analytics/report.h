#pragma once
// Weekly figures exactly as docs/metrics.md (definitions version 3) defines them: totals with
// trend and delta (§3), personas (§4), the interaction network (§5), prompts and campaigns (§6)
// and groups (§8), with the privacy rules of §7 on every breakdown.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analytics/columns.h"
#include "analytics/dataset.h"
#include "core/model.h"
#include "core/time.h"
#include "store/store.h"

namespace learnloop::analytics {

constexpr int kDefinitionsVersion = 7;

struct Totals {
  int64_t members = 0, posts = 0, replies = 0, reactions = 0, active_users = 0, contributors = 0,
          new_contributors = 0;
  std::optional<double> engagement_rate, replies_per_post, response_rate,
      median_first_response_minutes;
};

struct Personas {
  int64_t observer = 0, catalyst = 0, engager = 0, broadcaster = 0, responder = 0;
};

struct NetworkFigures {
  int64_t nodes = 0, edges = 0;
  std::optional<double> reciprocity, density, cross_group_share;
  std::vector<std::string> top_connectors;  // pseudonymous ids, highest PageRank first
};

struct GroupRow {
  std::string group_id, name;
  bool suppressed = false;
  std::optional<int64_t> members, active_users, posts, replies, reactions;
  std::optional<double> engagement_rate;
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
  int64_t prompts = 0;  // its rows of the prompts table
  // Null when suppressed (an audience under the minimum, or a line from which the figures of
  // its suppressed prompt rows could be worked out).
  bool suppressed = false;
  std::optional<int64_t> participants = 0, answers = 0;
  std::optional<int64_t> audience = 0;       // people the week's prompts were put to
  std::optional<double> participation_rate;  // of them, the share who answered one at least
  std::optional<double> completion_rate;     // only for a sequence that has ended
};

struct Report {
  std::string week;
  std::string timezone;
  Time from{}, to{}, as_of{};
  bool provisional = false;
  Totals totals, trend;
  std::vector<Totals> history;  // the 12 weeks ending with W, oldest first (the trend chart)
  std::vector<std::string> history_weeks;
  Personas personas;
  NetworkFigures network;
  std::vector<GroupRow> groups;
  std::vector<PromptRow> prompts;
  std::vector<CampaignRow> campaigns;
  int min_group_size = 5;
  std::map<std::string, std::string> group_names;  // of the groups the rows name (display only)
};

struct ReportOptions {
  TimeZone tz = nullptr;
  std::string timezone_name;
  int min_group_size = 5;
  // The key of the pseudonymous ids (HMAC-SHA-256 of the user id, first 12 hex digits).
  std::string pseudonym_key;
};

// A person's pseudonymous id in leader reports.
std::string Pseudonym(const std::string& key, const std::string& user_id);

// The earliest time the report of `week` reads: the start of the 12 weeks of its trend (the
// history before them is what the store keeps counted). Columns loaded from a later time
// cannot give that report (ComputeWeekly throws std::logic_error).
Time ReportReadsFrom(TimeZone tz, IsoWeek week);
// `kept`: the totals of the 12 weeks of the trend known already (oldest first; empty: none);
// those from the oldest one missing on are computed.
Report ComputeWeekly(const Columns& c, IsoWeek week, Time as_of, const ReportOptions& o,
                     const std::vector<std::optional<Totals>>& kept = {});
Report ComputeWeekly(const Dataset& d, IsoWeek week, Time as_of, const ReportOptions& o);
// The report of `week` from the store: the totals of the weeks of its trend that the store kept
// from an earlier report are not computed again (nor their data read), and those it computes
// are kept for the next.
Result<Report> WeeklyReport(store::Store& s, IsoWeek week, Time as_of, const ReportOptions& o);

// A week's totals as the store keeps them, and back (nullopt: not a form this version reads).
std::string EncodeTotals(const Totals& t);
std::optional<Totals> DecodeTotals(std::string_view text);

std::string RenderJson(const Report& r);
std::string RenderMarkdown(const Report& r);
// The weekly digest as plain text (Viva Engage posts are plain text: no Markdown to show raw),
// names on one line and cut when very long; with `link` (where "{week}" becomes the week), a
// last line pointing to the full report.
std::string RenderDigest(const Report& r, const std::string& link = "");
std::string RenderHtml(const Report& r);
// One CSV per table (totals, personas, network, top_connectors, groups, prompts, campaigns):
// (table name, content), with the JSON's keys as column names; suppressed cells empty.
std::vector<std::pair<std::string, std::string>> RenderCsv(const Report& r);

}  // namespace learnloop::analytics
