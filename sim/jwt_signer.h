#pragma once
// RS256 tokens like the ones the Bot Connector puts on activities it sends to a bot, and the
// public key set (JWKS) a bot fetches to check them (reference §3.3). OpenSSL behind it.
#include <memory>
#include <string>

namespace learnloop::sim {

class JwtSigner {
 public:
  JwtSigner();  // a fresh 2048-bit RSA key
  ~JwtSigner();
  JwtSigner(const JwtSigner&) = delete;
  JwtSigner& operator=(const JwtSigner&) = delete;
  // header.payload.signature for the given JSON claims.
  std::string Sign(const std::string& claims_json) const;
  std::string Jwks() const;  // {"keys":[{kty, use, kid, n, e, …}]}
  const std::string& kid() const { return kid_; }

 private:
  struct Key;
  std::unique_ptr<Key> key_;
  std::string kid_;
};

std::string Base64Url(const std::string& bytes);

}  // namespace learnloop::sim
