#include "core/secret.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace learnloop {

bool IsEnvReference(const std::string& s) {
  if (s.size() < 4 || s[0] != '$' || s[1] != '{' || s.back() != '}') return false;
  for (size_t i = 2; i + 1 < s.size(); ++i) {
    char c = s[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

Result<Secret> Secret::FromReference(const std::string& ref) {
  if (!IsEnvReference(ref))
    return Result<Secret>::Fail("secrets must be written as ${ENV_VAR} or given as a file");
  std::string name = ref.substr(2, ref.size() - 3);
  const char* v = std::getenv(name.c_str());
  if (!v || !*v) return Result<Secret>::Fail("environment variable " + name + " is not set");
  return Secret(v);
}

Result<Secret> Secret::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Result<Secret>::Fail("cannot read secret file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string v = ss.str();
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  if (v.empty()) return Result<Secret>::Fail("secret file " + path + " is empty");
  return Secret(std::move(v));
}

}  // namespace learnloop
