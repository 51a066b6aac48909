#pragma once
// The process's metrics: counters and gauges with labels, kept in one registry and written in
// the Prometheus text exposition format (version 0.0.4) for the admin listener's /metrics.
// Anything may add to them from any thread.
#include <string>
#include <utility>
#include <vector>

namespace learnloop::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Declares a metric once (its type, "counter" or "gauge", and its help line); a metric used
// without a declaration is written as untyped.
void Describe(const std::string& name, const std::string& type, const std::string& help);
// Adds to a counter (created at 0).
void Add(const std::string& name, const Labels& labels, double by = 1);
// Sets a gauge.
void Set(const std::string& name, const Labels& labels, double value);
// Drops every series of a metric (a gauge whose label values come and go).
void Clear(const std::string& name);
// The value of one series (0 when there is none), for tests and for what reads its own figures.
double Value(const std::string& name, const Labels& labels);
// Every metric, sorted by name, in the text exposition format.
std::string Render();

}  // namespace learnloop::metrics
