#pragma once
// The one wrapper around OpenSSL's libcrypto for what learnloop verifies itself: RS256
// signatures of JSON Web Tokens with keys published as JWKs.
#include <optional>
#include <string>
#include <string_view>

namespace learnloop::crypto {

// Base64url without padding (RFC 4648 §5), as JWTs and JWKs use it; nullopt on a bad symbol.
std::optional<std::string> Base64UrlDecode(std::string_view in);
std::string Base64UrlEncode(std::string_view in);

// RSASSA-PKCS1-v1_5 with SHA-256 over `data`, with the public key given as the raw big-endian
// modulus and exponent (the decoded JWK "n" and "e").
bool VerifyRs256(std::string_view data, std::string_view signature, std::string_view modulus,
                 std::string_view exponent);

}  // namespace learnloop::crypto
