#pragma once
// A poster for tests of the bot: remembers what it was asked to post and like, and can play an
// ESN that is down or that fails after the write.
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "core/clock.h"

namespace learnloop::testing {

// A poster that can pretend a post failed although it went through (a 5xx after the write).
struct FakePoster : connectors::Poster {
  std::vector<connectors::PostRequest> posts;
  bool fail_after_posting = false;
  bool down = false;  // the ESN answers 503 and posts nothing
  Clock* clock = nullptr;
  Result<connectors::Posted> Post(const connectors::PostRequest& r) override {
    if (down) return Result<connectors::Posted>::Fail("HTTP 503", 503);
    posts.push_back(r);
    if (fail_after_posting) return Result<connectors::Posted>::Fail("HTTP 503", 503);
    return connectors::Posted{std::to_string(1000 + posts.size()), clock->Now()};
  }
  std::vector<std::string> liked;
  int fail_likes = 0;  // the next likes answer a 503
  Status Acknowledge(const std::string& id) override {
    if (fail_likes > 0) {
      --fail_likes;
      return Status::Fail("HTTP 503", 503);
    }
    liked.push_back(id);
    return Status::Ok();
  }
  Result<std::vector<connectors::Posted>> FindPosted(const connectors::PostRequest& r,
                                                     Time) override {
    std::vector<connectors::Posted> found;
    for (size_t i = 0; i < posts.size(); ++i)
      if (posts[i].body == r.body && posts[i].group_id == r.group_id &&
          posts[i].reply_to == r.reply_to)
        found.push_back(connectors::Posted{std::to_string(1001 + i), clock->Now()});
    return found;
  }
};

}  // namespace learnloop::testing
