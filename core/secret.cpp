#include "core/secret.h"

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
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
  // A regular file of at most 64 KiB: a device, a FIFO or a huge file would be read forever.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Result<Secret>::Fail("cannot read secret file " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return Result<Secret>::Fail("secret file " + path + " is not a regular file");
  if (st.st_size > 64 * 1024)
    return Result<Secret>::Fail("secret file " + path + " is larger than 64 KiB");
  std::ifstream in(path);
  if (!in) return Result<Secret>::Fail("cannot read secret file " + path);
  std::string v(64 * 1024 + 1, '\0');
  in.read(v.data(), static_cast<std::streamsize>(v.size()));
  v.resize(static_cast<size_t>(in.gcount()));
  if (v.size() > 64 * 1024)
    return Result<Secret>::Fail("secret file " + path + " is larger than 64 KiB");
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  if (v.empty()) return Result<Secret>::Fail("secret file " + path + " is empty");
  return Secret(std::move(v));
}

}  // namespace learnloop
