#pragma once

// The MySQL (MariaDB) implementation of every repository of store.h, over the schema of
// migrations/ (embedded as cpts::membership::Migrations(), see migrations.h).
//
// How it keeps the contracts of store.h:
// - Every mutation runs in platform::db::RunInTransaction (retried on deadlock and lock wait
//   timeout): the rows a callback sees are read with SELECT ... FOR UPDATE, the write-back is
//   `version = version + 1 WHERE version = ?`, and the member's audit entry is appended to the
//   platform's shared `audit_log` table (resource_type "member", action
//   "membership.member.<AuditActionName>") on the same connection, so both commit or neither.
// - Every write of a member's audit entry happens while that member's row is locked, so the
//   audit_log ids (AuditEntry::sequence) of one member are in commit order and ListHistory's
//   keyset never skips an entry.
// - Reads of a member take two statements (the row, then its places, years, cotisation sums
//   and current version in one UNION ALL); when the version seen by the second differs from
//   the row's (a concurrent update in between), the read is done again, so a member is never
//   returned with the row of one version and the children of another.
// - Idempotency keys live in `idempotency_keys`, written in the creating transaction; a
//   concurrent insert of the same key makes the loser start again once (then it replays),
//   or Aborted.
// This header includes no connector header: only mysql_*.cc files see <cppconn/...>.

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/membership/store.h"

namespace cpts::platform::db {
class ConnectionPool;
}  // namespace cpts::platform::db

namespace cpts::membership {

class MysqlMembershipStore final : public TenantRepository,
                                   public ReferenceRepository,
                                   public MemberRepository,
                                   public CotisationRepository,
                                   public ConventionRepository,
                                   public MandateRepository {
 public:
  // `pool` connects as the service's application user to a schema migrated with
  // {PlatformMigrations(), Migrations()}; it must outlive the store. Thread-safe.
  explicit MysqlMembershipStore(platform::db::ConnectionPool& pool) : pool_(pool) {}
  MysqlMembershipStore(const MysqlMembershipStore&) = delete;
  MysqlMembershipStore& operator=(const MysqlMembershipStore&) = delete;

  // This store as every repository the domain needs.
  MembershipRepositories Repositories() {
    return MembershipRepositories{*this, *this, *this, *this, *this, *this};
  }

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
  platform::db::ConnectionPool& pool_;
};

}  // namespace cpts::membership
