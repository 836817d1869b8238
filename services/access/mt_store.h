#pragma once

// The repositories the MT half of the access service needs (MT requests, GP capacities), with
// their contracts. MysqlMtStore (mysql_mt_store.h) implements them over MariaDB.
//
// Patient data: the domain types carry plaintext; an implementation that persists them
// encrypts the patient fields (names, birth date, contact, notes, triage synthesis, reasons)
// before they reach storage and decrypts them on the way back, so that nothing above the
// store handles ciphertext. Reading or writing patient fields takes a PatientAuditContext: the
// implementation appends the audit record in the same transaction as the access (a failed
// audit write fails the call and returns nothing).
//
// Every call is scoped to one tenant; a record of another tenant is NotFound. Errors common
// to every method: Unavailable (database unreachable: retry), Aborted (lost a race or a
// deadlock after retries: re-read and retry), Internal.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/access/mt_indicators.h"
#include "services/access/mt_matching.h"
#include "services/access/mt_model.h"
#include "services/access/mt_priority.h"
#include "services/access/mt_workflow.h"
#include "services/access/territory_communes.h"
#include "services/platform/auth/principal.h"

namespace cpts::access {

// Who reads or writes patient data, recorded with the access (patient_audit.h).
struct PatientAuditContext {
  const platform::auth::Principal* caller = nullptr;  // required
  absl::string_view action{};                         // one of audit_actions
  absl::string_view reason{};                         // why; never patient data
  absl::Time now = absl::InfinitePast();
};

// What the creation of a request is keyed by.
struct MtSubmitKeys {
  // Keyed hash of MtDuplicateKeyMaterial: open requests of the tenant with the same key are
  // flagged as possible duplicates.
  std::string duplicate_key{};
  // The client's idempotency key, scoped by (tenant, caller subject); empty = none.
  std::string request_id{};
  // Keyed hash of the normalised submission, to tell a retry from a reused key.
  std::string fingerprint{};
};

struct MtCreateResult {
  MtRequest request;
  bool replayed = false;  // the request_id was seen before: `request` is the first one
};

// Filters of ListMtQueue, combined with AND.
struct MtQueueFilter {
  // Bit (1 << static_cast<int>(MtState)) for each state; 0 = the open states.
  uint32_t state_mask = 0;
  // Bit (1 << PriorityRank(class)) for each class; 0 = every class.
  uint32_t class_mask = 0;
  std::string commune_insee{};  // empty = every commune
};

struct MtUpdateResult {
  MtRequest request;
  // The GP's capacity after the step, when the step took or gave back a place.
  std::optional<GpCapacity> capacity;
};

class MtRequestRepository {
 public:
  virtual ~MtRequestRepository() = default;

  // Stores a request already through ApplyMtStep(kSubmit) (id, tenant, state RECEIVED, one
  // SUBMIT transition), after filling its possible_duplicate_ids with the open requests of
  // the tenant with the same keys.duplicate_key. With keys.request_id already used in the
  // tenant by the same caller (request.submitted_by; another caller's key never collides): the
  // first request (replayed = true) when keys.fingerprint matches, else
  // InvalidArgument("request_id: ..."). Audits `audit` (create) unless replayed, where it
  // audits a read.
  virtual absl::StatusOr<MtCreateResult> CreateMtRequest(const MtRequest& request,
                                                         const MtSubmitKeys& keys,
                                                         const PatientAuditContext& audit) = 0;

  // The request with its history and declined GPs. Without `audit` the patient fields
  // (patient, contact, fragility.notes, triage synthesis, state_reason and history reasons)
  // are left empty and nothing is audited; with it they are decrypted and the read is
  // audited. NotFound.
  virtual absl::StatusOr<MtRequest> GetMtRequest(absl::string_view tenant_id, absl::string_view id,
                                                 const PatientAuditContext* audit) = 0;

  // At most `limit` requests matching `filter` after `after` (exclusive) in queue order
  // (MtQueueKey). History is not loaded. Patient fields as in GetMtRequest: one audit record
  // per request returned when `audit` is given.
  virtual absl::StatusOr<std::vector<MtRequest>> ListMtQueue(absl::string_view tenant_id,
                                                             const MtQueueFilter& filter,
                                                             const std::optional<MtQueueKey>& after,
                                                             int limit,
                                                             const PatientAuditContext* audit) = 0;

  // One workflow step, atomically: locks the request, checks `expected_version` (Aborted
  // "etag ..." on mismatch), calls `step` on the full request (patient fields decrypted), and
  // when it succeeds applies its capacity effect (kTake: FailedPrecondition when the GP has no
  // declaration or no place left; kGiveBack: at most back to declared_count), stores the
  // request (version + 1), its new transition, declined GPs and, entering PLACED, a placement
  // row, and audits `audit`. An error from `step` is returned and nothing changes. Since the
  // request row stays locked from the read to the commit, two concurrent steps are
  // serialised and the second sees the first's state: a place is taken exactly once.
  virtual absl::StatusOr<MtUpdateResult> UpdateMtRequest(
      absl::string_view tenant_id, absl::string_view id, std::optional<int64_t> expected_version,
      absl::FunctionRef<absl::StatusOr<MtStepResult>(MtRequest&)> step,
      const PatientAuditContext& audit) = 0;

  // What the indicators need (no patient data) about the requests of the tenant that are
  // open, or were created or changed state at or after `since`, with their decline times.
  virtual absl::StatusOr<std::vector<MtFacts>> ListMtFacts(absl::string_view tenant_id,
                                                           absl::Time since) = 0;

  // Retention: erases the patient fields (and the duplicate key) of at most `limit` requests,
  // of every tenant, in a final state entered before `cutoff` and not yet purged; keeps the
  // non-personal facts (states, times, classes, ALD, commune) for the indicators. Audits each
  // purge (action access.mt_request.purge, actor "service:access-retention"). Returns how
  // many were purged; call again while it returns `limit`.
  virtual absl::StatusOr<int> PurgeClosedMtRequests(absl::Time cutoff, absl::Time now,
                                                    int limit) = 0;
};

// Filters of ListGpCapacities, combined with AND.
struct GpCapacityFilter {
  std::string commune_insee{};                                 // empty = any
  PriorityClass priority_class = PriorityClass::kUnspecified;  // unspecified = any
  // When set: only declarations valid on that day with remaining_count > 0.
  std::optional<absl::CivilDay> available_on{};
};

class GpCapacityRepository {
 public:
  virtual ~GpCapacityRepository() = default;

  // Creates or replaces the declaration of capacity.gp_member_id: remaining_count starts
  // again at declared_count; declare_time = update_time = `now`. With `expected_version`,
  // Aborted when the current declaration's version differs (or there is none).
  virtual absl::StatusOr<GpCapacity> PutGpCapacity(absl::string_view tenant_id,
                                                   const GpCapacity& capacity,
                                                   std::optional<int64_t> expected_version,
                                                   absl::Time now) = 0;

  // NotFound when the GP has no declaration.
  virtual absl::StatusOr<GpCapacity> GetGpCapacity(absl::string_view tenant_id,
                                                   absl::string_view gp_member_id) = 0;

  // At most `limit` declarations matching `filter` with gp_member_id > `after_gp_member_id`,
  // by gp_member_id.
  virtual absl::StatusOr<std::vector<GpCapacity>> ListGpCapacities(
      absl::string_view tenant_id, const GpCapacityFilter& filter,
      absl::string_view after_gp_member_id, int limit) = 0;
};

// The tenant's territory (UpdateTerritory / GetTerritory), already validated and normalised
// by the desk: links with a < b and no duplicates, communes with distinct INSEE codes.
struct TerritoryRecord {
  std::vector<CommuneLink> links{};          // sorted by (a, b)
  std::vector<TerritoryCommune> communes{};  // sorted by INSEE code
  std::string updated_by{};
  absl::Time update_time = absl::InfinitePast();  // InfinitePast() = never set
};

// Which parts of a territory a call replaces or reads.
struct TerritoryParts {
  bool links = true;
  bool communes = true;
};

class TerritoryRepository {
 public:
  virtual ~TerritoryRepository() = default;

  // Replaces the tenant's links and/or communes (as `replace` says) by the territory's (all
  // or nothing) and records updated_by / update_time. Returns what GetTerritory then returns.
  virtual absl::StatusOr<TerritoryRecord> PutTerritory(absl::string_view tenant_id,
                                                       const TerritoryRecord& territory,
                                                       TerritoryParts replace) = 0;

  // The tenant's territory: the parts asked for (the others are left empty), sorted; nothing
  // and update_time InfinitePast() when the tenant never set it.
  virtual absl::StatusOr<TerritoryRecord> GetTerritory(absl::string_view tenant_id,
                                                       TerritoryParts parts) = 0;
};

}  // namespace cpts::access
