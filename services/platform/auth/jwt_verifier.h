#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/platform/auth/principal.h"
#include "services/platform/core/clock.h"

namespace cpts::platform::auth {

namespace internal {
struct KeySet;
class VerifiedTokenCache;
}  // namespace internal

// Where the verifier finds its trust anchors and what the tokens must say. (The `{}` on each
// member lets callers use designated initializers without -Wmissing-field-initializers.)
struct JwtConfig {
  // Required. The exact `iss` claim expected.
  std::string issuer{};
  // Required. Must be the `aud` claim (a string) or one of its elements (an array).
  std::string audience{};
  // A PEM public key ("BEGIN PUBLIC KEY", RSA >= 2048 bits or EC P-256). It has no kid, so it
  // is tried for tokens with no kid and for tokens with any kid.
  std::string public_key_file{};
  // A JWKS file ({"keys": [...]}) with RSA (n, e) and EC P-256 (x, y) keys, each with a `kid`
  // and an optional `alg`. Keys of other types are skipped, so an OIDC provider's JWKS can be
  // used as is. At least one of the two files is required; both may be given.
  std::string jwks_file{};
  // Tolerated clock skew for `exp`, `nbf` and `iat`. Between 0 and 5 minutes.
  absl::Duration leeway = absl::Seconds(30);
};

// Verifies bearer JWTs (RS256 or ES256 only) against configured public keys and turns their
// claims into a Principal. Keys are loaded once at creation; rotate by restarting.
class JwtVerifier final {
 public:
  // InvalidArgument naming the bad field or file (unreadable, not a key, no usable key).
  // `clock` must outlive the verifier.
  static absl::StatusOr<std::unique_ptr<JwtVerifier>> Create(const JwtConfig& config,
                                                             const Clock& clock);

  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;
  ~JwtVerifier();

  // The principal the token proves, or Unauthenticated with a short reason ("malformed token",
  // "unsupported algorithm", "unknown kid", "algorithm does not match key", "bad signature",
  // "wrong issuer", "wrong audience", "token expired", "token not yet valid", "missing sub",
  // "missing roles", "missing tenant_id", ...). Never says more than that about why, because
  // the reason travels back to an unauthenticated caller.
  //
  // Thread-safe. Verified tokens are cached (a few thousand, keyed by the exact token string)
  // so that a client reusing its token pays for the signature once; `exp`, `nbf` and `iat` are
  // still checked against the clock on every call.
  absl::StatusOr<Principal> Verify(std::string_view token) const;

 private:
  JwtVerifier(JwtConfig config, const Clock& clock, std::unique_ptr<internal::KeySet> keys);

  const JwtConfig config_;
  const Clock& clock_;
  const std::unique_ptr<const internal::KeySet> keys_;
  const std::unique_ptr<internal::VerifiedTokenCache> cache_;
};

// The token in an "authorization" metadata value "Bearer <token>" (scheme case-insensitive,
// surrounding whitespace ignored), as a view into `authorization_header`. Unauthenticated when
// the value is empty, uses another scheme, or the token is empty or contains whitespace.
absl::StatusOr<std::string_view> BearerToken(std::string_view authorization_header);

// ---- Minting: the dev token tool and tests. Production tokens come from the identity provider.

struct MintOptions {
  std::string issuer{};              // Required.
  std::string audience{};            // Required.
  std::string subject{};             // Required.
  std::string tenant_id{};           // Required unless `roles` contains "platform_admin".
  std::string member_id{};           // Optional.
  std::string kid{};                 // Optional: written in the header when not empty.
  std::vector<std::string> roles{};  // Required, non-empty.
  // Required (the Unix epoch, the default, is rejected as "not set"): `iat`; `exp` is
  // issued_at + ttl.
  absl::Time issued_at{};
  absl::Duration ttl = absl::Hours(1);  // Must be positive.
};

// A signed compact JWT. The algorithm follows the PEM private key: ES256 for an EC P-256 key,
// RS256 for an RSA key (>= 2048 bits). InvalidArgument for a missing option or a bad key.
absl::StatusOr<std::string> MintToken(const MintOptions& options, std::string_view private_key_pem);

// File names written by GenerateDevKeys, and the kid of the dev key in jwks.json. Character
// arrays, not std::string_view: Debian's absl::StrCat does not take std::string_view.
inline constexpr char kDevPrivateKeyFile[] = "dev-jwt-private.pem";
inline constexpr char kDevPublicKeyFile[] = "dev-jwt-public.pem";
inline constexpr char kDevJwksFile[] = "jwks.json";
inline constexpr char kDevKid[] = "dev";

// Creates `dir` (mode 0700 when it does not exist) holding a dev key pair: dev-jwt-private.pem
// (0600), dev-jwt-public.pem and jwks.json (kid "dev"). `algorithm` is "ES256" or "RS256".
// Idempotent: an existing private key is kept and the public files missing beside it are
// derived from it; FailedPrecondition if that key does not match `algorithm`.
absl::Status GenerateDevKeys(const std::string& dir, std::string_view algorithm = "ES256");

}  // namespace cpts::platform::auth
