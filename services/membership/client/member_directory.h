#pragma once

// How the other services learn what membership knows: a member's profile on a day (status,
// profession, exercise mode, communes, up-to-date flag, payee, RPPS, names, bodies the member
// holds a mandate in) and the tenant's identity. In production GrpcMemberDirectory calls
// membership's GetMemberProfile and GetTenant with a service token; unit tests use
// FakeMemberDirectory. No other service reads membership's tables.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/membership/model.h"

namespace cpts::membership::client {

// The profession code of a médecin généraliste (general practitioner) in the reference list.
inline constexpr char kGeneralPractitionerProfession[] = "MEDECIN_GENERALISTE";

// The CPTS itself, as partner platforms name it. (`{}` defaults: designated initializers.)
struct TenantFacts {
  std::string tenant_id{};
  std::string name{};
  std::string finess{};  // 9 characters, or empty when the CPTS has none
  std::vector<std::string> territory_communes{};
};

inline bool IsActive(const MemberProfile& profile) {
  return profile.status == MemberStatus::kActive;
}

class MemberDirectory {
 public:
  virtual ~MemberDirectory() = default;
  // The profile of `member_id` of `tenant_id` on `on` (nullopt: today in the tenant's
  // calendar). NotFound when the tenant has no such member; Unavailable (retry) when
  // membership cannot be reached; InvalidArgument for a malformed id or day.
  virtual absl::StatusOr<MemberProfile> GetMemberProfile(
      absl::string_view tenant_id, absl::string_view member_id,
      std::optional<absl::CivilDay> on = std::nullopt) = 0;
  // NotFound when membership has no such tenant; Unavailable when it cannot be reached.
  virtual absl::StatusOr<TenantFacts> GetTenant(absl::string_view tenant_id) = 0;
};

// For unit tests only. A profile put without a day answers for every day.
class FakeMemberDirectory final : public MemberDirectory {
 public:
  void Put(absl::string_view tenant_id, MemberProfile profile) {
    std::lock_guard lock(mu_);
    members_[absl::StrCat(tenant_id, "/", profile.member_id)] = std::move(profile);
  }
  void PutTenant(TenantFacts facts) {
    std::lock_guard lock(mu_);
    const std::string id = facts.tenant_id;
    tenants_[id] = std::move(facts);
  }
  // Every later call fails with `status` until it is OK again.
  void FailWith(absl::Status status) {
    std::lock_guard lock(mu_);
    failure_ = std::move(status);
  }
  absl::StatusOr<MemberProfile> GetMemberProfile(absl::string_view tenant_id,
                                                 absl::string_view member_id,
                                                 std::optional<absl::CivilDay> on) override {
    std::lock_guard lock(mu_);
    if (!failure_.ok()) return failure_;
    auto it = members_.find(absl::StrCat(tenant_id, "/", member_id));
    if (it == members_.end()) return absl::NotFoundError(absl::StrCat("member ", member_id));
    MemberProfile profile = it->second;
    if (on.has_value()) profile.on_date = *on;
    return profile;
  }
  absl::StatusOr<TenantFacts> GetTenant(absl::string_view tenant_id) override {
    std::lock_guard lock(mu_);
    if (!failure_.ok()) return failure_;
    auto it = tenants_.find(std::string(tenant_id));
    if (it == tenants_.end()) return absl::NotFoundError(absl::StrCat("tenant ", tenant_id));
    return it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, MemberProfile> members_;
  std::map<std::string, TenantFacts> tenants_;
  absl::Status failure_;
};

}  // namespace cpts::membership::client
