#pragma once
// Named, quiet loggers (one per component, e.g. "connector.yammer"), all writing to stderr in
// one of three shapes: plain lines with the time (a terminal, a file), lines with the
// journald priority prefix "<N>" (under systemd, when stderr is the journal's stream), or one
// JSON object per line (`log_format: json`, for a log shipper).
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace learnloop {

std::shared_ptr<spdlog::logger> Logger(const std::string& name);
// Sets the level of every logger: trace, debug, info, warn (or warning), error, critical, off.
// An unknown name keeps the level as it was and returns false: a typo never silences the log.
bool SetLogLevel(const std::string& level);
// "text" (plain, or journald's prefixes when stderr is the journal) or "json"; false if unknown.
bool SetLogFormat(const std::string& format);

}  // namespace learnloop
