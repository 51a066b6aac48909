// The three renderings of a weekly report: JSON (keys exactly as METRICS.md), a Markdown
// digest short enough to post, and one self-contained HTML page (inline CSS, no scripts).
#include <cmath>
#include <cstring>
#include <functional>
#include <sstream>

#include "analytics/report.h"
#include "core/csv.h"
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

// A name or text on one line, as a reader sees it: line breaks and other control characters
// become spaces, and bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), which
// would turn the rest of a line around, are dropped. Very long names are cut (with "…").
std::string OneLine(const std::string& s, size_t max_bytes = 120) {
  std::string o;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0xE2 && i + 2 < s.size()) {
      auto b = static_cast<unsigned char>(s[i + 1]), d = static_cast<unsigned char>(s[i + 2]);
      if ((b == 0x80 && d >= 0xAA && d <= 0xAE) || (b == 0x81 && d >= 0xA6 && d <= 0xA9)) {
        i += 2;
        continue;
      }
    }
    o.push_back(c < 0x20 || c == 0x7F ? ' ' : s[i]);
  }
  if (o.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(o[cut]) & 0xC0) == 0x80) --cut;  // whole chars
    o = o.substr(0, cut) + "…";
  }
  return o;
}

// A name in Markdown (a table cell, never at a line's start): on one line, and each mark that
// Markdown or HTML could read as markup there backslash-escaped (CommonMark shows an escaped
// punctuation mark as itself), so `|`, `[x](javascript:…)`, `<b>` and `*` stay text.
std::string Md(const std::string& s) {
  std::string o;
  for (char c : OneLine(s)) {
    if (c != 0 && std::strchr("\\`*_[]()<>|~&!", c)) o.push_back('\\');
    o.push_back(c);
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

// A bar per week: active people over the 12 weeks ending with this one, the engagement rate
// above each bar. Inline SVG, scaled with the page.
void TrendChart(std::ostringstream& o, const Report& r) {
  if (r.history.empty()) return;
  int64_t top = 1;
  for (const auto& t : r.history) top = std::max(top, t.active_users);
  const int W = 720, H = 200, pad = 28;
  double step = static_cast<double>(W - 2 * pad) / static_cast<double>(r.history.size());
  o << "<h2>Active people, last " << r.history.size()
    << " weeks</h2>\n<svg id=\"trend\" viewBox=\"0 0 " << W << " " << H
    << "\" width=\"100%\" role=\"img\" aria-label=\"active people per week\">\n";
  for (size_t i = 0; i < r.history.size(); ++i) {
    const Totals& t = r.history[i];
    double h = static_cast<double>(H - 2 * pad) * static_cast<double>(t.active_users) /
               static_cast<double>(top);
    double x = pad + step * static_cast<double>(i) + step * 0.15;
    double y = H - pad - h;
    bool now = i + 1 == r.history.size();
    o << "<rect x=\"" << json::FormatFixed(x, 1) << "\" y=\"" << json::FormatFixed(y, 1)
      << "\" width=\"" << json::FormatFixed(step * 0.7, 1) << "\" height=\""
      << json::FormatFixed(h, 1) << "\" fill=\"" << (now ? "#2f6fde" : "#a9c1ee") << "\"><title>"
      << Esc(r.history_weeks[i]) << ": " << t.active_users << " active</title></rect>\n";
    o << "<text x=\"" << json::FormatFixed(x + step * 0.35, 1) << "\" y=\""
      << json::FormatFixed(y - 4, 1)
      << "\" font-size=\"10\" text-anchor=\"middle\" fill=\"#1d2330\">" << t.active_users
      << "</text>\n";
    o << "<text x=\"" << json::FormatFixed(x + step * 0.35, 1) << "\" y=\"" << H - pad + 14
      << "\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5a6475\">"
      << Esc(r.history_weeks[i].substr(5)) << "</text>\n";
    o << "<text x=\"" << json::FormatFixed(x + step * 0.35, 1) << "\" y=\"" << H - 4
      << "\" font-size=\"9\" text-anchor=\"middle\" fill=\"#5a6475\">"
      << Esc(Pct(t.engagement_rate)) << "</text>\n";
  }
  o << "</svg>\n";
}

// The members by persona as one bar, with the counts in the legend.
void PersonasBar(std::ostringstream& o, const Report& r) {
  const Personas& p = r.personas;
  const std::pair<const char*, int64_t> parts[] = {{"catalyst", p.catalyst},
                                                   {"engager", p.engager},
                                                   {"responder", p.responder},
                                                   {"broadcaster", p.broadcaster},
                                                   {"observer", p.observer}};
  const char* colors[] = {"#1a7f37", "#2f6fde", "#7c4dff", "#d97706", "#c3c9d4"};
  int64_t total = 0;
  for (const auto& [k, v] : parts) total += v;
  o << "<h2>How people take part (28 days)</h2>\n";
  if (total == 0) {
    o << "<p class=\"sub\">No members.</p>\n";
    return;
  }
  o << "<svg id=\"personas\" viewBox=\"0 0 720 28\" width=\"100%\" role=\"img\" "
       "aria-label=\"members by persona\">\n";
  double x = 0;
  for (size_t i = 0; i < 5; ++i) {
    double wdt = 720.0 * static_cast<double>(parts[i].second) / static_cast<double>(total);
    if (wdt > 0)
      o << "<rect x=\"" << json::FormatFixed(x, 1) << "\" y=\"0\" width=\""
        << json::FormatFixed(wdt, 1) << "\" height=\"28\" fill=\"" << colors[i] << "\"><title>"
        << parts[i].first << ": " << parts[i].second << "</title></rect>\n";
    x += wdt;
  }
  o << "</svg>\n<p class=\"sub\">";
  for (size_t i = 0; i < 5; ++i)
    o << (i ? " · " : "") << "<span style=\"color:" << colors[i] << "\">■</span> " << parts[i].first
      << " <b data-persona=\"" << parts[i].first << "\">" << parts[i].second << "</b>";
  o << "<br>Catalysts draw more responses than they make; engagers give and receive alike; "
       "responders and broadcasters mostly give (replies or posts); observers only read.</p>\n";
}

void GroupsTable(std::ostringstream& o, const Report& r) {
  o << "<h2>Communities and channels</h2>\n";
  if (r.groups.empty()) {
    o << "<p class=\"sub\">No groups.</p>\n";
    return;
  }
  o << "<div class=\"scroll\"><table id=\"groups\"><tr><th>group</th><th "
       "class=\"n\">members</th><th class=\"n\">active</th><th class=\"n\">engagement</th><th "
       "class=\"n\">posts</th><th class=\"n\">replies</th><th "
       "class=\"n\">reactions</th></tr>\n";
  for (const auto& g : r.groups) {
    o << "<tr data-group=\"" << Esc(g.group_id) << "\"><td>" << Esc(g.name) << "</td>";
    if (g.suppressed) {
      o << "<td class=\"sup\" colspan=\"6\">suppressed: fewer than " << r.min_group_size
        << " people here or in another small group</td></tr>\n";
      continue;
    }
    o << "<td class=\"n\">" << *g.members << "</td><td class=\"n\">" << *g.active_users
      << "</td><td class=\"n\">" << Esc(Pct(g.engagement_rate)) << "</td><td class=\"n\">"
      << *g.posts << "</td><td class=\"n\">" << *g.replies << "</td><td class=\"n\">"
      << *g.reactions << "</td></tr>\n";
  }
  o << "</table></div>\n";
}

void NetworkSection(std::ostringstream& o, const Report& r) {
  const NetworkFigures& n = r.network;
  o << "<h2>Who works with whom (28 days)</h2>\n<div class=\"scroll\"><table "
       "id=\"network\"><tr><th>people connected</th><th class=\"n\">"
    << n.nodes << "</th></tr><tr><td>connections</td><td class=\"n\">" << n.edges
    << "</td></tr><tr><td>returned (reciprocity)</td><td class=\"n\">" << Esc(Pct(n.reciprocity))
    << "</td></tr><tr><td>density</td><td class=\"n\">"
    << (n.density ? json::FormatFixed(*n.density, 4) : "–")
    << "</td></tr><tr><td>across communities</td><td class=\"n\">" << Esc(Pct(n.cross_group_share))
    << "</td></tr></table></div>\n";
  if (!n.top_connectors.empty()) {
    o << "<p class=\"sub\">Top connectors (pseudonymous): ";
    for (size_t i = 0; i < n.top_connectors.size(); ++i)
      o << (i ? ", " : "") << "<code>" << Esc(n.top_connectors[i]) << "</code>";
    o << "</p>\n";
  }
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
  const Personas& pe = r.personas;
  w.Key("personas").BeginObject().Key("observer").Int(pe.observer).Key("catalyst").Int(pe.catalyst);
  w.Key("engager").Int(pe.engager).Key("broadcaster").Int(pe.broadcaster);
  w.Key("responder").Int(pe.responder).EndObject();
  const NetworkFigures& n = r.network;
  w.Key("network").BeginObject().Key("nodes").Int(n.nodes).Key("edges").Int(n.edges);
  w.Key("reciprocity").OptFixed(n.reciprocity, 4).Key("density").OptFixed(n.density, 4);
  w.Key("cross_group_share").OptFixed(n.cross_group_share, 4);
  w.Key("top_connectors").StringArray(n.top_connectors).EndObject();
  w.Key("groups").BeginArray();
  for (const auto& g : r.groups) {
    w.BeginObject().Key("group_id").String(g.group_id).Key("name").String(g.name);
    w.Key("members").OptInt(g.members).Key("active_users").OptInt(g.active_users);
    w.Key("posts").OptInt(g.posts).Key("replies").OptInt(g.replies);
    w.Key("reactions").OptInt(g.reactions).Key("engagement_rate").OptFixed(g.engagement_rate, 4);
    w.Key("suppressed").Bool(g.suppressed).EndObject();
  }
  w.EndArray();
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
    w.Key("participants").OptInt(c.participants).Key("answers").OptInt(c.answers);
    w.Key("audience")
        .OptInt(c.audience)
        .Key("participation_rate")
        .OptFixed(c.participation_rate, 4);
    w.Key("completion_rate").OptFixed(c.completion_rate, 4).Key("suppressed").Bool(c.suppressed);
    w.EndObject();
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
      o << "| " << Md(p.campaign) << " | " << p.step << " | ";
      if (p.suppressed)
        o << "suppressed (small group) | – |\n";
      else
        o << *p.answerers << " of " << *p.audience << " (" << Pct(p.response_rate) << ") | "
          << Show(Field::kMedian, p.median_minutes_to_answer) << " |\n";
    }
  }
  if (!r.groups.empty()) {
    o << "\n**Communities and channels**\n\n| group | members | active | engagement |\n"
         "|---|---:|---:|---:|\n";
    for (const auto& g : r.groups) {
      o << "| " << Md(g.name) << " | ";
      if (g.suppressed)
        o << "suppressed (small group) | – | – |\n";
      else
        o << *g.members << " | " << *g.active_users << " | " << Pct(g.engagement_rate) << " |\n";
    }
  }
  const Personas& pe = r.personas;
  o << "\nOver 28 days: " << pe.catalyst << " catalysts, " << pe.engager << " engagers, "
    << pe.responder << " responders, " << pe.broadcaster << " broadcasters, " << pe.observer
    << " observers; " << r.network.nodes << " people connected, " << Pct(r.network.reciprocity)
    << " of connections returned, " << Pct(r.network.cross_group_share) << " across communities.\n";
  o << "\nWeek " << r.week << " in " << Md(r.timezone) << ", definitions version "
    << kDefinitionsVersion << "; groups under " << r.min_group_size << " people are not shown.\n";
  return o.str();
}

std::string RenderDigest(const Report& r, const std::string& link) {
  std::ostringstream o;
  o << "Learning on the network - week " << r.week << " (" << LocalDays(r) << ")"
    << (r.provisional ? ", provisional" : "") << "\n\n";
  auto line = [&](const char* label, const char* key) {
    const Field& f = FieldNamed(key);
    o << label << ": " << Show(f.kind, f.get(r.totals));
    if (auto d = Delta(f, r.totals, r.trend)) o << " (" << Show(f.kind, d, true) << ")";
    o << "\n";
  };
  line("Members", "members");
  line("Active", "active_users");
  line("Engagement", "engagement_rate");
  line("Posts", "posts");
  line("Replies", "replies");
  line("Reactions", "reactions");
  line("Posts answered", "response_rate");
  line("Time to first response", "median_first_response_minutes");
  line("New contributors", "new_contributors");
  if (!r.prompts.empty()) {
    o << "\nPrompts this week:\n";
    for (const auto& p : r.prompts) {
      o << "- " << OneLine(p.campaign, 60) << ", step " << p.step << " in "
        << OneLine(GroupName(r, p.group_id), 60) << ": ";
      if (p.suppressed)
        o << "not shown (fewer than " << r.min_group_size << " people)\n";
      else
        o << *p.answerers << " of " << *p.audience << " answered (" << Pct(p.response_rate)
          << "), median " << Show(Field::kMedian, p.median_minutes_to_answer) << "\n";
    }
  }
  if (!r.groups.empty()) {
    o << "\nCommunities and channels:\n";
    for (const auto& g : r.groups) {
      o << "- " << OneLine(g.name, 60) << ": ";
      if (g.suppressed)
        o << "not shown (fewer than " << r.min_group_size << " people)\n";
      else
        o << *g.members << " members, " << *g.active_users << " active (" << Pct(g.engagement_rate)
          << ")\n";
    }
  }
  const Personas& pe = r.personas;
  o << "\nOver 28 days: " << pe.catalyst << " catalysts, " << pe.engager << " engagers, "
    << pe.responder << " responders, " << pe.broadcaster << " broadcasters, " << pe.observer
    << " observers; " << Pct(r.network.reciprocity) << " of connections returned, "
    << Pct(r.network.cross_group_share) << " across communities.\n";
  if (!link.empty()) {
    std::string url = link;
    for (size_t at; (at = url.find("{week}")) != std::string::npos;) url.replace(at, 6, r.week);
    o << "\nFull report: " << url << "\n";
  }
  return o.str();
}

std::string RenderHtml(const Report& r) {
  std::ostringstream o;
  o << R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
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
th,td{padding:6px 10px;text-align:left;border-bottom:1px solid #e6e8ec;overflow-wrap:anywhere}td.n,th.n{text-align:right;overflow-wrap:normal;white-space:nowrap}
h1,.sub,footer,.card{overflow-wrap:anywhere}
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
  o << "</section>\n";
  TrendChart(o, r);
  o << "<h2>Activity</h2>\n<div class=\"scroll\"><table><tr><th>figure</th><th "
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
  o << "</table></div>\n";
  PersonasBar(o, r);
  o << "<h2>Prompts of the week</h2>\n";
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
         "week</th><th class=\"n\">asked</th><th class=\"n\">participants</th><th "
         "class=\"n\">participation</th><th class=\"n\">answers</th><th "
         "class=\"n\">completed (ended sequences)</th></tr>\n";
    for (const auto& c : r.campaigns) {
      o << "<tr><td>" << Esc(c.campaign) << "</td><td class=\"n\">" << c.prompts << "</td>";
      if (c.suppressed) {
        o << "<td class=\"sup\" colspan=\"5\">suppressed: fewer than " << r.min_group_size
          << " people</td></tr>\n";
        continue;
      }
      o << "<td class=\"n\">" << *c.audience << "</td><td class=\"n\">" << *c.participants
        << "</td><td class=\"n\">" << Esc(Pct(c.participation_rate)) << "</td><td class=\"n\">"
        << *c.answers << "</td><td class=\"n\">" << Esc(Pct(c.completion_rate)) << "</td></tr>\n";
    }
    o << "</table></div>\n";
  }
  GroupsTable(o, r);
  NetworkSection(o, r);
  o << "<footer><h2>How these figures are made</h2><p>Figures follow learnloop's metric "
       "definitions, version "
    << kDefinitionsVersion << " (docs/metrics.md). Week " << Esc(r.week) << ": "
    << Esc(LocalDays(r)) << ", Monday 00:00 to Monday 00:00 in " << Esc(r.timezone) << " ("
    << Esc(FormatIso(r.from)) << " to " << Esc(FormatIso(r.to))
    << " UTC). Personas and the network use the 28 days ending with the week. "
    << "A response is a reply or a reaction by someone else within 7 days. Computed at "
    << Esc(FormatIso(r.as_of)) << (r.provisional ? " (provisional)" : "") << ".</p>"
    << "<p>Privacy: rows about fewer than " << r.min_group_size
    << " people are suppressed, with one complementary row; people appear only as "
       "pseudonymous ids (a keyed hash), people who opted out not at all; no message text "
       "and no name is shown.</p></footer>\n";
  o << "</main></body></html>\n";
  return o.str();
}

}  // namespace learnloop::analytics

namespace learnloop::analytics {

namespace {
std::string Num(std::optional<int64_t> v) { return v ? std::to_string(*v) : ""; }
std::string Dec(std::optional<double> v, int decimals) {
  return v ? json::FormatFixed(*v, decimals) : "";
}
}  // namespace

std::vector<std::pair<std::string, std::string>> RenderCsv(const Report& r) {
  // Opened in a spreadsheet: UTF-8 said by a byte-order mark, names that look like formulas
  // shown as text.
  std::vector<std::pair<std::string, std::string>> files;
  std::string t = csv::SpreadsheetRow({"figure", "this_week", "last_week", "delta"});
  for (const auto& f : TotalsFields()) {
    auto cell = [&](std::optional<double> v) {
      return !v                        ? std::string()
             : f.kind == Field::kCount ? std::to_string(std::llround(*v))
                                       : json::FormatFixed(*v, Decimals(f.kind));
    };
    t += csv::SpreadsheetRow(
        {f.key, cell(f.get(r.totals)), cell(f.get(r.trend)), cell(Delta(f, r.totals, r.trend))});
  }
  files.emplace_back("totals", t);
  const Personas& p = r.personas;
  std::string pe = csv::SpreadsheetRow({"persona", "members"});
  for (const auto& [k, v] :
       std::vector<std::pair<const char*, int64_t>>{{"observer", p.observer},
                                                    {"catalyst", p.catalyst},
                                                    {"engager", p.engager},
                                                    {"broadcaster", p.broadcaster},
                                                    {"responder", p.responder}})
    pe += csv::SpreadsheetRow({k, std::to_string(v)});
  files.emplace_back("personas", pe);
  const NetworkFigures& n = r.network;
  std::string ne = csv::SpreadsheetRow({"figure", "value"});
  ne += csv::SpreadsheetRow({"nodes", std::to_string(n.nodes)});
  ne += csv::SpreadsheetRow({"edges", std::to_string(n.edges)});
  ne += csv::SpreadsheetRow({"reciprocity", Dec(n.reciprocity, 4)});
  ne += csv::SpreadsheetRow({"density", Dec(n.density, 4)});
  ne += csv::SpreadsheetRow({"cross_group_share", Dec(n.cross_group_share, 4)});
  files.emplace_back("network", ne);
  std::string tc = csv::SpreadsheetRow({"rank", "pseudonymous_id"});
  for (size_t i = 0; i < n.top_connectors.size(); ++i)
    tc += csv::SpreadsheetRow({std::to_string(i + 1), n.top_connectors[i]});
  files.emplace_back("top_connectors", tc);
  std::string g = csv::SpreadsheetRow({"group_id", "name", "members", "active_users", "posts",
                                       "replies", "reactions", "engagement_rate", "suppressed"});
  for (const auto& row : r.groups)
    g += csv::SpreadsheetRow({row.group_id, row.name, Num(row.members), Num(row.active_users),
                              Num(row.posts), Num(row.replies), Num(row.reactions),
                              Dec(row.engagement_rate, 4), row.suppressed ? "true" : "false"});
  files.emplace_back("groups", g);
  std::string pr = csv::SpreadsheetRow({"prompt_id", "campaign", "step", "group_id", "type",
                                        "audience", "answerers", "response_rate",
                                        "median_minutes_to_answer", "correct_rate", "suppressed"});
  for (const auto& row : r.prompts)
    pr += csv::SpreadsheetRow({row.prompt_id, row.campaign, std::to_string(row.step), row.group_id,
                               row.type, Num(row.audience), Num(row.answerers),
                               Dec(row.response_rate, 4), Dec(row.median_minutes_to_answer, 2),
                               Dec(row.correct_rate, 4), row.suppressed ? "true" : "false"});
  files.emplace_back("prompts", pr);
  std::string c = csv::SpreadsheetRow({"campaign", "prompts", "participants", "answers", "audience",
                                       "participation_rate", "completion_rate", "suppressed"});
  for (const auto& row : r.campaigns)
    c += csv::SpreadsheetRow({row.campaign, std::to_string(row.prompts), Num(row.participants),
                              Num(row.answers), Num(row.audience), Dec(row.participation_rate, 4),
                              Dec(row.completion_rate, 4), row.suppressed ? "true" : "false"});
  files.emplace_back("campaigns", c);
  for (auto& [table, text] : files) text.insert(0, csv::kUtf8Bom);
  return files;
}

}  // namespace learnloop::analytics
