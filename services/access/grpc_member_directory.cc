#include "services/access/grpc_member_directory.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "services/platform/core/grpc_status.h"

namespace cpts::access {
namespace {

// Bounds the cache of a long-running process; entries are cheap to fetch again.
constexpr size_t kMaxCached = 20'000;

absl::Status MembershipError(const grpc::Status& status) {
  absl::Status mapped = platform::FromGrpcStatus(status);
  // Membership refusing us is a deployment error, not the caller's: do not pass it on as if
  // the caller lacked a right.
  if (absl::IsPermissionDenied(mapped) || absl::IsUnauthenticated(mapped)) {
    return absl::InternalError(
        absl::StrCat("membership refused the access service: ", mapped.message()));
  }
  if (absl::IsDeadlineExceeded(mapped)) {
    return absl::UnavailableError("membership did not answer in time");
  }
  return mapped;
}

}  // namespace

GrpcMemberDirectory::GrpcMemberDirectory(platform::client::ServiceIdentity& identity,
                                         const std::string& membership_target,
                                         const platform::Clock& clock, absl::Duration ttl,
                                         absl::Duration deadline)
    : identity_(identity),
      stub_(membership::v1::MembershipService::NewStub(identity.Channel(membership_target))),
      clock_(clock),
      ttl_(ttl),
      deadline_(deadline) {}

absl::StatusOr<MemberFacts> GrpcMemberDirectory::GetMember(absl::string_view tenant_id,
                                                           absl::string_view member_id) {
  if (member_id.empty()) return absl::InvalidArgumentError("member_id: required");
  const std::string key = absl::StrCat(tenant_id, "/", member_id);
  const absl::Time now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end() && now < it->second.expires) {
      return it->second.facts;
    }
  }
  grpc::ClientContext context;
  if (absl::Status s = Prepare(tenant_id, context); !s.ok()) return s;
  membership::v1::GetMemberProfileRequest request;
  request.set_member_id(std::string(member_id));
  membership::v1::GetMemberProfileResponse response;
  const grpc::Status status = stub_->GetMemberProfile(&context, request, &response);
  if (!status.ok()) return MembershipError(status);
  const auto& profile = response.profile();
  MemberFacts facts;
  facts.member_id = profile.member_id();
  facts.active = profile.status() == membership::v1::MEMBER_STATUS_ACTIVE;
  facts.profession_code = profile.profession_code();
  facts.commune_insee_codes.assign(profile.commune_insee_codes().begin(),
                                   profile.commune_insee_codes().end());
  facts.rpps = profile.rpps();
  facts.given_name = profile.given_name();
  facts.family_name = profile.family_name();
  std::lock_guard lock(mu_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[key] = {facts, now + ttl_};
  return facts;
}

absl::Status GrpcMemberDirectory::Prepare(absl::string_view tenant_id,
                                          grpc::ClientContext& context) {
  auto token = identity_.TokenFor(std::string_view(tenant_id.data(), tenant_id.size()));
  if (!token.ok()) return token.status();
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(absl::ToInt64Milliseconds(deadline_)));
  context.AddMetadata("authorization", "Bearer " + *token);
  return absl::OkStatus();
}

absl::StatusOr<TenantFacts> GrpcMemberDirectory::GetTenant(absl::string_view tenant_id) {
  if (tenant_id.empty()) return absl::InvalidArgumentError("tenant_id: required");
  const std::string key(tenant_id);
  const absl::Time now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    if (auto it = tenant_cache_.find(key); it != tenant_cache_.end() && now < it->second.expires) {
      return it->second.facts;
    }
  }
  grpc::ClientContext context;
  if (absl::Status s = Prepare(tenant_id, context); !s.ok()) return s;
  // Empty tenant_id: the token's tenant, the only one a service token may read.
  membership::v1::GetTenantRequest request;
  membership::v1::GetTenantResponse response;
  const grpc::Status status = stub_->GetTenant(&context, request, &response);
  if (!status.ok()) return MembershipError(status);
  if (response.tenant().id() != tenant_id) {
    return absl::InternalError(
        absl::StrCat("membership answered tenant ", response.tenant().id(), " for ", tenant_id));
  }
  TenantFacts facts;
  facts.tenant_id = response.tenant().id();
  facts.name = response.tenant().name();
  facts.finess = response.tenant().finess();
  std::lock_guard lock(mu_);
  if (tenant_cache_.size() >= kMaxCached) tenant_cache_.clear();
  tenant_cache_[key] = {facts, now + ttl_};
  return facts;
}

}  // namespace cpts::access
