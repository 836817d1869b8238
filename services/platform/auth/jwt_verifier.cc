#include "services/platform/auth/jwt_verifier.h"

#include <openssl/evp.h>

#include <cmath>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/platform/auth/jwt_internal.h"
#include "services/platform/auth/verified_token_cache.h"
#include "services/platform/core/status_macros.h"

namespace cpts::platform::auth {
namespace internal {

struct VerificationKey {
  std::string kid;  // empty: tried whatever kid the token names
  KeyType type;
  EvpPkeyPtr key;
};

struct KeySet {
  KeySet() : sha256(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {}
  ~KeySet() { EVP_MD_free(sha256); }
  KeySet(const KeySet&) = delete;
  KeySet& operator=(const KeySet&) = delete;

  std::vector<VerificationKey> keys;
  EVP_MD* sha256;  // fetched once: a fetch by name per verification takes a global lock
};

}  // namespace internal

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using internal::KeyType;
using internal::ToAbsl;

// Far above any real token (ours are under 1 KiB, an OIDC provider's a few KiB); bounds the
// work and the cache memory an attacker can cause.
constexpr size_t kMaxTokenBytes = size_t{8} * 1024;
constexpr absl::Duration kMaxLeeway = absl::Minutes(5);

absl::Status Unauthenticated(std::string_view reason) {
  return absl::UnauthenticatedError(ToAbsl(reason));
}

absl::Status LoadPemKey(const std::string& path, internal::KeySet& keys) {
  const auto bad = [&path](const absl::Status& status) {
    return absl::InvalidArgumentError(
        absl::StrCat("jwt public_key_file \"", path, "\": ", status.message()));
  };
  absl::StatusOr<std::string> pem = internal::ReadFile(path);
  if (!pem.ok()) {
    return bad(pem.status());
  }
  absl::StatusOr<internal::EvpPkeyPtr> key = internal::PublicKeyFromPem(*pem);
  if (!key.ok()) {
    return bad(key.status());
  }
  absl::StatusOr<KeyType> type = internal::KeyTypeOf(key->get());
  if (!type.ok()) {
    return bad(type.status());
  }
  keys.keys.push_back({"", *type, std::move(*key)});
  return absl::OkStatus();
}

absl::Status LoadJwks(const std::string& path, internal::KeySet& keys) {
  const auto bad = [&path](absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat("jwt jwks_file \"", path, "\": ", message));
  };
  absl::StatusOr<std::string> json = internal::ReadFile(path);
  if (!json.ok()) {
    return bad(json.status().message());
  }
  absl::StatusOr<Struct> jwks = internal::ParseJsonObject(*json);
  if (!jwks.ok()) {
    return bad(jwks.status().message());
  }
  const auto it = jwks->fields().find("keys");
  if (it == jwks->fields().end() || !it->second.has_list_value()) {
    return bad("no \"keys\" array");
  }
  size_t usable = 0;
  const auto& entries = it->second.list_value().values();
  for (int i = 0; i < entries.size(); ++i) {
    if (!entries[i].has_struct_value()) {
      return bad(absl::StrCat("keys[", i, "] is not an object"));
    }
    const Struct& jwk = entries[i].struct_value();
    const auto field = [&jwk](const std::string& name) -> std::optional<std::string> {
      const auto f = jwk.fields().find(name);
      if (f == jwk.fields().end() || !f->second.has_string_value()) {
        return std::nullopt;
      }
      return f->second.string_value();
    };
    const std::string kid = field("kid").value_or("");
    // Encryption keys and keys for other algorithms (RS384, PS256, ...) are legitimately in an
    // identity provider's JWKS; they just cannot verify our tokens.
    if (const auto use = field("use"); use.has_value() && *use != "sig") {
      continue;
    }
    absl::StatusOr<internal::EvpPkeyPtr> key = internal::PublicKeyFromJwk(jwk);
    if (absl::IsUnimplemented(key.status())) {
      continue;
    }
    if (!key.ok()) {
      return bad(absl::StrCat("keys[", i, "] (kid \"", kid, "\"): ", key.status().message()));
    }
    absl::StatusOr<KeyType> type = internal::KeyTypeOf(key->get());
    if (!type.ok()) {
      return bad(absl::StrCat("keys[", i, "] (kid \"", kid, "\"): ", type.status().message()));
    }
    if (const auto alg = field("alg"); alg.has_value() && *alg != internal::AlgorithmFor(*type)) {
      continue;
    }
    keys.keys.push_back({kid, *type, std::move(*key)});
    ++usable;
  }
  if (usable == 0) {
    return bad("no RS256 or ES256 signing key");
  }
  return absl::OkStatus();
}

const Value* Claim(const Struct& claims, const std::string& name) {
  const auto it = claims.fields().find(name);
  return it == claims.fields().end() ? nullptr : &it->second;
}

// A NumericDate claim: nullopt when absent, an error when present but not a number.
absl::StatusOr<std::optional<absl::Time>> TimeClaim(const Struct& claims, const std::string& name) {
  const Value* value = Claim(claims, name);
  if (value == nullptr) {
    return std::nullopt;
  }
  if (!value->has_number_value() || !std::isfinite(value->number_value())) {
    return Unauthenticated(absl::StrCat("malformed ", name));
  }
  return absl::UnixEpoch() + absl::Seconds(value->number_value());
}

// The optional string claim `name`: empty when absent, an error when not a string.
absl::StatusOr<std::string> StringClaim(const Struct& claims, const std::string& name) {
  const Value* value = Claim(claims, name);
  if (value == nullptr || value->has_null_value()) {
    return std::string();
  }
  if (!value->has_string_value()) {
    return Unauthenticated(absl::StrCat("malformed ", name));
  }
  return value->string_value();
}

bool AudienceMatches(const Value* aud, const std::string& audience) {
  if (aud == nullptr) {
    return false;
  }
  if (aud->has_string_value()) {
    return aud->string_value() == audience;
  }
  if (!aud->has_list_value()) {
    return false;
  }
  for (const Value& v : aud->list_value().values()) {
    if (v.has_string_value() && v.string_value() == audience) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<Struct> DecodeJsonPart(std::string_view part) {
  std::string json;
  if (!internal::Base64UrlDecode(part, &json)) {
    return Unauthenticated("malformed token");
  }
  absl::StatusOr<Struct> object = internal::ParseJsonObject(json);
  if (!object.ok()) {
    return Unauthenticated("malformed token");
  }
  return object;
}

// Header, key selection and signature: nothing in the payload is looked at before the
// signature has been checked.
absl::Status CheckSignature(std::string_view token, const internal::KeySet& keys) {
  const size_t first_dot = token.find('.');
  const size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return Unauthenticated("malformed token");
  }
  CPTS_ASSIGN_OR_RETURN(const Struct header, DecodeJsonPart(token.substr(0, first_dot)));

  // The algorithm must be one we chose, and it decides the key type. Nothing from the header
  // ever reaches a "verify with whatever alg the token says" API, so neither "none" nor HS256
  // with a public key as the HMAC secret can get through.
  const Value* alg = Claim(header, "alg");
  if (alg == nullptr || !alg->has_string_value()) {
    return Unauthenticated("malformed token");
  }
  KeyType type;
  if (alg->string_value() == "RS256") {
    type = KeyType::kRsa;
  } else if (alg->string_value() == "ES256") {
    type = KeyType::kEcP256;
  } else {
    return Unauthenticated("unsupported algorithm");
  }
  // RFC 7515 section 4.1.11: an extension we do not understand must be refused.
  if (Claim(header, "crit") != nullptr) {
    return Unauthenticated("unsupported critical header");
  }
  const Value* kid = Claim(header, "kid");
  if (kid != nullptr && !kid->has_string_value()) {
    return Unauthenticated("malformed token");
  }

  std::string signature;
  if (!internal::Base64UrlDecode(token.substr(second_dot + 1), &signature)) {
    return Unauthenticated("malformed token");
  }
  const std::string_view signing_input = token.substr(0, second_dot);
  bool kid_known = false;
  bool type_matches = false;
  for (const internal::VerificationKey& key : keys.keys) {
    if (kid != nullptr && !key.kid.empty() && key.kid != kid->string_value()) {
      continue;
    }
    kid_known = true;
    if (key.type != type) {
      continue;
    }
    type_matches = true;
    if (internal::VerifySignature(key.key.get(), key.type, keys.sha256, signing_input, signature)) {
      return absl::OkStatus();
    }
  }
  if (!kid_known) {
    return Unauthenticated("unknown kid");
  }
  if (!type_matches) {
    return Unauthenticated("algorithm does not match key");
  }
  return Unauthenticated("bad signature");
}

absl::StatusOr<internal::VerifiedToken> VerifyUncached(std::string_view token,
                                                       const JwtConfig& config,
                                                       const internal::KeySet& keys,
                                                       absl::Time now) {
  CPTS_RETURN_IF_ERROR(CheckSignature(token, keys));
  const size_t payload_begin = token.find('.') + 1;
  CPTS_ASSIGN_OR_RETURN(const Struct claims, DecodeJsonPart(token.substr(
                                                 payload_begin, token.rfind('.') - payload_begin)));

  const Value* iss = Claim(claims, "iss");
  if (iss == nullptr || !iss->has_string_value() || iss->string_value() != config.issuer) {
    return Unauthenticated("wrong issuer");
  }
  if (!AudienceMatches(Claim(claims, "aud"), config.audience)) {
    return Unauthenticated("wrong audience");
  }

  internal::VerifiedToken verified;
  CPTS_ASSIGN_OR_RETURN(const std::optional<absl::Time> exp, TimeClaim(claims, "exp"));
  if (!exp.has_value()) {
    return Unauthenticated("missing exp");
  }
  verified.times.expires_at = *exp;
  CPTS_ASSIGN_OR_RETURN(const std::optional<absl::Time> nbf, TimeClaim(claims, "nbf"));
  if (nbf.has_value()) {
    verified.times.not_before = *nbf;
  }
  CPTS_ASSIGN_OR_RETURN(const std::optional<absl::Time> iat, TimeClaim(claims, "iat"));
  if (iat.has_value()) {
    verified.times.issued_at = *iat;
  }
  CPTS_RETURN_IF_ERROR(internal::CheckTokenTimes(verified.times, now, config.leeway));

  Principal& principal = verified.principal;
  CPTS_ASSIGN_OR_RETURN(principal.subject, StringClaim(claims, "sub"));
  if (principal.subject.empty()) {
    return Unauthenticated("missing sub");
  }

  const Value* roles = Claim(claims, "roles");
  if (roles == nullptr || !roles->has_list_value() || roles->list_value().values().empty()) {
    return Unauthenticated("missing roles");
  }
  for (const Value& role : roles->list_value().values()) {
    if (!role.has_string_value() || role.string_value().empty()) {
      return Unauthenticated("malformed roles");
    }
    principal.roles.push_back(role.string_value());
  }

  CPTS_ASSIGN_OR_RETURN(principal.tenant_id, StringClaim(claims, "tenant_id"));
  if (principal.tenant_id.empty() && !principal.HasRole(roles::kPlatformAdmin)) {
    return Unauthenticated("missing tenant_id");
  }
  CPTS_ASSIGN_OR_RETURN(principal.member_id, StringClaim(claims, "member_id"));
  return verified;
}

}  // namespace

absl::StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(const JwtConfig& config,
                                                                 const Clock& clock) {
  if (config.issuer.empty()) {
    return absl::InvalidArgumentError("jwt issuer is required");
  }
  if (config.audience.empty()) {
    return absl::InvalidArgumentError("jwt audience is required");
  }
  if (config.public_key_file.empty() && config.jwks_file.empty()) {
    return absl::InvalidArgumentError("jwt public_key_file or jwks_file is required");
  }
  if (config.leeway < absl::ZeroDuration() || config.leeway > kMaxLeeway) {
    return absl::InvalidArgumentError(
        absl::StrCat("jwt leeway must be between 0 and ", absl::FormatDuration(kMaxLeeway)));
  }
  auto keys = std::make_unique<internal::KeySet>();
  if (keys->sha256 == nullptr) {
    return absl::InternalError("OpenSSL has no SHA256");
  }
  if (!config.public_key_file.empty()) {
    CPTS_RETURN_IF_ERROR(LoadPemKey(config.public_key_file, *keys));
  }
  if (!config.jwks_file.empty()) {
    CPTS_RETURN_IF_ERROR(LoadJwks(config.jwks_file, *keys));
  }
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(config, clock, std::move(keys)));
}

JwtVerifier::JwtVerifier(JwtConfig config, const Clock& clock,
                         std::unique_ptr<internal::KeySet> keys)
    : config_(std::move(config)),
      clock_(clock),
      keys_(std::move(keys)),
      cache_(std::make_unique<internal::VerifiedTokenCache>()) {}

JwtVerifier::~JwtVerifier() = default;

absl::StatusOr<Principal> JwtVerifier::Verify(std::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenBytes) {
    return Unauthenticated("malformed token");
  }
  const absl::Time now = clock_.Now();
  if (std::optional<internal::VerifiedToken> hit = cache_->Find(token)) {
    CPTS_RETURN_IF_ERROR(internal::CheckTokenTimes(hit->times, now, config_.leeway));
    return std::move(hit->principal);
  }
  CPTS_ASSIGN_OR_RETURN(internal::VerifiedToken verified,
                        VerifyUncached(token, config_, *keys_, now));
  cache_->Insert(token, verified, now);
  return std::move(verified.principal);
}

absl::StatusOr<std::string_view> BearerToken(std::string_view authorization_header) {
  constexpr std::string_view kScheme = "bearer";
  const std::string_view header =
      internal::ToStd(absl::StripAsciiWhitespace(ToAbsl(authorization_header)));
  if (header.empty()) {
    return Unauthenticated("missing bearer token");
  }
  if (header.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(ToAbsl(header.substr(0, kScheme.size())), ToAbsl(kScheme)) ||
      (header[kScheme.size()] != ' ' && header[kScheme.size()] != '\t')) {
    return Unauthenticated("authorization scheme is not Bearer");
  }
  const absl::string_view token =
      absl::StripLeadingAsciiWhitespace(ToAbsl(header.substr(kScheme.size())));
  if (token.empty()) {
    return Unauthenticated("missing bearer token");
  }
  for (const char c : token) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return Unauthenticated("malformed bearer token");
    }
  }
  return internal::ToStd(token);
}

}  // namespace cpts::platform::auth
