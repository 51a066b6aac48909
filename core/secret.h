#pragma once
// Tokens and client secrets: never printed, read from an environment variable or a file.
#include <ostream>
#include <string>

#include "core/result.h"

namespace learnloop {

class Secret {
 public:
  Secret() = default;
  // "${NAME}" reads the environment variable NAME; any other text is refused (secrets do not
  // belong in config files). Use FromFile for a file.
  static Result<Secret> FromReference(const std::string& ref);
  static Result<Secret> FromFile(const std::string& path);
  static Secret FromValue(std::string v) { return Secret(std::move(v)); }
  const std::string& Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "<secret>"; }

 private:
  explicit Secret(std::string v) : value_(std::move(v)) {}
  std::string value_;
};

// True when the text has the shape "${NAME}".
bool IsEnvReference(const std::string& s);

}  // namespace learnloop
