#include "core/metrics.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>

namespace learnloop::metrics {

namespace {

struct Family {
  std::string type = "untyped", help;
  std::map<Labels, double> series;
};

std::mutex g_mu;
std::map<std::string, Family>& Families() {
  static auto* f = new std::map<std::string, Family>();  // never destroyed: used at exit too
  return *f;
}

// A label value or help text as the format writes it: backslash, newline (and, in a label
// value, the double quote) escaped.
std::string Escape(const std::string& s, bool quote) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quote)
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

void Describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard lock(g_mu);
  auto& f = Families()[name];
  f.type = type;
  f.help = help;
}

void Add(const std::string& name, const Labels& labels, double by) {
  std::lock_guard lock(g_mu);
  Families()[name].series[labels] += by;
}

void Set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(g_mu);
  Families()[name].series[labels] = value;
}

void Clear(const std::string& name) {
  std::lock_guard lock(g_mu);
  auto it = Families().find(name);
  if (it != Families().end()) it->second.series.clear();
}

double Value(const std::string& name, const Labels& labels) {
  std::lock_guard lock(g_mu);
  auto it = Families().find(name);
  if (it == Families().end()) return 0;
  auto s = it->second.series.find(labels);
  return s == it->second.series.end() ? 0 : s->second;
}

std::string Render() {
  std::lock_guard lock(g_mu);
  std::string out;
  for (const auto& [name, f] : Families()) {
    if (f.series.empty()) continue;
    if (!f.help.empty()) out += "# HELP " + name + " " + Escape(f.help, false) + "\n";
    out += "# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, v] : f.series) {
      out += name;
      if (!labels.empty()) {
        out += '{';
        for (size_t i = 0; i < labels.size(); ++i) {
          if (i) out += ',';
          out += labels[i].first + "=\"" + Escape(labels[i].second, true) + '"';
        }
        out += '}';
      }
      out += ' ' + Number(v) + '\n';
    }
  }
  return out;
}

}  // namespace learnloop::metrics
