#pragma once
// A recorded or documented ESN answer of a connector's test data
// (tests/connectors/<connector>/testdata/<name>).
#include <fstream>
#include <sstream>
#include <string>

namespace learnloop::testing {

inline std::string ReadTestdata(const std::string& connector, const std::string& name) {
  std::ifstream in(std::string(LEARNLOOP_SOURCE_DIR) + "/tests/connectors/" + connector +
                   "/testdata/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace learnloop::testing
