#pragma once
// The one wrapper around OpenSSL's libcrypto: RS256 signatures of JSON Web Tokens with keys
// published as JWKs, keyed hashes for pseudonyms, random keys.
#include <optional>
#include <string>
#include <string_view>

namespace learnloop::crypto {

// Base64url without padding (RFC 4648 §5), as JWTs and JWKs use it; nullopt on a bad symbol.
std::optional<std::string> Base64UrlDecode(std::string_view in);
std::string Base64UrlEncode(std::string_view in);

// RSASSA-PKCS1-v1_5 with SHA-256 over `data`, with the public key given as the raw big-endian
// modulus and exponent (the decoded JWK "n" and "e").
// HMAC-SHA-256 of `data` with `key`, as lowercase hex (64 digits).
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// SHA-256 of `data`, as lowercase hex (64 digits).
std::string Sha256Hex(std::string_view data);
// `n` random bytes from the system's generator, as lowercase hex.
std::string RandomHex(size_t n);

bool VerifyRs256(std::string_view data, std::string_view signature, std::string_view modulus,
                 std::string_view exponent);

}  // namespace learnloop::crypto
