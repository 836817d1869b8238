#pragma once

// Repository interfaces of the membership domain: one per aggregate, implemented over MySQL
// (mysql_store.{h,cc}) and in memory for unit tests (fake_store.{h,cc}).
//
// Common contract, for every method unless its comment says otherwise:
// - Every record belongs to a tenant; every method takes the tenant id and never sees another
//   tenant's rows. A record of another tenant is NotFound, exactly like a missing one.
// - Errors: NotFound (the record named by id does not exist in the tenant), AlreadyExists (a
//   uniqueness rule is broken), Aborted (a concurrent transaction won: re-read and retry),
//   Unavailable (the database cannot be reached: retry later), Internal (anything else).
//   A status returned by a callback (`mutate`, `check`) is returned unchanged and nothing is
//   written.
// - Mutations are atomic with their audit entry: the change and the AuditEntry are committed
//   in one transaction, or neither is. The store fills AuditEntry::tenant_id, member_id and
//   sequence; the domain fills the rest.
// - Callbacks run inside the transaction, after the rows they receive were read with a lock
//   (SELECT ... FOR UPDATE), so the domain's rule and the write cannot be separated by a
//   concurrent change. Callbacks must be pure: no I/O, no calls back into a store.
// - Optimistic concurrency: each mutable record has a `version`; the store sets it to 1 on
//   create and increments it on every successful update. The domain compares it with the
//   client's etag inside `mutate`.
// - Time: the store never reads a clock; create_time/update_time are set by the domain.
//
// Idempotent creates (AIP-155). Methods taking `const IdempotencyKey* key`:
// - key == nullptr: always creates.
// - key unseen for (tenant, key->scope, key->request_id): creates, and records the key with
//   key->fingerprint and the new resource's id in the same transaction.
// - key seen with the same fingerprint: creates nothing, runs no callback, writes no audit
//   entry and returns the resource as it is now with `replayed` = true.
// - key seen with another fingerprint: InvalidArgument("request_id: already used for a
//   different request"). Nothing is written.
// Keys are kept at least 7 days. Two concurrent calls with the same new key: one creates, the
// other returns the replay or Aborted (retry it and it replays).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/membership/model.h"

namespace cpts::membership {

struct IdempotencyKey {
  std::string scope;        // the operation, e.g. "CreateMember"
  std::string request_id;   // chosen by the client
  std::string fingerprint;  // digest of the normalised request, computed by the domain
};

template <typename T>
struct CreateResult {
  T value;
  bool replayed = false;  // true: `value` was created by an earlier call with the same key
};

// ---------------------------------------------------------------------------------------

class TenantRepository {
 public:
  virtual ~TenantRepository() = default;

  // Inserts `tenant` (id, times set by the caller; version becomes 1) and its professions
  // (`seed`, the reference list) in one transaction. Keys are scoped to the platform (tenant
  // id "" in the key table). AlreadyExists if the id exists.
  virtual absl::StatusOr<CreateResult<Tenant>> CreateTenant(const Tenant& tenant,
                                                            const std::vector<Profession>& seed,
                                                            const IdempotencyKey* key) = 0;

  // NotFound if there is no such tenant.
  virtual absl::StatusOr<Tenant> GetTenant(absl::string_view tenant_id) = 0;

  // Up to `limit` tenants with id > `after_id` (all when nullopt), ordered by id.
  virtual absl::StatusOr<std::vector<Tenant>> ListTenants(
      const std::optional<std::string>& after_id, int limit) = 0;

  // Reads the tenant FOR UPDATE, applies `mutate`, writes it back with version + 1 and
  // returns it. NotFound if there is no such tenant. Tenant changes are not member changes:
  // no audit entry.
  virtual absl::StatusOr<Tenant> UpdateTenant(absl::string_view tenant_id,
                                              absl::FunctionRef<absl::Status(Tenant&)> mutate) = 0;
};

// Professions and collèges: small per-tenant reference lists.
class ReferenceRepository {
 public:
  virtual ~ReferenceRepository() = default;

  // All professions of the tenant, ordered by code.
  virtual absl::StatusOr<std::vector<Profession>> ListProfessions(absl::string_view tenant_id) = 0;

  // NotFound if the tenant has no profession with this code.
  virtual absl::StatusOr<Profession> GetProfession(absl::string_view tenant_id,
                                                   absl::string_view code) = 0;

  // AlreadyExists if the tenant already has a profession with this code.
  virtual absl::Status CreateProfession(absl::string_view tenant_id,
                                        const Profession& profession) = 0;

  // AlreadyExists if the tenant has a collège with the same name (compared ignoring case and
  // accents, as the utf8mb4_unicode_ci collation does).
  virtual absl::StatusOr<CreateResult<College>> CreateCollege(absl::string_view tenant_id,
                                                              const College& college,
                                                              const IdempotencyKey* key) = 0;

  // All collèges of the tenant, ordered by name then id.
  virtual absl::StatusOr<std::vector<College>> ListColleges(absl::string_view tenant_id) = 0;

  // NotFound if the tenant has no such collège.
  virtual absl::StatusOr<College> GetCollege(absl::string_view tenant_id,
                                             absl::string_view college_id) = 0;
};

// Keyset pagination position: the (sort_name, id) of the last member of the previous page.
struct MemberCursor {
  std::string sort_name;
  std::string id;
  bool operator==(const MemberCursor&) const = default;
};

// Conjunction of the non-empty criteria.
struct MemberFilter {
  // Status as StatusOn reports it today. Stored statuses never take effect in the future, so
  // this is: kActive = stored ACTIVE and `current_year` in membership_years; kLapsed = stored
  // ACTIVE and `current_year` not in membership_years; others = stored status equal.
  std::optional<MemberStatus> status;
  int current_year = 0;  // the membership year of today; needed for kActive and kLapsed
  std::string profession_code;
  std::string commune_insee;  // any practice place in this commune
  std::string college_id;
  std::string name_prefix;  // already folded (FoldForSearch); a prefix of sort_name
};

class MemberRepository {
 public:
  virtual ~MemberRepository() = default;

  // Inserts `member` (id, times, sort_name set by the caller; version becomes 1) and `audit`.
  // AlreadyExists if its non-empty RPPS is already used in the tenant (the MySQL schema has a
  // unique index on (tenant_id, rpps)) or the id exists. See "Idempotent creates" above.
  virtual absl::StatusOr<CreateResult<Member>> CreateMember(const Member& member,
                                                            const IdempotencyKey* key,
                                                            AuditEntry audit) = 0;

  // The member with paid_cents_by_year filled in. NotFound if absent from the tenant.
  virtual absl::StatusOr<Member> GetMember(absl::string_view tenant_id,
                                           absl::string_view member_id) = 0;

  // The members of the tenant among `member_ids`, in no particular order; ids that do not
  // exist are simply absent (the caller decides whether that is an error).
  virtual absl::StatusOr<std::vector<Member>> BatchGetMembers(
      absl::string_view tenant_id, const std::vector<std::string>& member_ids) = 0;

  // Up to `limit` members matching `filter` whose (sort_name, id) is greater than `after`
  // (from the start when nullopt), ordered by (sort_name, id). Keyset pagination: a member
  // inserted or changed between two pages never makes another one be skipped or repeated.
  virtual absl::StatusOr<std::vector<Member>> ListMembers(absl::string_view tenant_id,
                                                          const MemberFilter& filter,
                                                          const std::optional<MemberCursor>& after,
                                                          int limit) = 0;

  // Reads the member FOR UPDATE, applies `mutate` (which may also complete `audit`), writes
  // the member back with version + 1, appends `audit` and returns the member as written.
  // NotFound if absent; AlreadyExists if the new RPPS is used by another member.
  virtual absl::StatusOr<Member> UpdateMember(
      absl::string_view tenant_id, absl::string_view member_id,
      absl::FunctionRef<absl::Status(Member&, AuditEntry&)> mutate, AuditEntry audit) = 0;

  // Up to `limit` audit entries of the member with sequence > `after_sequence` (from the
  // first when nullopt), oldest first. An unknown member has no entries (empty list).
  virtual absl::StatusOr<std::vector<AuditEntry>> ListHistory(absl::string_view tenant_id,
                                                              absl::string_view member_id,
                                                              std::optional<int64_t> after_sequence,
                                                              int limit) = 0;
};

class CotisationRepository {
 public:
  virtual ~CotisationRepository() = default;

  // Reads the paying member FOR UPDATE, runs `check` on it, inserts `cotisation` and `audit`
  // (for that member). NotFound if the member does not exist. See "Idempotent creates".
  virtual absl::StatusOr<CreateResult<Cotisation>> RecordCotisation(
      absl::string_view tenant_id, const Cotisation& cotisation, const IdempotencyKey* key,
      absl::FunctionRef<absl::Status(const Member&)> check, AuditEntry audit) = 0;

  // The member's cotisations ordered by year, paid_on, id. Empty for an unknown member.
  virtual absl::StatusOr<std::vector<Cotisation>> ListCotisations(absl::string_view tenant_id,
                                                                  absl::string_view member_id) = 0;
};

class ConventionRepository {
 public:
  virtual ~ConventionRepository() = default;

  // Reads the salaried member, the employer and the member's existing conventions FOR
  // UPDATE, runs `check(member, employer, existing)`, then inserts `convention` and `audit`
  // (for the salaried member). NotFound if either member does not exist (the message says
  // which: "convention.member_id: ..." or "convention.employer_member_id: ..."). See
  // "Idempotent creates".
  virtual absl::StatusOr<CreateResult<EmployerConvention>> CreateConvention(
      absl::string_view tenant_id, const EmployerConvention& convention, const IdempotencyKey* key,
      absl::FunctionRef<absl::Status(const Member& member, const Member& employer,
                                     const std::vector<EmployerConvention>& existing)>
          check,
      AuditEntry audit) = 0;

  // NotFound if absent from the tenant.
  virtual absl::StatusOr<EmployerConvention> GetConvention(absl::string_view tenant_id,
                                                           absl::string_view convention_id) = 0;

  // The conventions covering `member_id` (as the salaried member), ordered by valid_from, id.
  virtual absl::StatusOr<std::vector<EmployerConvention>> ListConventions(
      absl::string_view tenant_id, absl::string_view member_id) = 0;

  // Reads the convention FOR UPDATE, applies `mutate`, writes it back with version + 1 and
  // appends `audit` (for the salaried member). NotFound if absent.
  virtual absl::StatusOr<EmployerConvention> UpdateConvention(
      absl::string_view tenant_id, absl::string_view convention_id,
      absl::FunctionRef<absl::Status(EmployerConvention&, AuditEntry&)> mutate,
      AuditEntry audit) = 0;
};

struct MandateFilter {
  std::optional<absl::CivilDay> in_force_on;     // only mandates in force on that day
  MandateBody body = MandateBody::kUnspecified;  // kUnspecified = any body
  std::string member_id;                         // empty = any member
};

class MandateRepository {
 public:
  virtual ~MandateRepository() = default;

  // Reads the holder and the tenant's mandates of the same body and role FOR UPDATE, runs
  // `check(holder, same_role)`, then inserts `mandate` and `audit` (for the holder). NotFound
  // if the holder does not exist. See "Idempotent creates".
  virtual absl::StatusOr<CreateResult<Mandate>> CreateMandate(
      absl::string_view tenant_id, const Mandate& mandate, const IdempotencyKey* key,
      absl::FunctionRef<absl::Status(const Member& holder, const std::vector<Mandate>& same_role)>
          check,
      AuditEntry audit) = 0;

  // NotFound if absent from the tenant.
  virtual absl::StatusOr<Mandate> GetMandate(absl::string_view tenant_id,
                                             absl::string_view mandate_id) = 0;

  // The tenant's mandates matching `filter`, ordered by body, role, start_date, id.
  virtual absl::StatusOr<std::vector<Mandate>> ListMandates(absl::string_view tenant_id,
                                                            const MandateFilter& filter) = 0;

  // Reads the mandate FOR UPDATE, applies `mutate`, writes it back with version + 1 and
  // appends `audit` (for the holder). NotFound if absent.
  virtual absl::StatusOr<Mandate> UpdateMandate(
      absl::string_view tenant_id, absl::string_view mandate_id,
      absl::FunctionRef<absl::Status(Mandate&, AuditEntry&)> mutate, AuditEntry audit) = 0;
};

// What the domain service needs, wired in main.cc (one MySQL implementation may implement
// several interfaces).
struct MembershipRepositories {
  TenantRepository& tenants;
  ReferenceRepository& references;
  MemberRepository& members;
  CotisationRepository& cotisations;
  ConventionRepository& conventions;
  MandateRepository& mandates;
};

}  // namespace cpts::membership
