#pragma once

// The membership domain service: one method per use case of cpts.membership.v1. Plain C++:
// the gRPC handlers (service.{h,cc}) convert proto <-> these structs, call one method and map
// the returned status once.
//
// Every method:
// - takes the verified caller; the tenant always comes from caller.tenant_id, never from the
//   request (except the platform administration of tenants);
// - validates its input and answers InvalidArgument("<field path>: <problem>"), with field
//   paths as in the proto request (e.g. "member.contact.email", "cotisation.amount_cents");
// - applies the data-dependent authorization rules (a member reads only their own record,
//   ...) and answers PermissionDenied; the gRPC layer also checks roles per RPC, coarsely;
// - returns the store's NotFound / AlreadyExists / Aborted / Unavailable unchanged in code.
//
// Dates: an unset proto Date arrives as absl::CivilDay() (1970-01-01); every date rule here
// refuses days before 2000-01-01, so "unset" and "implausible" give the same field-named
// error. "Today" is the CPTS's local day: clock time converted in the configured time zone.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/membership/lifecycle.h"
#include "services/membership/model.h"
#include "services/membership/store.h"
#include "services/platform/auth/principal.h"
#include "services/platform/core/clock.h"
#include "services/platform/core/ids.h"

namespace cpts::membership {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;
inline constexpr int kMaxBatchGet = 100;

// The etag of a record at `version` (opaque to clients).
std::string EtagFor(int64_t version);

// Europe/Paris, or a fixed UTC+1 zone if the tz database is missing.
absl::TimeZone FrenchTimeZone();

// Converts a proto-style (year, month, day) into a day, refusing impossible dates such as
// 2025-02-30 with InvalidArgument("<field>: ..."). For the gRPC layer.
absl::StatusOr<absl::CivilDay> MakeCivilDay(int64_t year, int month, int day,
                                            absl::string_view field);

// ---------------------------------------------------------------------------------------
// Requests and results
// ---------------------------------------------------------------------------------------

struct CreateTenantRequest {
  Tenant tenant;  // id, times, version ignored
  std::string request_id;
};
struct ListTenantsRequest {
  int page_size = 0;  // 0 = kDefaultPageSize; larger than kMaxPageSize = kMaxPageSize
  std::string page_token;
};
struct TenantPage {
  std::vector<Tenant> tenants;
  std::string next_page_token;
};
struct UpdateTenantRequest {
  Tenant tenant;  // id required for a platform admin; empty = the caller's tenant
  std::vector<std::string> update_mask;
  std::string etag;  // optional
};

struct CreateCollegeRequest {
  College college;
  std::string request_id;
};

// A member as the API shows it: the record plus what is derived from it today.
struct MemberView {
  Member member;
  MemberStatus status = MemberStatus::kUnspecified;  // StatusOn(today): may be kLapsed
  bool current_year_up_to_date = false;
  std::string etag;
};

struct CreateMemberRequest {
  Member member;  // output-only fields ignored
  std::string request_id;
  int activate_for_year = 0;  // 0 = create PENDING
};
struct ListMembersRequest {
  int page_size = 0;
  std::string page_token;
  MemberStatus status = MemberStatus::kUnspecified;  // kUnspecified = any
  std::string profession_code;
  std::string commune_insee;
  std::string college_id;
  std::string name_prefix;
};
struct MemberPage {
  std::vector<MemberView> members;
  std::string next_page_token;
};
struct UpdateMemberRequest {
  Member member;  // id required
  std::vector<std::string> update_mask;
  std::string etag;  // optional; stale -> Aborted
};
struct SubmitAdhesionRequest {
  Member member;
  std::string message;
  std::string request_id;
};
struct ApproveAdhesionRequest {
  std::string member_id;
  int membership_year = 0;  // 0 = current year
  std::string college_id;   // optional
};
struct RejectAdhesionRequest {
  std::string member_id;
  std::string reason;
};
struct RenewMembershipRequest {
  std::string member_id;
  int year = 0;
};
struct SuspendMemberRequest {
  std::string member_id;
  std::string reason;
};
struct ReinstateMemberRequest {
  std::string member_id;
  std::string reason;
};
struct ResignMemberRequest {
  std::string member_id;
  std::string reason;
  std::optional<absl::CivilDay> effective_date;  // nullopt = today
};

struct RecordCotisationRequest {
  Cotisation cotisation;  // id, recorded_by, create_time ignored
  std::string request_id;
};

struct CreateEmployerConventionRequest {
  EmployerConvention convention;  // id, end_reason, times ignored
  std::string request_id;
};
struct EndEmployerConventionRequest {
  std::string convention_id;
  std::optional<absl::CivilDay> end_date;  // nullopt = today
  std::string reason;
};

struct CreateMandateRequest {
  Mandate mandate;  // id, end_reason, times ignored
  std::string request_id;
};
struct EndMandateRequest {
  std::string mandate_id;
  std::optional<absl::CivilDay> end_date;  // nullopt = today
  std::string reason;
};
struct ListCurrentMandatesRequest {
  std::optional<absl::CivilDay> on_date;  // nullopt = today
  MandateBody body = MandateBody::kUnspecified;
};

struct GetMemberProfileRequest {
  std::string member_id;
  std::optional<absl::CivilDay> on_date;  // nullopt = today
};

struct ListMemberHistoryRequest {
  std::string member_id;
  int page_size = 0;
  std::string page_token;
};
struct HistoryPage {
  std::vector<AuditEntry> entries;
  std::string next_page_token;
};

// ---------------------------------------------------------------------------------------

class Membership final {
 public:
  using Principal = platform::auth::Principal;

  // `time_zone` defines "today" (FrenchTimeZone() in production). The repositories, clock
  // and id generator must outlive this object.
  Membership(MembershipRepositories repositories, const platform::Clock& clock,
             platform::IdGenerator& ids, absl::TimeZone time_zone);

  // Tenants (platform administration).
  absl::StatusOr<Tenant> CreateTenant(const Principal& caller, const CreateTenantRequest& request);
  absl::StatusOr<Tenant> GetTenant(const Principal& caller, absl::string_view tenant_id);
  absl::StatusOr<TenantPage> ListTenants(const Principal& caller,
                                         const ListTenantsRequest& request);
  absl::StatusOr<Tenant> UpdateTenant(const Principal& caller, const UpdateTenantRequest& request);

  // Professions and collèges.
  absl::StatusOr<std::vector<Profession>> ListProfessions(const Principal& caller);
  absl::StatusOr<Profession> CreateProfession(const Principal& caller,
                                              const Profession& profession);
  absl::StatusOr<College> CreateCollege(const Principal& caller,
                                        const CreateCollegeRequest& request);
  absl::StatusOr<std::vector<College>> ListColleges(const Principal& caller);

  // Members.
  absl::StatusOr<MemberView> CreateMember(const Principal& caller,
                                          const CreateMemberRequest& request);
  absl::StatusOr<MemberView> GetMember(const Principal& caller, absl::string_view member_id);
  absl::StatusOr<std::vector<MemberView>> BatchGetMembers(
      const Principal& caller, const std::vector<std::string>& member_ids);
  absl::StatusOr<MemberPage> ListMembers(const Principal& caller,
                                         const ListMembersRequest& request);
  absl::StatusOr<MemberView> UpdateMember(const Principal& caller,
                                          const UpdateMemberRequest& request);

  // Lifecycle.
  absl::StatusOr<MemberView> SubmitAdhesion(const Principal& caller,
                                            const SubmitAdhesionRequest& request);
  absl::StatusOr<MemberView> ApproveAdhesion(const Principal& caller,
                                             const ApproveAdhesionRequest& request);
  absl::StatusOr<MemberView> RejectAdhesion(const Principal& caller,
                                            const RejectAdhesionRequest& request);
  absl::StatusOr<MemberView> RenewMembership(const Principal& caller,
                                             const RenewMembershipRequest& request);
  absl::StatusOr<MemberView> SuspendMember(const Principal& caller,
                                           const SuspendMemberRequest& request);
  absl::StatusOr<MemberView> ReinstateMember(const Principal& caller,
                                             const ReinstateMemberRequest& request);
  absl::StatusOr<MemberView> ResignMember(const Principal& caller,
                                          const ResignMemberRequest& request);

  // Cotisations.
  absl::StatusOr<Cotisation> RecordCotisation(const Principal& caller,
                                              const RecordCotisationRequest& request);
  absl::StatusOr<std::vector<Cotisation>> ListCotisations(const Principal& caller,
                                                          absl::string_view member_id);

  // Employer conventions.
  absl::StatusOr<EmployerConvention> CreateEmployerConvention(
      const Principal& caller, const CreateEmployerConventionRequest& request);
  absl::StatusOr<std::vector<EmployerConvention>> ListEmployerConventions(
      const Principal& caller, absl::string_view member_id);
  absl::StatusOr<EmployerConvention> EndEmployerConvention(
      const Principal& caller, const EndEmployerConventionRequest& request);

  // Mandates.
  absl::StatusOr<Mandate> CreateMandate(const Principal& caller,
                                        const CreateMandateRequest& request);
  absl::StatusOr<Mandate> EndMandate(const Principal& caller, const EndMandateRequest& request);
  absl::StatusOr<std::vector<Mandate>> ListCurrentMandates(
      const Principal& caller, const ListCurrentMandatesRequest& request);

  // Directory for other services, and the audit history.
  absl::StatusOr<MemberProfile> GetMemberProfile(const Principal& caller,
                                                 const GetMemberProfileRequest& request);
  absl::StatusOr<HistoryPage> ListMemberHistory(const Principal& caller,
                                                const ListMemberHistoryRequest& request);

 private:
  absl::CivilDay Today() const;
  AuditEntry NewAudit(const Principal& caller, AuditAction action, std::string reason = "",
                      std::string details = "") const;
  MemberView View(Member member, const Tenant& tenant) const;
  // Validates and normalises a member sent by a client, checks its profession and collège,
  // and fills id, tenant, times, sort_name and consent times.
  absl::StatusOr<Member> PrepareNewMember(const Principal& caller, const Member& input,
                                          bool require_email);
  absl::StatusOr<MemberView> CreateMemberRecord(const Principal& caller, const Member& member,
                                                absl::string_view scope,
                                                absl::string_view request_id,
                                                std::string fingerprint, AuditEntry audit);
  // Runs one lifecycle step through the store.
  // `colleges` is non-null for an approval without an explicit collège (the member must then
  // already have one if the tenant has any); `college_id` is the collège to assign, if any.
  absl::StatusOr<MemberView> RunTransition(const Principal& caller, const Tenant& tenant,
                                           absl::string_view member_id, AuditAction action,
                                           const TransitionInput& input,
                                           const std::vector<College>* colleges,
                                           const std::string& college_id);

  MembershipRepositories repos_;
  const platform::Clock& clock_;
  platform::IdGenerator& ids_;
  absl::TimeZone time_zone_;
};

}  // namespace cpts::membership
