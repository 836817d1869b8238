// Token minting and dev keys: used by the cpts-token command and by tests, never by a server.

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/platform/auth/jwt_internal.h"
#include "services/platform/auth/jwt_verifier.h"
#include "services/platform/core/status_macros.h"

namespace cpts::platform::auth {
namespace {

using internal::KeyType;
using internal::ToAbsl;

absl::Status CheckMintOptions(const MintOptions& options) {
  if (options.issuer.empty()) {
    return absl::InvalidArgumentError("issuer is required");
  }
  if (options.audience.empty()) {
    return absl::InvalidArgumentError("audience is required");
  }
  if (options.subject.empty()) {
    return absl::InvalidArgumentError("subject is required");
  }
  if (options.roles.empty()) {
    return absl::InvalidArgumentError("at least one role is required");
  }
  for (const std::string& role : options.roles) {
    if (role.empty()) {
      return absl::InvalidArgumentError("roles must not be empty strings");
    }
  }
  const bool platform_admin = std::find(options.roles.begin(), options.roles.end(),
                                        roles::kPlatformAdmin) != options.roles.end();
  if (options.tenant_id.empty() && !platform_admin) {
    return absl::InvalidArgumentError("tenant_id is required unless a role is platform_admin");
  }
  // A default-constructed absl::Time is the epoch: a token that expired in 1970 is never what
  // the caller meant.
  if (options.issued_at == absl::UnixEpoch()) {
    return absl::InvalidArgumentError("issued_at is required");
  }
  if (options.ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ttl must be positive");
  }
  return absl::OkStatus();
}

std::string Join(const std::string& dir, std::string_view file) {
  return absl::StrCat(dir, "/", ToAbsl(file));
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// Writes a derived public file unless it is there already (kept as is: idempotent).
absl::Status WriteIfMissing(const std::string& path, std::string_view contents) {
  if (Exists(path)) {
    return absl::OkStatus();
  }
  absl::Status status = internal::WriteNewFile(path, contents, 0644);
  return absl::IsAlreadyExists(status) ? absl::OkStatus() : status;
}

}  // namespace

absl::StatusOr<std::string> MintToken(const MintOptions& options,
                                      std::string_view private_key_pem) {
  CPTS_RETURN_IF_ERROR(CheckMintOptions(options));
  absl::StatusOr<internal::EvpPkeyPtr> key = internal::PrivateKeyFromPem(private_key_pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("private key: ", key.status().message()));
  }
  CPTS_ASSIGN_OR_RETURN(const KeyType type, internal::KeyTypeOf(key->get()));

  std::string header =
      absl::StrCat("{\"alg\":\"", ToAbsl(internal::AlgorithmFor(type)), "\",\"typ\":\"JWT\"");
  if (!options.kid.empty()) {
    absl::StrAppend(&header, ",\"kid\":", platform::JsonQuote(options.kid));
  }
  header += "}";

  std::vector<std::string> quoted_roles;
  quoted_roles.reserve(options.roles.size());
  for (const std::string& role : options.roles) {
    quoted_roles.push_back(platform::JsonQuote(role));
  }
  std::string payload = absl::StrCat("{\"iss\":", platform::JsonQuote(options.issuer),
                                     ",\"aud\":", platform::JsonQuote(options.audience),
                                     ",\"sub\":", platform::JsonQuote(options.subject));
  if (!options.tenant_id.empty()) {
    absl::StrAppend(&payload, ",\"tenant_id\":", platform::JsonQuote(options.tenant_id));
  }
  if (!options.member_id.empty()) {
    absl::StrAppend(&payload, ",\"member_id\":", platform::JsonQuote(options.member_id));
  }
  absl::StrAppend(&payload, ",\"roles\":[", absl::StrJoin(quoted_roles, ","),
                  "],\"iat\":", absl::ToUnixSeconds(options.issued_at),
                  ",\"exp\":", absl::ToUnixSeconds(options.issued_at + options.ttl), "}");

  std::string token = absl::StrCat(ToAbsl(internal::Base64UrlEncode(header)), ".",
                                   ToAbsl(internal::Base64UrlEncode(payload)));
  CPTS_ASSIGN_OR_RETURN(const std::string signature, internal::Sign(key->get(), type, token));
  absl::StrAppend(&token, ".", internal::Base64UrlEncode(signature));
  return token;
}

absl::Status GenerateDevKeys(const std::string& dir, std::string_view algorithm) {
  KeyType type;
  if (algorithm == "ES256") {
    type = KeyType::kEcP256;
  } else if (algorithm == "RS256") {
    type = KeyType::kRsa;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("algorithm must be ES256 or RS256, not \"", ToAbsl(algorithm), "\""));
  }
  if (dir.empty()) {
    return absl::InvalidArgumentError("dev key directory is required");
  }

  std::error_code ec;
  // Only a directory we create gets 0700: tightening an existing one (say /tmp) is not ours
  // to do.
  if (std::filesystem::create_directories(dir, ec)) {
    if (::chmod(dir.c_str(), 0700) != 0) {
      return absl::InternalError(absl::StrCat(dir, ": cannot chmod 0700"));
    }
  } else if (ec) {
    return absl::InternalError(absl::StrCat(dir, ": ", ec.message()));
  }

  const std::string private_path = Join(dir, kDevPrivateKeyFile);
  internal::EvpPkeyPtr key;
  if (!Exists(private_path)) {
    CPTS_ASSIGN_OR_RETURN(key, internal::GenerateKey(type));
    CPTS_ASSIGN_OR_RETURN(const std::string pem, internal::PrivateKeyToPem(key.get()));
    absl::Status written = internal::WriteNewFile(private_path, pem, 0600);
    // Lost a race with another process creating the same key: use theirs, as if it had
    // been there before.
    if (absl::IsAlreadyExists(written)) {
      key.reset();
    } else if (!written.ok()) {
      return written;
    }
  }
  if (key == nullptr) {
    absl::StatusOr<std::string> pem = internal::ReadFile(private_path);
    if (!pem.ok()) {
      return absl::InternalError(absl::StrCat(private_path, ": ", pem.status().message()));
    }
    absl::StatusOr<internal::EvpPkeyPtr> existing = internal::PrivateKeyFromPem(*pem);
    if (!existing.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat(private_path, ": ", existing.status().message()));
    }
    CPTS_ASSIGN_OR_RETURN(const KeyType existing_type, internal::KeyTypeOf(existing->get()));
    if (existing_type != type) {
      return absl::FailedPreconditionError(
          absl::StrCat(private_path, " holds an ", ToAbsl(internal::AlgorithmFor(existing_type)),
                       " key, not ", ToAbsl(algorithm), "; remove it to generate a new one"));
    }
    key = std::move(*existing);
  }

  CPTS_ASSIGN_OR_RETURN(const std::string public_pem, internal::PublicKeyToPem(key.get()));
  CPTS_RETURN_IF_ERROR(WriteIfMissing(Join(dir, kDevPublicKeyFile), public_pem));
  CPTS_ASSIGN_OR_RETURN(const std::string jwk, internal::PublicKeyToJwk(key.get(), kDevKid));
  return WriteIfMissing(Join(dir, kDevJwksFile), absl::StrCat("{\"keys\": [", jwk, "]}\n"));
}

}  // namespace cpts::platform::auth
