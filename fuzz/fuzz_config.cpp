// Configuration files as an author might write them, and worse.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"
#include "connectors/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto r = learnloop::config::LoadString(text, "fuzz.yaml", learnloop::connectors::Kinds());
  for (const auto& e : r.errors) (void)e.ToString();
  return 0;
}
