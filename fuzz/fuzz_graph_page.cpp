// Microsoft Graph chatMessage pages and single messages, and the HTML of a message body.
#include <cstddef>
#include <cstdint>
#include <string>

#include "connectors/teams/graph_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  using namespace learnloop::connectors::teams;
  const std::string channel = "19:0b9d5b6e6f0e4c3f9d3f1a7b2c4d6e8f@thread.tacv2";
  (void)ParseMessagePage(body, "teams", channel);
  (void)ParseOneMessage(body, "teams", channel);
  (void)TextOfHtml(body);
  (void)GraphMessageId(body);
  return 0;
}
