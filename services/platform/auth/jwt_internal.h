#pragma once

#include "services/platform/core/json.h"

// Building blocks shared by the verifier, the minter and their tests. Not part of the public
// API: only services/platform/auth includes this.

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace cpts::platform::auth::internal {

// Debian's Abseil 20220623 is built with its own absl::string_view, a type distinct from
// std::string_view that does not convert implicitly: bridge at every Abseil call.
inline absl::string_view ToAbsl(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view ToStd(absl::string_view s) { return {s.data(), s.size()}; }

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

// The only two algorithms we accept; each is bound to one key type, which is what rules out
// algorithm confusion.
enum class KeyType { kRsa, kEcP256 };
std::string_view AlgorithmFor(KeyType type);  // "RS256" or "ES256"

// Unpadded base64url (RFC 7515 section 2). Decoding rejects padding and any other alphabet.
std::string Base64UrlEncode(std::string_view data);
bool Base64UrlDecode(std::string_view encoded, std::string* out);

// A JSON object, or InvalidArgument. Numbers become doubles (exact up to 2^53, plenty for
// NumericDate).
absl::StatusOr<google::protobuf::Struct> ParseJsonObject(std::string_view json);

// RSA keys must have at least 2048 bits; EC keys must be on P-256. InvalidArgument otherwise.
absl::StatusOr<KeyType> KeyTypeOf(EVP_PKEY* key);
absl::StatusOr<EvpPkeyPtr> PublicKeyFromPem(std::string_view pem);
absl::StatusOr<EvpPkeyPtr> PrivateKeyFromPem(std::string_view pem);  // unencrypted only
absl::StatusOr<std::string> PublicKeyToPem(EVP_PKEY* key);
absl::StatusOr<std::string> PrivateKeyToPem(EVP_PKEY* key);  // PKCS#8, unencrypted
absl::StatusOr<EvpPkeyPtr> GenerateKey(KeyType type);

// A public key from the members of one JWK (kty "RSA" with n, e or kty "EC", crv "P-256" with
// x, y). Unimplemented for other key types, InvalidArgument for a malformed supported one.
absl::StatusOr<EvpPkeyPtr> PublicKeyFromJwk(const google::protobuf::Struct& jwk);
// The JWK of a public key as a JSON object, with `kid`, `alg` and "use": "sig".
absl::StatusOr<std::string> PublicKeyToJwk(EVP_PKEY* key, std::string_view kid);

// JWS signature over `signing_input` with SHA-256: PKCS#1 v1.5 for RSA, and for EC the raw
// 64-byte r||s of RFC 7518 section 3.4 (not OpenSSL's DER).
absl::StatusOr<std::string> Sign(EVP_PKEY* key, KeyType type, std::string_view signing_input);
// True only for a valid signature. `sha256` is prefetched by the caller (the hot path should
// not look the digest up by name each time). Leaves no OpenSSL error on the thread's queue.
bool VerifySignature(EVP_PKEY* key, KeyType type, const EVP_MD* sha256,
                     std::string_view signing_input, std::string_view signature);

// Whole-file I/O with errno in the message. WriteFile fails if the file exists.
absl::StatusOr<std::string> ReadFile(const std::string& path);
absl::Status WriteNewFile(const std::string& path, std::string_view contents, int mode);

}  // namespace cpts::platform::auth::internal
