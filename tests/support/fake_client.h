#pragma once
// An HTTP client for unit tests: serves queued responses in order and remembers the requests.
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "connectors/common/http.h"

namespace learnloop::testing {

class FakeClient : public connectors::http::Client {
 public:
  std::deque<Result<connectors::http::Response>> replies;
  std::vector<connectors::http::Request> seen;
  Result<connectors::http::Response> Send(const connectors::http::Request& r) override {
    seen.push_back(r);
    if (replies.empty()) return Result<connectors::http::Response>::Fail("no more replies");
    auto x = replies.front();
    replies.pop_front();
    return x;
  }
  void Add(int status, std::string body, std::map<std::string, std::string> headers = {}) {
    connectors::http::Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    replies.push_back(r);
  }
  void AddError(const std::string& message) {
    replies.push_back(Result<connectors::http::Response>::Fail(message));
  }
};

}  // namespace learnloop::testing
