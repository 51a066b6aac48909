#pragma once
// A folder of its own for a test, removed with everything in it when the test ends.
#include <stdlib.h>

#include <filesystem>

namespace learnloop::testing {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char t[] = "/tmp/learnloop-test-XXXXXX";
    path = mkdtemp(t);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace learnloop::testing
