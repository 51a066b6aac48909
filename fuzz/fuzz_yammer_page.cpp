// Viva Engage pages as a hostile or broken service might send them: messages, users, groups.
#include <cstddef>
#include <cstdint>
#include <string>

#include "connectors/yammer/parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  using namespace learnloop::connectors::yammer;
  if (auto page = ParseMessagePage(body, "yammer"); page.ok())
    for (const auto& m : page->messages) (void)m;
  (void)ParseUserPage(body, "yammer");
  (void)ParseUserBody(body, "yammer");
  (void)ParseGroups(body);
  (void)MentionsFromParsed(body);
  return 0;
}
