#include "sim/jwt_signer.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <stdexcept>
#include <vector>

#include "core/json.h"

namespace learnloop::sim {

std::string Base64Url(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(k[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out.push_back(k[(v >> 18) & 63]);
    out.push_back(k[(v >> 12) & 63]);
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out.push_back(k[(v >> 18) & 63]);
    out.push_back(k[(v >> 12) & 63]);
    out.push_back(k[(v >> 6) & 63]);
  }
  return out;
}

struct JwtSigner::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

JwtSigner::JwtSigner() : key_(std::make_unique<Key>()) {
  key_->pkey = EVP_RSA_gen(2048);
  if (!key_->pkey) throw std::runtime_error("cannot generate an RSA key");
  kid_ = Base64Url(Sign("{}").substr(0, 12)).substr(0, 16);
}

JwtSigner::~JwtSigner() = default;

std::string JwtSigner::Sign(const std::string& claims_json) const {
  json::Writer h;
  h.BeginObject().Key("alg").String("RS256").Key("kid").String(kid_).Key("x5t").String(kid_);
  h.Key("typ").String("JWT").EndObject();
  std::string input = Base64Url(h.str()) + "." + Base64Url(claims_json);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::vector<unsigned char> sig;
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(input.data()),
                        input.size()) == 1;
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("cannot sign a token");
  return input + "." + Base64Url(std::string(sig.begin(), sig.begin() + static_cast<long>(len)));
}

std::string JwtSigner::Jwks() const {
  auto part = [&](const char* name) {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_->pkey, name, &bn);
    std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return Base64Url(bytes);
  };
  json::Writer w;
  w.BeginObject().Key("keys").BeginArray().BeginObject();
  w.Key("kty").String("RSA").Key("use").String("sig").Key("kid").String(kid_).Key("x5t").String(
      kid_);
  w.Key("n").String(part(OSSL_PKEY_PARAM_RSA_N)).Key("e").String(part(OSSL_PKEY_PARAM_RSA_E));
  w.Key("endorsements").BeginArray().String("msteams").EndArray();
  w.EndObject().EndArray().EndObject();
  return w.Take();
}

}  // namespace learnloop::sim
