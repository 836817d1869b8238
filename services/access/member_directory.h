#pragma once

// What the access service needs to know about a member of the caller's tenant, and about the
// tenant itself, and where it comes from: membership's GetMemberProfile and GetTenant (gRPC
// calls with a service token in production, GrpcMemberDirectory; in-memory maps in unit
// tests, FakeMemberDirectory). Access never reads membership's tables.

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cpts::access {

// The profession code of a médecin généraliste (general practitioner) in membership's
// reference list: only they declare MT capacity.
inline constexpr char kGeneralPractitionerProfession[] = "MEDECIN_GENERALISTE";

// (The `{}` on each member lets callers use designated initializers.)
struct MemberFacts {
  std::string member_id{};
  bool active = false;            // status ACTIVE today
  std::string profession_code{};  // empty for a legal entity
  std::vector<std::string> commune_insee_codes{};
  // For partner platforms (the SAS FHIR answer names the professional).
  std::string rpps{};  // 11 digits, or empty
  std::string given_name{};
  std::string family_name{};
};

// The CPTS itself, as the SAS FHIR answer names it (its Organization).
struct TenantFacts {
  std::string tenant_id{};
  std::string name{};
  std::string finess{};  // 9 characters without prefix, or empty when the CPTS has none
};

class MemberDirectory {
 public:
  virtual ~MemberDirectory() = default;
  // The tenant `tenant_id`. NotFound when membership has no such tenant; Unavailable (retry)
  // when membership cannot be reached; InvalidArgument for a malformed id.
  virtual absl::StatusOr<TenantFacts> GetTenant(absl::string_view tenant_id) = 0;
  // The member `member_id` of `tenant_id` as of today. NotFound when the tenant has no such
  // member; Unavailable (retry) when membership cannot be reached; InvalidArgument for a
  // malformed id.
  virtual absl::StatusOr<MemberFacts> GetMember(absl::string_view tenant_id,
                                                absl::string_view member_id) = 0;
};

// For unit tests of the domain and the stores only.
class FakeMemberDirectory final : public MemberDirectory {
 public:
  void Put(absl::string_view tenant_id, MemberFacts facts) {
    std::lock_guard lock(mu_);
    members_[Key(tenant_id, facts.member_id)] = std::move(facts);
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
  absl::StatusOr<TenantFacts> GetTenant(absl::string_view tenant_id) override {
    std::lock_guard lock(mu_);
    if (!failure_.ok()) return failure_;
    auto it = tenants_.find(std::string(tenant_id));
    if (it == tenants_.end()) return absl::NotFoundError(absl::StrCat("tenant ", tenant_id));
    return it->second;
  }
  absl::StatusOr<MemberFacts> GetMember(absl::string_view tenant_id,
                                        absl::string_view member_id) override {
    std::lock_guard lock(mu_);
    if (!failure_.ok()) return failure_;
    auto it = members_.find(Key(tenant_id, member_id));
    if (it == members_.end()) return absl::NotFoundError(absl::StrCat("member ", member_id));
    return it->second;
  }

 private:
  static std::string Key(absl::string_view tenant_id, absl::string_view member_id) {
    return absl::StrCat(tenant_id, "/", member_id);
  }
  std::mutex mu_;
  std::map<std::string, MemberFacts> members_;
  std::map<std::string, TenantFacts> tenants_;
  absl::Status failure_;
};

}  // namespace cpts::access
