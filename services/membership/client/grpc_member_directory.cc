#include "services/membership/client/grpc_member_directory.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "services/platform/core/grpc_status.h"

namespace cpts::membership::client {
namespace {

// Bounds the caches of a long-running process; entries are cheap to fetch again.
constexpr size_t kMaxCached = 20'000;

absl::Status MembershipError(const grpc::Status& status) {
  absl::Status mapped = platform::FromGrpcStatus(status);
  // Membership refusing us is a deployment error, not the caller's: do not pass it on as if
  // the caller lacked a right.
  if (absl::IsPermissionDenied(mapped) || absl::IsUnauthenticated(mapped)) {
    return absl::InternalError(absl::StrCat("membership refused this service: ", mapped.message()));
  }
  if (absl::IsDeadlineExceeded(mapped)) {
    return absl::UnavailableError("membership did not answer in time");
  }
  return mapped;
}

MemberProfile FromProto(const v1::MemberProfile& in) {
  MemberProfile out;
  out.member_id = in.member_id();
  out.kind = static_cast<MemberKind>(in.kind());
  out.status = static_cast<MemberStatus>(in.status());
  out.profession_code = in.profession_code();
  out.exercise_mode = static_cast<ExerciseMode>(in.exercise_mode());
  out.commune_insee_codes.assign(in.commune_insee_codes().begin(), in.commune_insee_codes().end());
  out.college_id = in.college_id();
  out.on_date = absl::CivilDay(in.on_date().year(), in.on_date().month(), in.on_date().day());
  out.membership_year = in.membership_year();
  out.up_to_date = in.up_to_date();
  out.payee.kind = static_cast<PayeeKind>(in.payee().kind());
  out.payee.employer_member_id = in.payee().employer_member_id();
  out.payee.convention_id = in.payee().convention_id();
  out.payee.none_reason = static_cast<PayeeNoneReason>(in.payee().none_reason());
  out.rpps = in.rpps();
  out.given_name = in.given_name();
  out.family_name = in.family_name();
  out.mandate_bodies.reserve(in.mandate_bodies_size());
  for (int body : in.mandate_bodies()) out.mandate_bodies.push_back(static_cast<MandateBody>(body));
  return out;
}

template <class Map>
void Remember(Map& map, const std::string& key, typename Map::mapped_type entry) {
  if (map.size() >= kMaxCached) map.clear();
  map[key] = std::move(entry);
}

}  // namespace

GrpcMemberDirectory::GrpcMemberDirectory(platform::client::ServiceIdentity& identity,
                                         const std::string& membership_target,
                                         const platform::Clock& clock, absl::Duration ttl,
                                         absl::Duration deadline)
    : identity_(identity),
      stub_(v1::MembershipService::NewStub(identity.Channel(membership_target))),
      clock_(clock),
      ttl_(ttl),
      deadline_(deadline) {}

absl::Status GrpcMemberDirectory::Prepare(absl::string_view tenant_id,
                                          grpc::ClientContext& context) {
  auto token = identity_.TokenFor(std::string_view(tenant_id.data(), tenant_id.size()));
  if (!token.ok()) return token.status();
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(absl::ToInt64Milliseconds(deadline_)));
  context.AddMetadata("authorization", "Bearer " + *token);
  return absl::OkStatus();
}

absl::StatusOr<MemberProfile> GrpcMemberDirectory::GetMemberProfile(
    absl::string_view tenant_id, absl::string_view member_id, std::optional<absl::CivilDay> on) {
  if (member_id.empty()) return absl::InvalidArgumentError("member_id: required");
  const std::string key = absl::StrCat(tenant_id, "/", member_id, "/",
                                       on.has_value() ? absl::FormatCivilTime(*on) : "today");
  const absl::Time now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    if (auto it = members_.find(key); it != members_.end() && now < it->second.expires) {
      return it->second.value;
    }
  }
  grpc::ClientContext context;
  if (absl::Status s = Prepare(tenant_id, context); !s.ok()) return s;
  v1::GetMemberProfileRequest request;
  request.set_member_id(std::string(member_id));
  if (on.has_value()) {
    request.mutable_on_date()->set_year(static_cast<int>(on->year()));
    request.mutable_on_date()->set_month(on->month());
    request.mutable_on_date()->set_day(on->day());
  }
  v1::GetMemberProfileResponse response;
  const grpc::Status status = stub_->GetMemberProfile(&context, request, &response);
  if (!status.ok()) return MembershipError(status);
  MemberProfile profile = FromProto(response.profile());
  std::lock_guard lock(mu_);
  Remember(members_, key, {profile, now + ttl_});
  return profile;
}

absl::StatusOr<TenantFacts> GrpcMemberDirectory::GetTenant(absl::string_view tenant_id) {
  if (tenant_id.empty()) return absl::InvalidArgumentError("tenant_id: required");
  const std::string key(tenant_id);
  const absl::Time now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    if (auto it = tenants_.find(key); it != tenants_.end() && now < it->second.expires) {
      return it->second.value;
    }
  }
  grpc::ClientContext context;
  if (absl::Status s = Prepare(tenant_id, context); !s.ok()) return s;
  v1::GetTenantRequest request;  // empty id: the caller's (the token's) tenant
  v1::GetTenantResponse response;
  const grpc::Status status = stub_->GetTenant(&context, request, &response);
  if (!status.ok()) return MembershipError(status);
  TenantFacts facts{.tenant_id = response.tenant().id(),
                    .name = response.tenant().name(),
                    .finess = response.tenant().finess(),
                    .territory_communes = {response.tenant().territory_communes().begin(),
                                           response.tenant().territory_communes().end()}};
  std::lock_guard lock(mu_);
  Remember(tenants_, key, {facts, now + ttl_});
  return facts;
}

}  // namespace cpts::membership::client
