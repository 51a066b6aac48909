#pragma once
// Named, quiet loggers (one per component, e.g. "connector.yammer").
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace learnloop {

std::shared_ptr<spdlog::logger> Logger(const std::string& name);
// Sets the level of every logger: trace, debug, info, warn, error, off.
void SetLogLevel(const std::string& level);

}  // namespace learnloop
