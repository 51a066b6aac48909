#pragma once
// Checks the JWT the Bot Connector service sends with each activity (reference §3.3): RS256,
// signed by a key published in the OpenID configuration's key set, issuer
// https://api.botframework.com, audience our app id, within its lifetime (5 minutes of clock
// skew), and a serviceUrl claim equal to the activity's.
#include <map>
#include <mutex>
#include <string>

#include "connectors/common/http.h"
#include "core/clock.h"
#include "core/result.h"

namespace learnloop::connectors::teams {

class BotTokenValidator {
 public:
  BotTokenValidator(http::Client& client, Clock& clock, std::string openid_url, std::string app_id);
  // `authorization`: the request's Authorization header.
  Status Validate(const std::string& authorization, const std::string& service_url);

 private:
  struct Key {
    std::string n, e;  // decoded modulus and exponent
  };
  Status FetchKeys();

  http::Client& client_;
  Clock& clock_;
  std::string openid_url_, app_id_;
  std::mutex mu_;
  std::map<std::string, Key> keys_;  // by kid
  Time fetched_at_{};
};

}  // namespace learnloop::connectors::teams
