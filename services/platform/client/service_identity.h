#pragma once

// How one of our services calls another: a channel to the peer (TLS with the peer's expected
// name, and our certificate for mTLS, when configured) and a short-lived bearer token that
// proves "service:<name>" acting for one tenant. The token is signed with the calling
// service's own key, whose public half is in the JWKS every service trusts (in the local
// stack: the dev key). The tenant of an outbound call is always the tenant of the inbound
// call that caused it.

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/platform/core/clock.h"

namespace cpts::platform::client {

struct ServiceIdentityConfig {
  std::string service_name{};      // Required: the subject is "service:<name>".
  std::string issuer{};            // Required: the `iss` the peers verify.
  std::string audience{};          // Required: the `aud` the peers verify.
  std::string private_key_file{};  // Required: PEM (EC P-256 or RSA) signing key.
  std::string kid{};               // Optional: the key's id in the peers' JWKS.
  absl::Duration token_ttl = absl::Minutes(10);
  // Outbound TLS: plaintext when ca_file is empty. cert/key: our client certificate (mTLS).
  std::string tls_ca_file{}, tls_cert_file{}, tls_key_file{};
  // The name the peer's certificate must carry when it differs from the target's host.
  std::string tls_server_name{};
};

class ServiceIdentity final {
 public:
  // InvalidArgument naming the missing setting or the unreadable file.
  static absl::StatusOr<std::unique_ptr<ServiceIdentity>> Create(ServiceIdentityConfig config,
                                                                 const Clock& clock);

  // A bearer token for `tenant_id` with role "service", reused until half its life has passed.
  // Thread-safe.
  absl::StatusOr<std::string> TokenFor(std::string_view tenant_id);

  // A channel to `target` ("host:port"), secured as configured.
  std::shared_ptr<grpc::Channel> Channel(const std::string& target) const;

 private:
  ServiceIdentity(ServiceIdentityConfig config, const Clock& clock, std::string key_pem,
                  std::shared_ptr<grpc::ChannelCredentials> credentials);

  struct CachedToken {
    std::string token;
    absl::Time renew_after;
  };
  const ServiceIdentityConfig config_;
  const Clock& clock_;
  const std::string key_pem_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::mutex mu_;
  std::map<std::string, CachedToken, std::less<>> tokens_;
};

}  // namespace cpts::platform::client
