// The registry of connectors: each kind's sample configuration loads and makes its connector.
#include "connectors/registry.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>

#include "config/config.h"
#include "core/clock.h"
#include "core/time.h"

using namespace learnloop;
using namespace learnloop::connectors;

TEST(Registry, EveryRegisteredTypeConstructsAndNamesAreUnique) {
  ManualClock clock(*ParseIso("2026-01-01T00:00:00Z"));
  auto types = RegisteredTypes();
  std::set<std::string> unique(types.begin(), types.end());
  EXPECT_EQ(unique.size(), types.size());
  // Each kind's sample configuration (beside its connector) loads and makes its connector.
  for (const auto& t : types) {
    std::string sample = std::string(LEARNLOOP_SOURCE_DIR) + "/connectors/" + t + "/sample.yaml";
    std::ifstream in(sample);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(text.empty()) << sample;
    // Its secrets' variables, set.
    for (size_t at = text.find("${"); at != std::string::npos; at = text.find("${", at + 2))
      setenv(text.substr(at + 2, text.find('}', at) - at - 2).c_str(), "s3cret", 1);
    auto r = config::LoadFile(sample, connectors::Kinds());
    ASSERT_TRUE(r.config) << t << ": " << (r.errors.empty() ? "" : r.errors[0].ToString());
    ASSERT_TRUE(r.config->network_secret_errors.empty())
        << r.config->network_secret_errors[0].ToString();
    auto b = Create(r.config->networks.at(0), clock);
    ASSERT_TRUE(b.ok()) << t;
    EXPECT_EQ(b->connector->network(), r.config->networks[0].name);
  }
  config::NetworkConfig unknown;
  unknown.name = unknown.type = "myspace";
  EXPECT_FALSE(Create(unknown, clock).ok());
}
