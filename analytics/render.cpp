// The three renderings of a weekly report: JSON (keys exactly as METRICS.md), a Markdown
// digest short enough to post, and one self-contained HTML page (inline CSS, no scripts).
#include <cmath>
#include <functional>
#include <sstream>

#include "analytics/report.h"
#include "core/json.h"

namespace learnloop::analytics {

namespace {

struct Field {
  const char* key;
  enum Kind { kCount, kRatio, kAverage, kMedian } kind;  // kRatio: a share, shown as %
  std::function<std::optional<double>(const Totals&)> get;
};

const std::vector<Field>& TotalsFields() {
  static const std::vector<Field> f = {
      {"members", Field::kCount, [](const Totals& t) { return std::optional<double>(t.members); }},
      {"posts", Field::kCount, [](const Totals& t) { return std::optional<double>(t.posts); }},
      {"replies", Field::kCount, [](const Totals& t) { return std::optional<double>(t.replies); }},
      {"reactions", Field::kCount,
       [](const Totals& t) { return std::optional<double>(t.reactions); }},
      {"active_users", Field::kCount,
       [](const Totals& t) { return std::optional<double>(t.active_users); }},
      {"contributors", Field::kCount,
       [](const Totals& t) { return std::optional<double>(t.contributors); }},
      {"engagement_rate", Field::kRatio, [](const Totals& t) { return t.engagement_rate; }},
      {"new_contributors", Field::kCount,
       [](const Totals& t) { return std::optional<double>(t.new_contributors); }},
      {"replies_per_post", Field::kAverage, [](const Totals& t) { return t.replies_per_post; }},
      {"response_rate", Field::kRatio, [](const Totals& t) { return t.response_rate; }},
      {"median_first_response_minutes", Field::kMedian,
       [](const Totals& t) { return t.median_first_response_minutes; }},
  };
  return f;
}

int Decimals(Field::Kind k) { return k == Field::kMedian ? 2 : (k == Field::kCount ? 0 : 4); }

std::optional<double> Delta(const Field& f, const Totals& now, const Totals& before) {
  auto a = f.get(now), b = f.get(before);
  if (!a || !b) return std::nullopt;
  return *a - *b;
}

void WriteValue(json::Writer& w, Field::Kind k, std::optional<double> v) {
  if (!v)
    w.Null();
  else if (k == Field::kCount)
    w.Int(static_cast<int64_t>(std::llround(*v)));
  else
    w.Fixed(*v, Decimals(k));
}

void WriteTotals(json::Writer& w, const Totals& t) {
  w.BeginObject();
  for (const auto& f : TotalsFields()) {
    w.Key(f.key);
    WriteValue(w, f.kind, f.get(t));
  }
  w.EndObject();
}

std::string Show(Field::Kind k, std::optional<double> v, bool signed_delta = false) {
  if (!v) return "–";
  std::string s;
  if (k == Field::kCount)
    s = std::to_string(std::llround(*v));
  else if (k == Field::kRatio)
    s = json::FormatFixed(*v * 100, 1) + (signed_delta ? " pt" : " %");
  else if (k == Field::kAverage)
    s = json::FormatFixed(*v, 2);
  else
    s = json::FormatFixed(*v, 1) + " min";
  if (signed_delta && *v > 0) s = "+" + s;
  return s;
}

std::string Pct(std::optional<double> v) { return v ? json::FormatFixed(*v * 100, 1) + " %" : "–"; }

std::string Esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o.push_back(c);
    }
  }
  return o;
}

// "2026-10-26 to 2026-11-01": the week's local days.
std::string LocalDays(const Report& r) {
  auto tz = FindZone(r.timezone);
  if (!tz.ok()) return FormatIso(r.from) + " to " + FormatIso(r.to);
  return FormatLocal(*tz, r.from).substr(0, 10) + " to " +
         FormatLocal(*tz, r.to - std::chrono::seconds{1}).substr(0, 10);
}

std::string GroupName(const Report& r, const std::string& id) {
  auto it = r.group_names.find(id);
  return it == r.group_names.end() ? id : it->second;
}

const Field& FieldNamed(const char* key) {
  for (const auto& f : TotalsFields())
    if (std::string(f.key) == key) return f;
  return TotalsFields().front();
}

}  // namespace

std::string RenderJson(const Report& r) {
  json::Writer w;
  w.BeginObject();
  w.Key("definitions_version").Int(kDefinitionsVersion);
  w.Key("week").String(r.week).Key("timezone").String(r.timezone);
  w.Key("from").String(FormatIso(r.from)).Key("to").String(FormatIso(r.to));
  w.Key("as_of").String(FormatIso(r.as_of)).Key("provisional").Bool(r.provisional);
  w.Key("totals");
  WriteTotals(w, r.totals);
  w.Key("trend");
  WriteTotals(w, r.trend);
  w.Key("delta").BeginObject();
  for (const auto& f : TotalsFields()) {
    w.Key(f.key);
    WriteValue(w, f.kind, Delta(f, r.totals, r.trend));
  }
  w.EndObject();
  w.Key("prompts").BeginArray();
  for (const auto& p : r.prompts) {
    w.BeginObject().Key("prompt_id").String(p.prompt_id).Key("campaign").String(p.campaign);
    w.Key("step").Int(p.step).Key("group_id").String(p.group_id).Key("type").String(p.type);
    w.Key("audience").OptInt(p.audience).Key("answerers").OptInt(p.answerers);
    w.Key("response_rate").OptFixed(p.response_rate, 4);
    w.Key("median_minutes_to_answer").OptFixed(p.median_minutes_to_answer, 2);
    w.Key("correct_rate").OptFixed(p.correct_rate, 4).Key("suppressed").Bool(p.suppressed);
    w.EndObject();
  }
  w.EndArray();
  w.Key("campaigns").BeginArray();
  for (const auto& c : r.campaigns) {
    w.BeginObject().Key("campaign").String(c.campaign).Key("prompts").Int(c.prompts);
    w.Key("participants").Int(c.participants).Key("answers").Int(c.answers);
    w.Key("completion_rate").OptFixed(c.completion_rate, 4).EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take() + "\n";
}

std::string RenderMarkdown(const Report& r) {
  std::ostringstream o;
  o << "**Learning on the network — week " << r.week << "**"
    << (r.provisional ? " (provisional)" : "") << "\n\n";
  o << "| | this week | change |\n|---|---:|---:|\n";
  for (const char* key :
       {"members", "active_users", "engagement_rate", "posts", "replies", "reactions",
        "response_rate", "median_first_response_minutes", "new_contributors"}) {
    const Field& f = FieldNamed(key);
    std::string label =
        key == std::string("median_first_response_minutes") ? "time to first response" : key;
    for (auto& ch : label)
      if (ch == '_') ch = ' ';
    o << "| " << label << " | " << Show(f.kind, f.get(r.totals)) << " | "
      << Show(f.kind, Delta(f, r.totals, r.trend), true) << " |\n";
  }
  if (!r.prompts.empty()) {
    o << "\n**Prompts**\n\n| campaign | step | answered | median time |\n|---|---:|---:|---:|\n";
    for (const auto& p : r.prompts) {
      o << "| " << p.campaign << " | " << p.step << " | ";
      if (p.suppressed)
        o << "suppressed (small group) | – |\n";
      else
        o << *p.answerers << " of " << *p.audience << " (" << Pct(p.response_rate) << ") | "
          << Show(Field::kMedian, p.median_minutes_to_answer) << " |\n";
    }
  }
  o << "\nWeek " << r.week << " in " << r.timezone << ", definitions version "
    << kDefinitionsVersion << "; groups under " << r.min_group_size << " people are not shown.\n";
  return o.str();
}

std::string RenderHtml(const Report& r) {
  std::ostringstream o;
  o << R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>learnloop weekly report )"
    << Esc(r.week) << R"(</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:960px;margin:0 auto;padding:16px}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.6rem 0 .6rem}
.sub{color:#5a6475;font-size:.9rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:10px;margin-top:12px}
.card{background:#fff;border-radius:8px;padding:12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card .k{font-size:.8rem;color:#5a6475}.card .v{font-size:1.6rem;font-weight:600}
.up{color:#1a7f37}.down{color:#b42318}.flat{color:#5a6475}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:8px;overflow:hidden;font-size:.9rem}
th,td{padding:6px 10px;text-align:left;border-bottom:1px solid #e6e8ec}td.n,th.n{text-align:right}
.sup{color:#8a94a6;font-style:italic}.badge{background:#fff4e5;color:#8a4b00;border-radius:4px;padding:2px 6px;font-size:.8rem}
main .scroll{overflow-x:auto}
footer{margin-top:24px;font-size:.8rem;color:#5a6475}
@media print{body{background:#fff}.card,table{box-shadow:none;border:1px solid #ccc}}
</style></head><body><main>
)";
  o << "<h1>Learning on the network — week " << Esc(r.week) << "</h1>\n";
  o << "<div class=\"sub\">" << Esc(LocalDays(r)) << " (" << Esc(r.timezone) << ")";
  if (r.provisional) o << " <span class=\"badge\">provisional: responses may still grow</span>";
  o << "</div>\n<section class=\"cards\" id=\"headline\">\n";
  for (const char* key : {"members", "active_users", "engagement_rate", "response_rate",
                          "median_first_response_minutes"}) {
    const Field& f = FieldNamed(key);
    auto d = Delta(f, r.totals, r.trend);
    const char* cls = !d || *d == 0 ? "flat" : (*d > 0 ? "up" : "down");
    if (std::string(key) == "median_first_response_minutes" && d && *d != 0)
      cls = *d < 0 ? "up" : "down";
    std::string label = key;
    if (label == "median_first_response_minutes") label = "time to first response";
    for (auto& ch : label)
      if (ch == '_') ch = ' ';
    o << "<div class=\"card\" data-key=\"" << key << "\"><div class=\"k\">" << Esc(label)
      << "</div><div class=\"v\">" << Esc(Show(f.kind, f.get(r.totals))) << "</div><div class=\""
      << cls << "\">" << Esc(Show(f.kind, d, true)) << " since last week</div></div>\n";
  }
  o << "</section>\n<h2>Activity</h2>\n<div class=\"scroll\"><table><tr><th>figure</th><th "
       "class=\"n\">this week</th><th "
       "class=\"n\">last week</th><th class=\"n\">change</th></tr>\n";
  for (const auto& f : TotalsFields()) {
    std::string label = f.key;
    for (auto& ch : label)
      if (ch == '_') ch = ' ';
    o << "<tr><td>" << Esc(label) << "</td><td class=\"n\">" << Esc(Show(f.kind, f.get(r.totals)))
      << "</td><td class=\"n\">" << Esc(Show(f.kind, f.get(r.trend))) << "</td><td class=\"n\">"
      << Esc(Show(f.kind, Delta(f, r.totals, r.trend), true)) << "</td></tr>\n";
  }
  o << "</table></div>\n<h2>Prompts of the week</h2>\n";
  if (r.prompts.empty()) {
    o << "<p class=\"sub\">No prompt was posted this week.</p>\n";
  } else {
    o << "<div class=\"scroll\"><table><tr><th>campaign</th><th "
         "class=\"n\">step</th><th>community</th><th "
         "class=\"n\">audience</th><th class=\"n\">answered</th><th class=\"n\">response "
         "rate</th><th class=\"n\">median time to answer</th><th class=\"n\">correct</th></tr>\n";
    for (const auto& p : r.prompts) {
      o << "<tr><td>" << Esc(p.campaign) << "</td><td class=\"n\">" << p.step << "</td><td>"
        << Esc(GroupName(r, p.group_id)) << "</td>";
      if (p.suppressed) {
        o << "<td class=\"sup\" colspan=\"5\">suppressed: fewer than " << r.min_group_size
          << " people</td></tr>\n";
        continue;
      }
      o << "<td class=\"n\">" << *p.audience << "</td><td class=\"n\">" << *p.answerers
        << "</td><td class=\"n\">" << Esc(Pct(p.response_rate)) << "</td><td class=\"n\">"
        << Esc(Show(Field::kMedian, p.median_minutes_to_answer)) << "</td><td class=\"n\">"
        << Esc(Pct(p.correct_rate)) << "</td></tr>\n";
    }
    o << "</table></div>\n";
  }
  if (!r.campaigns.empty()) {
    o << "<h2>Campaigns</h2>\n<div class=\"scroll\"><table><tr><th>campaign</th><th "
         "class=\"n\">prompts this "
         "week</th><th class=\"n\">participants</th><th class=\"n\">answers</th><th "
         "class=\"n\">completion</th></tr>\n";
    for (const auto& c : r.campaigns)
      o << "<tr><td>" << Esc(c.campaign) << "</td><td class=\"n\">" << c.prompts
        << "</td><td class=\"n\">" << c.participants << "</td><td class=\"n\">" << c.answers
        << "</td><td class=\"n\">" << Esc(Pct(c.completion_rate)) << "</td></tr>\n";
    o << "</table></div>\n";
  }
  o << "<footer><p>Figures follow learnloop's metric definitions, version " << kDefinitionsVersion
    << ". Week: Monday 00:00 to Monday 00:00 in " << Esc(r.timezone)
    << ". A response is a reply or a reaction by someone else within 7 days. "
    << "Computed at " << Esc(FormatIso(r.as_of)) << ". Privacy: rows about fewer than "
    << r.min_group_size
    << " people are suppressed (with one complementary row); no person is named.</p></footer>\n";
  o << "</main></body></html>\n";
  return o.str();
}

}  // namespace learnloop::analytics
