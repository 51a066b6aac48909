#pragma once
// Where the HTTP layer gets the bearer token of each request: a fixed one here, OAuth 2.0
// tokens in oauth.h.
#include <string>

#include "core/result.h"
#include "core/secret.h"

namespace learnloop::connectors::http {

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // A token to send now; fetched or renewed first when needed.
  virtual Result<std::string> Get() = 0;
  // The service refused the token (401): the next Get fetches a new one.
  virtual void Invalidate() = 0;
  // Whether a new token can be had at all (a fixed token cannot be renewed).
  virtual bool Renewable() const = 0;
};

class StaticToken final : public TokenSource {
 public:
  explicit StaticToken(Secret token) : token_(std::move(token)) {}
  Result<std::string> Get() override { return token_.Reveal(); }
  void Invalidate() override {}
  bool Renewable() const override { return false; }

 private:
  Secret token_;
};

}  // namespace learnloop::connectors::http
