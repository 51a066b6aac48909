#include "core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace learnloop {

Status MakePrivateDirs(const std::string& dir) {
  namespace fs = std::filesystem;
  if (dir.empty()) return Status::Ok();
  fs::path p = fs::path(dir).lexically_normal();
  fs::path at;
  for (const auto& part : p) {
    at /= part;
    if (part.empty() || at == at.root_path()) continue;
    if (::mkdir(at.c_str(), 0700) != 0 && errno != EEXIST)
      return Status::Fail("cannot create " + at.string() + ": " + std::strerror(errno));
  }
  std::error_code ec;
  if (!fs::is_directory(p, ec)) return Status::Fail("cannot create " + dir + ": not a directory");
  return Status::Ok();
}

Status SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Fail("cannot open " + path + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::Fail("cannot flush " + path + " to disk: " + std::strerror(err));
  return Status::Ok();
}

}  // namespace learnloop
