#pragma once

// In-memory implementation of every repository of store.h, with the same contracts. For unit
// tests only: integration and end-to-end tests use the MySQL store.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "services/membership/store.h"

namespace cpts::membership {

class FakeMembershipStore final : public TenantRepository,
                                  public ReferenceRepository,
                                  public MemberRepository,
                                  public CotisationRepository,
                                  public ConventionRepository,
                                  public MandateRepository {
 public:
  FakeMembershipStore() = default;
  FakeMembershipStore(const FakeMembershipStore&) = delete;
  FakeMembershipStore& operator=(const FakeMembershipStore&) = delete;

  // This store as every repository the domain needs.
  MembershipRepositories Repositories() {
    return MembershipRepositories{*this, *this, *this, *this, *this, *this};
  }

  // The next repository call (any method) returns `status` without doing anything; lets
  // tests check that errors such as Unavailable reach the caller unchanged.
  void FailNextCall(absl::Status status);

  // All audit entries, in order; for tests.
  std::vector<AuditEntry> AllAuditEntries() const;

  // TenantRepository
  absl::StatusOr<CreateResult<Tenant>> CreateTenant(const Tenant& tenant,
                                                    const std::vector<Profession>& seed,
                                                    const IdempotencyKey* key) override;
  absl::StatusOr<Tenant> GetTenant(absl::string_view tenant_id) override;
  absl::StatusOr<std::vector<Tenant>> ListTenants(const std::optional<std::string>& after_id,
                                                  int limit) override;
  absl::StatusOr<Tenant> UpdateTenant(absl::string_view tenant_id,
                                      absl::FunctionRef<absl::Status(Tenant&)> mutate) override;

  // ReferenceRepository
  absl::StatusOr<std::vector<Profession>> ListProfessions(absl::string_view tenant_id) override;
  absl::StatusOr<Profession> GetProfession(absl::string_view tenant_id,
                                           absl::string_view code) override;
  absl::Status CreateProfession(absl::string_view tenant_id, const Profession& profession) override;
  absl::StatusOr<CreateResult<College>> CreateCollege(absl::string_view tenant_id,
                                                      const College& college,
                                                      const IdempotencyKey* key) override;
  absl::StatusOr<std::vector<College>> ListColleges(absl::string_view tenant_id) override;
  absl::StatusOr<College> GetCollege(absl::string_view tenant_id,
                                     absl::string_view college_id) override;

  // MemberRepository
  absl::StatusOr<CreateResult<Member>> CreateMember(const Member& member, const IdempotencyKey* key,
                                                    AuditEntry audit) override;
  absl::StatusOr<Member> GetMember(absl::string_view tenant_id,
                                   absl::string_view member_id) override;
  absl::StatusOr<std::vector<Member>> BatchGetMembers(
      absl::string_view tenant_id, const std::vector<std::string>& member_ids) override;
  absl::StatusOr<std::vector<Member>> ListMembers(absl::string_view tenant_id,
                                                  const MemberFilter& filter,
                                                  const std::optional<MemberCursor>& after,
                                                  int limit) override;
  absl::StatusOr<Member> UpdateMember(absl::string_view tenant_id, absl::string_view member_id,
                                      absl::FunctionRef<absl::Status(Member&, AuditEntry&)> mutate,
                                      AuditEntry audit) override;
  absl::StatusOr<std::vector<AuditEntry>> ListHistory(absl::string_view tenant_id,
                                                      absl::string_view member_id,
                                                      std::optional<int64_t> after_sequence,
                                                      int limit) override;

  // CotisationRepository
  absl::StatusOr<CreateResult<Cotisation>> RecordCotisation(
      absl::string_view tenant_id, const Cotisation& cotisation, const IdempotencyKey* key,
      absl::FunctionRef<absl::Status(const Member&)> check, AuditEntry audit) override;
  absl::StatusOr<std::vector<Cotisation>> ListCotisations(absl::string_view tenant_id,
                                                          absl::string_view member_id) override;

  // ConventionRepository
  absl::StatusOr<CreateResult<EmployerConvention>> CreateConvention(
      absl::string_view tenant_id, const EmployerConvention& convention, const IdempotencyKey* key,
      absl::FunctionRef<absl::Status(const Member&, const Member&,
                                     const std::vector<EmployerConvention>&)>
          check,
      AuditEntry audit) override;
  absl::StatusOr<EmployerConvention> GetConvention(absl::string_view tenant_id,
                                                   absl::string_view convention_id) override;
  absl::StatusOr<std::vector<EmployerConvention>> ListConventions(
      absl::string_view tenant_id, absl::string_view member_id) override;
  absl::StatusOr<EmployerConvention> UpdateConvention(
      absl::string_view tenant_id, absl::string_view convention_id,
      absl::FunctionRef<absl::Status(EmployerConvention&, AuditEntry&)> mutate,
      AuditEntry audit) override;

  // MandateRepository
  absl::StatusOr<CreateResult<Mandate>> CreateMandate(
      absl::string_view tenant_id, const Mandate& mandate, const IdempotencyKey* key,
      absl::FunctionRef<absl::Status(const Member&, const std::vector<Mandate>&)> check,
      AuditEntry audit) override;
  absl::StatusOr<Mandate> GetMandate(absl::string_view tenant_id,
                                     absl::string_view mandate_id) override;
  absl::StatusOr<std::vector<Mandate>> ListMandates(absl::string_view tenant_id,
                                                    const MandateFilter& filter) override;
  absl::StatusOr<Mandate> UpdateMandate(
      absl::string_view tenant_id, absl::string_view mandate_id,
      absl::FunctionRef<absl::Status(Mandate&, AuditEntry&)> mutate, AuditEntry audit) override;

 private:
  using Key = std::pair<std::string, std::string>;                    // (tenant id, record id)
  using IdemKey = std::tuple<std::string, std::string, std::string>;  // tenant, scope, request

  // Non-OK once when a failure was injected. Callers hold mu_.
  absl::Status TakeInjectedFailure();
  // nullopt: the key is new (or absent) and the caller creates; a value: the id of the
  // resource to replay. InvalidArgument on a fingerprint mismatch. Callers hold mu_.
  absl::StatusOr<std::optional<std::string>> LookUpKey(absl::string_view tenant_id,
                                                       const IdempotencyKey* key) const;
  void RememberKey(absl::string_view tenant_id, const IdempotencyKey* key, const std::string& id);
  void AppendAudit(absl::string_view tenant_id, absl::string_view member_id, AuditEntry audit);
  // The stored member with paid_cents_by_year filled in. Callers hold mu_.
  Member WithPayments(const Member& member) const;
  const Member* FindMember(absl::string_view tenant_id, absl::string_view member_id) const;
  bool RppsTaken(absl::string_view tenant_id, absl::string_view rpps,
                 absl::string_view except_member_id) const;

  mutable std::mutex mu_;
  absl::Status injected_failure_;
  std::map<std::string, Tenant> tenants_;
  std::map<Key, Profession> professions_;
  std::map<Key, College> colleges_;
  std::map<Key, Member> members_;
  std::map<Key, Cotisation> cotisations_;
  std::map<Key, EmployerConvention> conventions_;
  std::map<Key, Mandate> mandates_;
  std::map<IdemKey, std::pair<std::string, std::string>> keys_;  // -> (fingerprint, id)
  std::vector<AuditEntry> audit_;
  int64_t next_sequence_ = 1;
};

}  // namespace cpts::membership
