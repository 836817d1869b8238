#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "cpts/membership/v1/membership_service.grpc.pb.h"
#include "services/access/member_directory.h"
#include "services/platform/client/service_identity.h"
#include "services/platform/core/clock.h"

namespace cpts::access {

// MemberDirectory over membership's GetMemberProfile and GetTenant, called as
// "service:access" for the tenant of the call. Answers are kept `ttl` (a member suspended in
// membership may still publish or accept for that long) so that booking a slot does not cost a
// second RPC each time; failures are not kept.
class GrpcMemberDirectory final : public MemberDirectory {
 public:
  GrpcMemberDirectory(platform::client::ServiceIdentity& identity,
                      const std::string& membership_target, const platform::Clock& clock,
                      absl::Duration ttl = absl::Seconds(30),
                      absl::Duration deadline = absl::Seconds(3));

  absl::StatusOr<MemberFacts> GetMember(absl::string_view tenant_id,
                                        absl::string_view member_id) override;
  absl::StatusOr<TenantFacts> GetTenant(absl::string_view tenant_id) override;

 private:
  // A call context with the deadline and the service token for `tenant_id`.
  absl::Status Prepare(absl::string_view tenant_id, grpc::ClientContext& context);
  struct Cached {
    MemberFacts facts;
    absl::Time expires;
  };
  platform::client::ServiceIdentity& identity_;
  std::unique_ptr<membership::v1::MembershipService::Stub> stub_;
  const platform::Clock& clock_;
  const absl::Duration ttl_;
  const absl::Duration deadline_;
  std::mutex mu_;
  std::map<std::string, Cached> cache_;
  struct CachedTenant {
    TenantFacts facts;
    absl::Time expires;
  };
  std::map<std::string, CachedTenant> tenant_cache_;
};

}  // namespace cpts::access
