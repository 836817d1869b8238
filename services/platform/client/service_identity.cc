#include "services/platform/client/service_identity.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/platform/auth/jwt_verifier.h"
#include "services/platform/auth/principal.h"

namespace cpts::platform::client {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* flag) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceIdentity>> ServiceIdentity::Create(
    ServiceIdentityConfig config, const Clock& clock) {
  if (config.service_name.empty()) return absl::InvalidArgumentError("service_name: required");
  if (config.issuer.empty() || config.audience.empty()) {
    return absl::InvalidArgumentError("issuer and audience: required");
  }
  if (config.private_key_file.empty()) {
    return absl::InvalidArgumentError("service_key_file: required");
  }
  if (config.token_ttl < absl::Minutes(1)) {
    return absl::InvalidArgumentError("token_ttl: at least one minute");
  }
  auto key = ReadFile(config.private_key_file, "service_key_file");
  if (!key.ok()) return key.status();

  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!config.tls_ca_file.empty()) {
    grpc::SslCredentialsOptions ssl;
    auto ca = ReadFile(config.tls_ca_file, "peer_tls_ca_file");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
    if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
      return absl::InvalidArgumentError("tls_cert_file and tls_key_file go together");
    }
    if (!config.tls_cert_file.empty()) {
      auto cert = ReadFile(config.tls_cert_file, "tls_cert_file");
      if (!cert.ok()) return cert.status();
      auto tls_key = ReadFile(config.tls_key_file, "tls_key_file");
      if (!tls_key.ok()) return tls_key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *tls_key;
    }
    credentials = grpc::SslCredentials(ssl);
  }
  // Fail at start-up, not on the first call, when the key cannot sign.
  auto probe = auth::MintToken({.issuer = config.issuer,
                                .audience = config.audience,
                                .subject = "service:" + config.service_name,
                                .tenant_id = "probe",
                                .roles = {std::string(auth::roles::kService)},
                                .issued_at = clock.Now(),
                                .ttl = config.token_ttl},
                               *key);
  if (!probe.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("service_key_file: cannot sign: ", probe.status().message()));
  }
  return std::unique_ptr<ServiceIdentity>(
      new ServiceIdentity(std::move(config), clock, *std::move(key), std::move(credentials)));
}

ServiceIdentity::ServiceIdentity(ServiceIdentityConfig config, const Clock& clock,
                                 std::string key_pem,
                                 std::shared_ptr<grpc::ChannelCredentials> credentials)
    : config_(std::move(config)),
      clock_(clock),
      key_pem_(std::move(key_pem)),
      credentials_(std::move(credentials)) {}

absl::StatusOr<std::string> ServiceIdentity::TokenFor(std::string_view tenant_id) {
  if (tenant_id.empty()) return absl::InvalidArgumentError("tenant_id: required");
  const absl::Time now = clock_.Now();
  std::lock_guard lock(mu_);
  if (auto it = tokens_.find(tenant_id); it != tokens_.end() && now < it->second.renew_after) {
    return it->second.token;
  }
  auto token = auth::MintToken({.issuer = config_.issuer,
                                .audience = config_.audience,
                                .subject = "service:" + config_.service_name,
                                .tenant_id = std::string(tenant_id),
                                .kid = config_.kid,
                                .roles = {std::string(auth::roles::kService)},
                                .issued_at = now,
                                .ttl = config_.token_ttl},
                               key_pem_);
  if (!token.ok()) return token.status();
  tokens_[std::string(tenant_id)] = {*token, now + config_.token_ttl / 2};
  return *token;
}

std::shared_ptr<grpc::Channel> ServiceIdentity::Channel(const std::string& target) const {
  grpc::ChannelArguments args;
  if (!config_.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(config_.tls_server_name);
  }
  return grpc::CreateCustomChannel(target, credentials_, args);
}

}  // namespace cpts::platform::client
