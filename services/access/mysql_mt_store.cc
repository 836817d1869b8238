#include "services/access/mysql_mt_store.h"

#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "services/access/patient_audit.h"
#include "services/platform/core/status_macros.h"
#include "services/platform/crypto/field_cipher.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/sql_errors.h"
#include "services/platform/db/sql_values.h"
#include "services/platform/db/transaction.h"

namespace cpts::access {
namespace {

using platform::crypto::FieldCipher;
using platform::db::Binder;
using platform::db::Connection;
using platform::db::MapSqlException;
using platform::db::QueryRows;
using platform::db::RowReader;
using platform::db::RunInTransaction;

// =========================================================================================
// SQL: every statement is a named constant, every value bound.
// =========================================================================================

// The columns of a request, in the order RowToRequest reads them.
#define CPTS_MT_REQUEST_COLUMNS                                                                \
  "tenant_id, id, given_name_ct, family_name_ct, birth_date_ct, sex, phone_ct, email_ct, "     \
  "notes_ct, commune_insee, ald, over_70, under_6, precarity, disability, pregnancy, origin, " \
  "origin_detail, consent_granted, consent_time, state, priority_rank, "                       \
  "computed_priority_rank, triaged, triage_synthesis_ct, triage_priority_rank, "               \
  "triage_overridden, triaged_by, triage_time, gp_member_id, possible_duplicate_ids, "         \
  "state_reason_ct, submitted_by, create_time, state_time, update_time, version"

constexpr std::string_view kSelectRequest =
    "SELECT " CPTS_MT_REQUEST_COLUMNS " FROM mt_requests WHERE tenant_id = ? AND id = ?";

constexpr std::string_view kSelectRequestForUpdate = "SELECT " CPTS_MT_REQUEST_COLUMNS
                                                     " FROM mt_requests WHERE tenant_id = ? AND "
                                                     "id = ? FOR UPDATE";

// Filters by bit masks so that one text serves every combination: bit `state` of the first
// mask, bit `priority_rank` of the second. The keyset starts after (rank, create_time, id).
constexpr std::string_view kListQueue =
    "SELECT " CPTS_MT_REQUEST_COLUMNS
    " FROM mt_requests WHERE tenant_id = ? AND ((? >> state) & 1) = 1"
    " AND ((? >> priority_rank) & 1) = 1 AND (? = '' OR commune_insee = ?)"
    " AND (priority_rank > ? OR (priority_rank = ? AND (create_time > ?"
    " OR (create_time = ? AND id > ?))))"
    " ORDER BY priority_rank, create_time, id LIMIT ?";

#undef CPTS_MT_REQUEST_COLUMNS

// Patient, submission, then the workflow columns in the order BindWorkflow binds them.
constexpr std::string_view kInsertRequest = R"sql(
INSERT INTO mt_requests (tenant_id, id, request_id, request_fingerprint,
  given_name_ct, family_name_ct, birth_date_ct, sex, phone_ct, email_ct, notes_ct,
  duplicate_key, commune_insee, ald, precarity, disability, pregnancy, origin, origin_detail,
  consent_granted, consent_time, submitted_by, create_time, possible_duplicate_ids,
  over_70, under_6, state, priority_rank, computed_priority_rank, triaged, triage_synthesis_ct,
  triage_priority_rank, triage_overridden, triaged_by, triage_time, gp_member_id,
  state_reason_ct, state_time, update_time, version)
VALUES (?, ?, ?, ?,  ?, ?, ?, ?, ?, ?, ?,  ?, ?, ?, ?, ?, ?, ?, ?,  ?, ?, ?, ?, ?,
  ?, ?, ?, ?, ?, ?, ?,  ?, ?, ?, ?, ?,  ?, ?, ?, 1))sql";

constexpr std::string_view kUpdateRequest = R"sql(
UPDATE mt_requests SET
  over_70 = ?, under_6 = ?, state = ?, priority_rank = ?, computed_priority_rank = ?,
  triaged = ?, triage_synthesis_ct = ?, triage_priority_rank = ?, triage_overridden = ?,
  triaged_by = ?, triage_time = ?, gp_member_id = ?, state_reason_ct = ?, state_time = ?,
  update_time = ?, version = version + 1
WHERE tenant_id = ? AND id = ? AND version = ?)sql";

constexpr std::string_view kSelectByRequestId = R"sql(
SELECT id, request_fingerprint FROM mt_requests
WHERE tenant_id = ? AND submitted_by = ? AND request_id = ?)sql";

constexpr std::string_view kSelectDuplicates = R"sql(
SELECT id FROM mt_requests
WHERE tenant_id = ? AND duplicate_key = ? AND state IN (1, 2, 3, 4)
ORDER BY id LIMIT 20)sql";

constexpr std::string_view kInsertTransition = R"sql(
INSERT INTO mt_transitions (tenant_id, mt_request_id, seq, action, from_state, to_state, actor,
  actor_member_id, time, reason_ct, gp_member_id, priority_rank)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?))sql";

constexpr std::string_view kSelectTransitions = R"sql(
SELECT seq, action, from_state, to_state, actor, actor_member_id, time, reason_ct, gp_member_id,
  priority_rank
FROM mt_transitions WHERE tenant_id = ? AND mt_request_id = ? ORDER BY seq)sql";

constexpr std::string_view kInsertDeclined = R"sql(
INSERT INTO mt_declined_gps (tenant_id, mt_request_id, gp_member_id, seq) VALUES (?, ?, ?, ?))sql";

constexpr std::string_view kSelectDeclined = R"sql(
SELECT gp_member_id FROM mt_declined_gps WHERE tenant_id = ? AND mt_request_id = ?
ORDER BY seq)sql";

constexpr std::string_view kInsertPlacement = R"sql(
INSERT INTO mt_placements (tenant_id, mt_request_id, gp_member_id, priority_rank, ald,
  create_time, placed_time, wait_seconds)
VALUES (?, ?, ?, ?, ?, ?, ?, ?))sql";

constexpr std::string_view kSelectFacts = R"sql(
SELECT id, state, priority_rank, ald, create_time, state_time FROM mt_requests
WHERE tenant_id = ? AND (state IN (1, 2, 3, 4) OR create_time >= ? OR state_time >= ?))sql";

constexpr std::string_view kSelectActionTimes = R"sql(
SELECT mt_request_id, time FROM mt_transitions
WHERE tenant_id = ? AND action = ? AND time >= ? ORDER BY time)sql";

// Retention reads across tenants: it runs rarely, in small batches.
constexpr std::string_view kSelectPurgeable = R"sql(
SELECT tenant_id, id FROM mt_requests
WHERE purge_time IS NULL AND state IN (5, 6, 7, 8) AND state_time < ?
ORDER BY state_time LIMIT ? FOR UPDATE)sql";

constexpr std::string_view kPurgeRequest = R"sql(
UPDATE mt_requests SET given_name_ct = NULL, family_name_ct = NULL, birth_date_ct = NULL,
  phone_ct = NULL, email_ct = NULL, notes_ct = NULL, triage_synthesis_ct = NULL,
  state_reason_ct = NULL, duplicate_key = NULL, purge_time = ?, version = version + 1
WHERE tenant_id = ? AND id = ?)sql";

constexpr std::string_view kPurgeTransitions = R"sql(
UPDATE mt_transitions SET reason_ct = NULL WHERE tenant_id = ? AND mt_request_id = ?)sql";

// --- GP capacities ------------------------------------------------------------------------

constexpr std::string_view kSelectCapacity = R"sql(
SELECT gp_member_id, declared_count, remaining_count, valid_until, priority_mask, communes,
  declared_by, declare_time, update_time, version
FROM gp_capacities WHERE tenant_id = ? AND gp_member_id = ?)sql";

constexpr std::string_view kSelectCapacityVersionForUpdate = R"sql(
SELECT version FROM gp_capacities WHERE tenant_id = ? AND gp_member_id = ? FOR UPDATE)sql";

constexpr std::string_view kInsertCapacity = R"sql(
INSERT INTO gp_capacities (declared_count, remaining_count, valid_until, priority_mask, communes,
  declared_by, declare_time, update_time, tenant_id, gp_member_id, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1))sql";

constexpr std::string_view kReplaceCapacity = R"sql(
UPDATE gp_capacities SET declared_count = ?, remaining_count = ?, valid_until = ?,
  priority_mask = ?, communes = ?, declared_by = ?, declare_time = ?, update_time = ?,
  version = version + 1
WHERE tenant_id = ? AND gp_member_id = ?)sql";

constexpr std::string_view kDeleteCapacityCommunes = R"sql(
DELETE FROM gp_capacity_communes WHERE tenant_id = ? AND gp_member_id = ?)sql";

constexpr std::string_view kInsertCapacityCommune = R"sql(
INSERT INTO gp_capacity_communes (tenant_id, gp_member_id, commune_insee) VALUES (?, ?, ?))sql";

constexpr std::string_view kListCapacities = R"sql(
SELECT c.gp_member_id, c.declared_count, c.remaining_count, c.valid_until, c.priority_mask,
  c.communes, c.declared_by, c.declare_time, c.update_time, c.version
FROM gp_capacities c
WHERE c.tenant_id = ? AND c.gp_member_id > ?
  AND (? = '' OR EXISTS (SELECT 1 FROM gp_capacity_communes k WHERE k.tenant_id = c.tenant_id
       AND k.gp_member_id = c.gp_member_id AND k.commune_insee = ?))
  AND (? = 0 OR ((c.priority_mask >> ?) & 1) = 1)
  AND (? = 0 OR (c.valid_until >= ? AND c.remaining_count > 0))
ORDER BY c.gp_member_id LIMIT ?)sql";

// Conditional: never below 0, whatever the concurrency (the row lock serialises the takers,
// each sees the previous one's decrement).
constexpr std::string_view kTakePlace = R"sql(
UPDATE gp_capacities SET remaining_count = remaining_count - 1, update_time = ?,
  version = version + 1
WHERE tenant_id = ? AND gp_member_id = ? AND remaining_count > 0)sql";

constexpr std::string_view kGiveBackPlace = R"sql(
UPDATE gp_capacities SET remaining_count = LEAST(declared_count, remaining_count + 1),
  update_time = ?, version = version + 1
WHERE tenant_id = ? AND gp_member_id = ?)sql";

// --- Territory ----------------------------------------------------------------------------

constexpr std::string_view kDeleteTerritoryLinks = R"sql(
DELETE FROM mt_territory_links WHERE tenant_id = ?)sql";

constexpr std::string_view kInsertTerritoryLink = R"sql(
INSERT INTO mt_territory_links (tenant_id, commune_a, commune_b, distance) VALUES (?, ?, ?, ?))sql";

constexpr std::string_view kUpsertTerritory = R"sql(
INSERT INTO mt_territories (tenant_id, updated_by, update_time) VALUES (?, ?, ?)
ON DUPLICATE KEY UPDATE updated_by = VALUES(updated_by), update_time = VALUES(update_time))sql";

constexpr std::string_view kSelectTerritory = R"sql(
SELECT updated_by, update_time FROM mt_territories WHERE tenant_id = ?)sql";

constexpr std::string_view kSelectTerritoryLinks = R"sql(
SELECT commune_a, commune_b, distance FROM mt_territory_links WHERE tenant_id = ?
ORDER BY commune_a, commune_b)sql";

constexpr std::string_view kDeleteTerritoryCommunes = R"sql(
DELETE FROM mt_territory_communes WHERE tenant_id = ?)sql";

// Followed by one "(?, ?, ?, ?)" per row: a territory's communes go in a few statements
// rather than one round trip each.
constexpr std::string_view kInsertTerritoryCommunesPrefix = R"sql(
INSERT INTO mt_territory_communes (tenant_id, commune_insee, name, postal_code) VALUES )sql";
constexpr std::size_t kCommuneInsertBatch = 250;

constexpr std::string_view kSelectTerritoryCommunes = R"sql(
SELECT commune_insee, name, postal_code FROM mt_territory_communes WHERE tenant_id = ?
ORDER BY commune_insee)sql";

// Followed by "(?, ...)" with the codes, then kOrderByCommune.
constexpr std::string_view kFindTerritoryCommunesPrefix = R"sql(
SELECT commune_insee, name, postal_code FROM mt_territory_communes
WHERE tenant_id = ? AND commune_insee IN )sql";
constexpr std::string_view kOrderByCommune = " ORDER BY commune_insee";

// =========================================================================================
// Helpers (binding and reading: services/platform/db/sql_values.h).
// =========================================================================================

template <typename E>
constexpr int EnumInt(E e) {
  return static_cast<int>(e);
}

constexpr uint32_t kOpenStateMask =
    (1U << EnumInt(MtState::kReceived)) | (1U << EnumInt(MtState::kTriaged)) |
    (1U << EnumInt(MtState::kProposed)) | (1U << EnumInt(MtState::kAccepted));

std::string Ad(absl::string_view column, absl::string_view tenant, absl::string_view id) {
  return absl::StrCat("access.mt_request.", column, ":", tenant, ":", id);
}

std::string TransitionAd(absl::string_view tenant, absl::string_view id, int seq) {
  return absl::StrCat("access.mt_transition.reason:", tenant, ":", id, ":", seq);
}

std::string_view Sv(absl::string_view s) { return {s.data(), s.size()}; }

// Encrypts a patient field of a request row; "" stays "" (bound as NULL).
class FieldCrypt {
 public:
  FieldCrypt(const FieldCipher& cipher, absl::string_view tenant, absl::string_view id)
      : cipher_(cipher), tenant_(tenant), id_(id) {}
  absl::StatusOr<std::string> Seal(absl::string_view column, absl::string_view plaintext) const {
    if (plaintext.empty()) return std::string();
    return cipher_.Encrypt(Sv(plaintext), Ad(column, tenant_, id_));
  }
  absl::StatusOr<std::string> Open(absl::string_view column, absl::string_view ciphertext) const {
    if (ciphertext.empty()) return std::string();
    return cipher_.Decrypt(Sv(ciphertext), Ad(column, tenant_, id_));
  }

 private:
  const FieldCipher& cipher_;
  std::string tenant_;
  std::string id_;
};

// The ciphertexts of a request's patient columns, as read or to be written.
struct SealedPatient {
  std::string given_name, family_name, birth_date, phone, email, notes, synthesis, state_reason;
};

absl::StatusOr<SealedPatient> Seal(const FieldCipher& cipher, const MtRequest& r) {
  const FieldCrypt fc(cipher, r.tenant_id, r.id);
  SealedPatient s;
  CPTS_ASSIGN_OR_RETURN(s.given_name, fc.Seal("given_name", r.patient.given_name));
  CPTS_ASSIGN_OR_RETURN(s.family_name, fc.Seal("family_name", r.patient.family_name));
  CPTS_ASSIGN_OR_RETURN(s.birth_date,
                        fc.Seal("birth_date", absl::FormatCivilTime(r.patient.birth_date)));
  CPTS_ASSIGN_OR_RETURN(s.phone, fc.Seal("phone", r.contact.phone));
  CPTS_ASSIGN_OR_RETURN(s.email, fc.Seal("email", r.contact.email));
  CPTS_ASSIGN_OR_RETURN(s.notes, fc.Seal("notes", r.fragility.notes));
  CPTS_ASSIGN_OR_RETURN(s.synthesis,
                        fc.Seal("triage_synthesis", r.triage ? r.triage->synthesis : ""));
  CPTS_ASSIGN_OR_RETURN(s.state_reason, fc.Seal("state_reason", r.state_reason));
  return s;
}

// Binds the workflow columns, in the order of kInsertRequest's tail and kUpdateRequest.
void BindWorkflow(Binder& b, const MtRequest& r, const SealedPatient& s) {
  b.Bool(r.fragility.over_70)
      .Bool(r.fragility.under_6)
      .Int(EnumInt(r.state))
      .Int(PriorityRank(r.priority_class))
      .Int(PriorityRank(r.computed_priority_class))
      .Bool(r.triage.has_value())
      .StrOrNull(s.synthesis)
      .Int(r.triage ? PriorityRank(r.triage->priority_class) : 5)
      .Bool(r.triage ? r.triage->priority_overridden : false)
      .Str(r.triage ? r.triage->triaged_by : "")
      .Instant(r.triage ? r.triage->triage_time : absl::InfinitePast())
      .Str(r.gp_member_id)
      .StrOrNull(s.state_reason)
      .Instant(r.state_time)
      .Instant(r.update_time);
}

// Reads a row of CPTS_MT_REQUEST_COLUMNS; decrypts the patient columns when `decrypt`.
absl::StatusOr<MtRequest> RowToRequest(const sql::ResultSet& rs, const FieldCipher& cipher,
                                       bool decrypt) {
  RowReader row(rs);
  MtRequest r;
  r.tenant_id = row.Str();
  r.id = row.Str();
  SealedPatient s;
  s.given_name = row.Str();
  s.family_name = row.Str();
  s.birth_date = row.Str();
  r.patient.sex = static_cast<Sex>(row.Int());
  s.phone = row.Str();
  s.email = row.Str();
  s.notes = row.Str();
  r.commune_insee = row.Str();
  r.ald = row.Bool();
  r.fragility.over_70 = row.Bool();
  r.fragility.under_6 = row.Bool();
  r.fragility.precarity = row.Bool();
  r.fragility.disability = row.Bool();
  r.fragility.pregnancy = row.Bool();
  r.origin = static_cast<MtOrigin>(row.Int());
  r.origin_detail = row.Str();
  r.consent.granted = row.Bool();
  r.consent.consent_time = row.Instant();
  r.state = static_cast<MtState>(row.Int());
  r.priority_class = PriorityClassFromRank(row.Int());
  r.computed_priority_class = PriorityClassFromRank(row.Int());
  const bool triaged = row.Bool();
  s.synthesis = row.Str();
  MtTriage triage;
  triage.priority_class = PriorityClassFromRank(row.Int());
  triage.priority_overridden = row.Bool();
  triage.triaged_by = row.Str();
  triage.triage_time = row.NullableInstant();
  r.gp_member_id = row.Str();
  const std::string duplicates = row.Str();
  if (!duplicates.empty()) r.possible_duplicate_ids = absl::StrSplit(duplicates, ',');
  s.state_reason = row.Str();
  r.submitted_by = row.Str();
  r.create_time = row.Instant();
  r.state_time = row.Instant();
  r.update_time = row.Instant();
  r.version = row.Int64();
  CPTS_RETURN_IF_ERROR(row.status());
  if (decrypt) {
    const FieldCrypt fc(cipher, r.tenant_id, r.id);
    CPTS_ASSIGN_OR_RETURN(r.patient.given_name, fc.Open("given_name", s.given_name));
    CPTS_ASSIGN_OR_RETURN(r.patient.family_name, fc.Open("family_name", s.family_name));
    CPTS_ASSIGN_OR_RETURN(std::string birth, fc.Open("birth_date", s.birth_date));
    if (!birth.empty() && !absl::ParseCivilTime(birth, &r.patient.birth_date)) {
      return absl::DataLossError("unreadable birth date");
    }
    CPTS_ASSIGN_OR_RETURN(r.contact.phone, fc.Open("phone", s.phone));
    CPTS_ASSIGN_OR_RETURN(r.contact.email, fc.Open("email", s.email));
    CPTS_ASSIGN_OR_RETURN(r.fragility.notes, fc.Open("notes", s.notes));
    CPTS_ASSIGN_OR_RETURN(triage.synthesis, fc.Open("triage_synthesis", s.synthesis));
    CPTS_ASSIGN_OR_RETURN(r.state_reason, fc.Open("state_reason", s.state_reason));
  } else {
    r.patient.sex = Sex::kUnspecified;
  }
  if (triaged) r.triage = std::move(triage);
  return r;
}

absl::Status Audit(Connection& conn, const PatientAuditContext& audit, absl::string_view action,
                   absl::string_view id) {
  if (audit.caller == nullptr) return absl::InternalError("patient audit without a caller");
  return AuditPatientAccess(conn, *audit.caller,
                            PatientAccess{.action = action,
                                          .resource_type = "mt_request",
                                          .resource_id = id,
                                          .reason = audit.reason},
                            audit.now);
}

// Loads the history and declined GPs of `r` (reasons decrypted when `decrypt`).
absl::Status LoadChildren(Connection& conn, const FieldCipher& cipher, MtRequest& r, bool decrypt) {
  {
    auto& ps = conn.Prepare(kSelectTransitions);
    Binder(ps).Str(r.tenant_id).Str(r.id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    while (rs->next()) {
      RowReader row(*rs);
      MtTransition t;
      const int seq = row.Int();
      t.action = static_cast<MtAction>(row.Int());
      t.from_state = static_cast<MtState>(row.Int());
      t.to_state = static_cast<MtState>(row.Int());
      t.actor = row.Str();
      t.actor_member_id = row.Str();
      t.time = row.Instant();
      const std::string reason = row.Str();
      t.gp_member_id = row.Str();
      t.priority_class = PriorityClassFromRank(row.Int());
      CPTS_RETURN_IF_ERROR(row.status());
      if (decrypt && !reason.empty()) {
        CPTS_ASSIGN_OR_RETURN(t.reason,
                              cipher.Decrypt(reason, TransitionAd(r.tenant_id, r.id, seq)));
      }
      r.history.push_back(std::move(t));
    }
  }
  auto& ps = conn.Prepare(kSelectDeclined);
  Binder(ps).Str(r.tenant_id).Str(r.id);
  std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
  while (rs->next()) r.declined_gp_member_ids.push_back(rs->getString(1).asStdString());
  return absl::OkStatus();
}

// The request row (locked when `for_update`) with its children; NotFound.
absl::StatusOr<MtRequest> LoadRequest(Connection& conn, const FieldCipher& cipher,
                                      absl::string_view tenant, absl::string_view id, bool decrypt,
                                      bool for_update) {
  auto& ps = conn.Prepare(for_update ? kSelectRequestForUpdate : kSelectRequest);
  Binder(ps).Str(tenant).Str(id);
  std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
  if (!rs->next()) return absl::NotFoundError(absl::StrCat("MT request ", id, " not found"));
  CPTS_ASSIGN_OR_RETURN(MtRequest r, RowToRequest(*rs, cipher, decrypt));
  rs.reset();
  CPTS_RETURN_IF_ERROR(LoadChildren(conn, cipher, r, decrypt));
  return r;
}

absl::Status InsertTransition(Connection& conn, const FieldCipher& cipher, const MtRequest& r,
                              int seq, const MtTransition& t) {
  std::string reason;
  if (!t.reason.empty()) {
    CPTS_ASSIGN_OR_RETURN(reason,
                          cipher.Encrypt(Sv(t.reason), TransitionAd(r.tenant_id, r.id, seq)));
  }
  auto& ps = conn.Prepare(kInsertTransition);
  Binder(ps)
      .Str(r.tenant_id)
      .Str(r.id)
      .Int(seq)
      .Int(EnumInt(t.action))
      .Int(EnumInt(t.from_state))
      .Int(EnumInt(t.to_state))
      .Str(t.actor)
      .Str(t.actor_member_id)
      .Instant(t.time)
      .StrOrNull(reason)
      .Str(t.gp_member_id)
      .Int(PriorityRank(t.priority_class));
  ps.executeUpdate();
  return absl::OkStatus();
}

// --- capacities ---------------------------------------------------------------------------

int PriorityMask(const std::vector<PriorityClass>& classes) {
  int mask = 0;
  for (PriorityClass c : classes) mask |= 1 << PriorityRank(c);
  return mask;
}

absl::StatusOr<GpCapacity> RowToCapacity(const sql::ResultSet& rs) {
  RowReader row(rs);
  GpCapacity c;
  c.gp_member_id = row.Str();
  c.declared_count = row.Int();
  c.remaining_count = row.Int();
  c.valid_until = row.Day();
  const int mask = row.Int();
  for (int rank = 1; rank <= 4; ++rank) {
    if ((mask >> rank) & 1) c.priority_classes.push_back(PriorityClassFromRank(rank));
  }
  const std::string communes = row.Str();
  if (!communes.empty()) c.communes = absl::StrSplit(communes, ',');
  c.declared_by = row.Str();
  c.declare_time = row.Instant();
  c.update_time = row.Instant();
  c.version = row.Int64();
  CPTS_RETURN_IF_ERROR(row.status());
  return c;
}

absl::StatusOr<GpCapacity> LoadCapacity(Connection& conn, absl::string_view tenant,
                                        absl::string_view gp) {
  auto& ps = conn.Prepare(kSelectCapacity);
  Binder(ps).Str(tenant).Str(gp);
  std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
  if (!rs->next()) {
    return absl::NotFoundError(absl::StrCat("GP ", gp, " has declared no MT capacity"));
  }
  return RowToCapacity(*rs);
}

absl::StatusOr<TerritoryCommune> RowToCommune(const sql::ResultSet& rs) {
  RowReader row(rs);
  TerritoryCommune c;
  c.insee_code = row.Str();
  c.name = row.Str();
  c.postal_code = row.Str();
  CPTS_RETURN_IF_ERROR(row.status());
  return c;
}

absl::StatusOr<TerritoryRecord> LoadTerritory(Connection& conn, absl::string_view tenant,
                                              TerritoryParts parts) {
  TerritoryRecord out;
  {
    auto& ps = conn.Prepare(kSelectTerritory);
    Binder(ps).Str(tenant);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (rs->next()) {
      RowReader row(*rs);
      out.updated_by = row.Str();
      out.update_time = row.Instant();
      CPTS_RETURN_IF_ERROR(row.status());
    }
  }
  if (parts.links) {
    auto& ps = conn.Prepare(kSelectTerritoryLinks);
    Binder(ps).Str(tenant);
    CPTS_ASSIGN_OR_RETURN(
        out.links,
        QueryRows<CommuneLink>(ps, [](const sql::ResultSet& rs) -> absl::StatusOr<CommuneLink> {
          RowReader row(rs);
          CommuneLink link;
          link.a = row.Str();
          link.b = row.Str();
          CPTS_RETURN_IF_ERROR(row.status());
          // RowReader has no floating point reader: column 3 directly.
          link.distance = static_cast<double>(rs.getDouble(3));
          return link;
        }));
  }
  if (parts.communes) {
    auto& ps = conn.Prepare(kSelectTerritoryCommunes);
    Binder(ps).Str(tenant);
    CPTS_ASSIGN_OR_RETURN(out.communes, QueryRows<TerritoryCommune>(ps, RowToCommune));
  }
  return out;
}

void InsertTerritoryCommunes(Connection& conn, absl::string_view tenant,
                             const std::vector<TerritoryCommune>& communes) {
  for (std::size_t first = 0; first < communes.size(); first += kCommuneInsertBatch) {
    const std::size_t n = std::min(kCommuneInsertBatch, communes.size() - first);
    std::string sql(kInsertTerritoryCommunesPrefix);
    for (std::size_t i = 0; i < n; ++i) sql += i == 0 ? "(?, ?, ?, ?)" : ", (?, ?, ?, ?)";
    auto& ps = conn.Prepare(sql);
    Binder b(ps);
    for (std::size_t i = first; i < first + n; ++i) {
      b.Str(tenant).Str(communes[i].insee_code).Str(communes[i].name).Str(communes[i].postal_code);
    }
    ps.executeUpdate();
  }
}

}  // namespace

// =========================================================================================
// MtRequestRepository
// =========================================================================================

absl::StatusOr<MtCreateResult> MysqlMtStore::CreateMtRequest(const MtRequest& request,
                                                             const MtSubmitKeys& keys,
                                                             const PatientAuditContext& audit) {
  MtCreateResult result;
  absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      result = MtCreateResult{};
      if (!keys.request_id.empty()) {
        auto& ps = conn.Prepare(kSelectByRequestId);
        Binder(ps).Str(request.tenant_id).Str(request.submitted_by).Str(keys.request_id);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        if (rs->next()) {
          const std::string id = rs->getString(1).asStdString();
          if (rs->getString(2).asStdString() != keys.fingerprint) {
            return absl::InvalidArgumentError(
                "request_id: already used for a different MT request");
          }
          rs.reset();
          CPTS_ASSIGN_OR_RETURN(result.request, LoadRequest(conn, cipher_, request.tenant_id, id,
                                                            /*decrypt=*/true, false));
          result.replayed = true;
          return Audit(conn, audit, audit_actions::kMtRequestRead, id);
        }
      }
      MtRequest r = request;
      r.possible_duplicate_ids.clear();
      if (!keys.duplicate_key.empty()) {
        auto& ps = conn.Prepare(kSelectDuplicates);
        Binder(ps).Str(r.tenant_id).Str(keys.duplicate_key);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        while (rs->next()) r.possible_duplicate_ids.push_back(rs->getString(1).asStdString());
      }
      CPTS_ASSIGN_OR_RETURN(SealedPatient s, Seal(cipher_, r));
      auto& ps = conn.Prepare(kInsertRequest);
      Binder b(ps);
      b.Str(r.tenant_id)
          .Str(r.id)
          .StrOrNull(keys.request_id)
          .Str(keys.fingerprint)
          .StrOrNull(s.given_name)
          .StrOrNull(s.family_name)
          .StrOrNull(s.birth_date)
          .Int(EnumInt(r.patient.sex))
          .StrOrNull(s.phone)
          .StrOrNull(s.email)
          .StrOrNull(s.notes)
          .StrOrNull(keys.duplicate_key)
          .Str(r.commune_insee)
          .Bool(r.ald)
          .Bool(r.fragility.precarity)
          .Bool(r.fragility.disability)
          .Bool(r.fragility.pregnancy)
          .Int(EnumInt(r.origin))
          .Str(r.origin_detail)
          .Bool(r.consent.granted)
          .Instant(r.consent.consent_time)
          .Str(r.submitted_by)
          .Instant(r.create_time)
          .Str(absl::StrJoin(r.possible_duplicate_ids, ","));
      BindWorkflow(b, r, s);
      ps.executeUpdate();
      for (size_t i = 0; i < r.history.size(); ++i) {
        CPTS_RETURN_IF_ERROR(
            InsertTransition(conn, cipher_, r, static_cast<int>(i) + 1, r.history[i]));
      }
      r.version = 1;
      result.request = std::move(r);
      return Audit(conn, audit, audit_actions::kMtRequestCreate, request.id);
    } catch (const sql::SQLException& e) {
      absl::Status s = MapSqlException(e, "CreateMtRequest");
      // A concurrent submission with the same request_id won: the client retries and replays.
      if (absl::IsAlreadyExists(s)) return absl::AbortedError("concurrent submission: retry");
      return s;
    }
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<MtRequest> MysqlMtStore::GetMtRequest(absl::string_view tenant_id,
                                                     absl::string_view id,
                                                     const PatientAuditContext* audit) {
  MtRequest result;
  absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      CPTS_ASSIGN_OR_RETURN(result,
                            LoadRequest(conn, cipher_, tenant_id, id, audit != nullptr, false));
      if (audit == nullptr) return absl::OkStatus();
      return Audit(conn, *audit, audit->action, id);
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "GetMtRequest");
    }
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::vector<MtRequest>> MysqlMtStore::ListMtQueue(
    absl::string_view tenant_id, const MtQueueFilter& filter,
    const std::optional<MtQueueKey>& after, int limit, const PatientAuditContext* audit) {
  std::vector<MtRequest> result;
  absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      result.clear();
      const int64_t state_mask = filter.state_mask == 0 ? kOpenStateMask : filter.state_mask;
      const int64_t class_mask = filter.class_mask == 0 ? 0xFF : filter.class_mask;
      const MtQueueKey start = after.value_or(
          MtQueueKey{.priority_rank = 0, .create_time = absl::UnixEpoch(), .id = ""});
      auto& ps = conn.Prepare(kListQueue);
      Binder(ps)
          .Str(tenant_id)
          .Int64(state_mask)
          .Int64(class_mask)
          .Str(filter.commune_insee)
          .Str(filter.commune_insee)
          .Int(start.priority_rank)
          .Int(start.priority_rank)
          .Instant(start.create_time)
          .Instant(start.create_time)
          .Str(start.id)
          .Int(limit);
      std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
      while (rs->next()) {
        CPTS_ASSIGN_OR_RETURN(MtRequest r, RowToRequest(*rs, cipher_, audit != nullptr));
        result.push_back(std::move(r));
      }
      rs.reset();
      if (audit != nullptr) {
        for (const MtRequest& r : result) {
          CPTS_RETURN_IF_ERROR(Audit(conn, *audit, audit->action, r.id));
        }
      }
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "ListMtQueue");
    }
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<MtUpdateResult> MysqlMtStore::UpdateMtRequest(
    absl::string_view tenant_id, absl::string_view id, std::optional<int64_t> expected_version,
    absl::FunctionRef<absl::StatusOr<MtStepResult>(MtRequest&)> step,
    const PatientAuditContext& audit) {
  MtUpdateResult result;
  absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      result = MtUpdateResult{};
      CPTS_ASSIGN_OR_RETURN(MtRequest r, LoadRequest(conn, cipher_, tenant_id, id, true, true));
      if (expected_version.has_value() && *expected_version != r.version) {
        return absl::AbortedError(
            absl::StrCat("etag: MT request ", id, " changed since it was read; re-read it"));
      }
      const size_t declined_before = r.declined_gp_member_ids.size();
      const int64_t version = r.version;
      CPTS_ASSIGN_OR_RETURN(MtStepResult stepped, step(r));

      if (stepped.capacity_effect != CapacityEffect::kNone) {
        const bool take = stepped.capacity_effect == CapacityEffect::kTake;
        auto& ps = conn.Prepare(take ? kTakePlace : kGiveBackPlace);
        Binder(ps).Instant(r.update_time).Str(tenant_id).Str(stepped.capacity_gp_member_id);
        const int changed = ps.executeUpdate();
        if (changed == 0) {
          absl::StatusOr<GpCapacity> cap =
              LoadCapacity(conn, tenant_id, stepped.capacity_gp_member_id);
          if (take) {
            if (!cap.ok()) {
              return absl::FailedPreconditionError(absl::StrCat(
                  "GP ", stepped.capacity_gp_member_id, " has declared no MT capacity"));
            }
            return absl::FailedPreconditionError(
                absl::StrCat("GP ", stepped.capacity_gp_member_id, " has no MT capacity left"));
          }
          // Giving back to a GP whose declaration is gone: nothing to give back to.
        } else {
          CPTS_ASSIGN_OR_RETURN(GpCapacity cap,
                                LoadCapacity(conn, tenant_id, stepped.capacity_gp_member_id));
          result.capacity = std::move(cap);
        }
      }

      CPTS_ASSIGN_OR_RETURN(SealedPatient s, Seal(cipher_, r));
      {
        auto& ps = conn.Prepare(kUpdateRequest);
        Binder b(ps);
        BindWorkflow(b, r, s);
        b.Str(tenant_id).Str(id).Int64(version);
        if (ps.executeUpdate() != 1) {
          return absl::AbortedError(absl::StrCat("MT request ", id, " changed concurrently"));
        }
      }
      CPTS_RETURN_IF_ERROR(InsertTransition(conn, cipher_, r, static_cast<int>(r.history.size()),
                                            stepped.transition));
      for (size_t i = declined_before; i < r.declined_gp_member_ids.size(); ++i) {
        auto& ps = conn.Prepare(kInsertDeclined);
        Binder(ps)
            .Str(tenant_id)
            .Str(id)
            .Str(r.declined_gp_member_ids[i])
            .Int(static_cast<int>(i) + 1);
        ps.executeUpdate();
      }
      if (r.state == MtState::kPlaced) {
        auto& ps = conn.Prepare(kInsertPlacement);
        Binder(ps)
            .Str(tenant_id)
            .Str(id)
            .Str(r.gp_member_id)
            .Int(PriorityRank(r.priority_class))
            .Bool(r.ald)
            .Instant(r.create_time)
            .Instant(r.state_time)
            .Int64(absl::ToInt64Seconds(r.state_time - r.create_time));
        ps.executeUpdate();
      }
      r.version = version + 1;
      result.request = std::move(r);
      return Audit(conn, audit, audit.action, id);
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "UpdateMtRequest");
    }
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::vector<MtFacts>> MysqlMtStore::ListMtFacts(absl::string_view tenant_id,
                                                               absl::Time since) {
  std::vector<MtFacts> result;
  absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      result.clear();
      absl::flat_hash_map<std::string, size_t> index;
      {
        auto& ps = conn.Prepare(kSelectFacts);
        Binder(ps).Str(tenant_id).Instant(since).Instant(since);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        while (rs->next()) {
          RowReader row(*rs);
          MtFacts f;
          f.id = row.Str();
          f.state = static_cast<MtState>(row.Int());
          f.priority_class = PriorityClassFromRank(row.Int());
          f.ald = row.Bool();
          f.create_time = row.Instant();
          f.state_time = row.Instant();
          CPTS_RETURN_IF_ERROR(row.status());
          index[f.id] = result.size();
          result.push_back(std::move(f));
        }
      }
      auto& ps = conn.Prepare(kSelectActionTimes);
      Binder(ps).Str(tenant_id).Int(EnumInt(MtAction::kDecline)).Instant(since);
      std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
      while (rs->next()) {
        RowReader row(*rs);
        const std::string id = row.Str();
        const absl::Time t = row.Instant();
        CPTS_RETURN_IF_ERROR(row.status());
        auto it = index.find(id);
        if (it != index.end()) result[it->second].decline_times.push_back(t);
      }
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "ListMtFacts");
    }
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<int> MysqlMtStore::PurgeClosedMtRequests(absl::Time cutoff, absl::Time now,
                                                        int limit) {
  int purged = 0;
  absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      purged = 0;
      std::vector<std::pair<std::string, std::string>> rows;
      {
        auto& ps = conn.Prepare(kSelectPurgeable);
        Binder(ps).Instant(cutoff).Int(limit);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        while (rs->next()) {
          rows.emplace_back(rs->getString(1).asStdString(), rs->getString(2).asStdString());
        }
      }
      for (const auto& [tenant, id] : rows) {
        {
          auto& ps = conn.Prepare(kPurgeRequest);
          Binder(ps).Instant(now).Str(tenant).Str(id);
          ps.executeUpdate();
        }
        {
          auto& ps = conn.Prepare(kPurgeTransitions);
          Binder(ps).Str(tenant).Str(id);
          ps.executeUpdate();
        }
        platform::auth::Principal retention;
        retention.tenant_id = tenant;
        retention.subject = "service:access-retention";
        retention.roles = {"service"};
        CPTS_RETURN_IF_ERROR(
            AuditPatientAccess(conn, retention,
                               PatientAccess{.action = audit_actions::kMtRequestPurge,
                                             .resource_type = "mt_request",
                                             .resource_id = id,
                                             .reason = "retention period elapsed"},
                               now));
        ++purged;
      }
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "PurgeClosedMtRequests");
    }
  });
  if (!status.ok()) return status;
  return purged;
}

// =========================================================================================
// GpCapacityRepository
// =========================================================================================

absl::StatusOr<GpCapacity> MysqlMtStore::PutGpCapacity(absl::string_view tenant_id,
                                                       const GpCapacity& capacity,
                                                       std::optional<int64_t> expected_version,
                                                       absl::Time now) {
  GpCapacity result;
  absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      std::optional<int64_t> current;
      {
        auto& ps = conn.Prepare(kSelectCapacityVersionForUpdate);
        Binder(ps).Str(tenant_id).Str(capacity.gp_member_id);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        if (rs->next()) current = rs->getInt64(1);
      }
      if (expected_version.has_value() && current != expected_version) {
        return absl::AbortedError(absl::StrCat("etag: the capacity of GP ", capacity.gp_member_id,
                                               " changed since it was read; re-read it"));
      }
      {
        auto& ps = conn.Prepare(current.has_value() ? kReplaceCapacity : kInsertCapacity);
        Binder(ps)
            .Int(capacity.declared_count)
            .Int(capacity.declared_count)
            .Day(capacity.valid_until)
            .Int(PriorityMask(capacity.priority_classes))
            .Str(absl::StrJoin(capacity.communes, ","))
            .Str(capacity.declared_by)
            .Instant(now)
            .Instant(now)
            .Str(tenant_id)
            .Str(capacity.gp_member_id);
        ps.executeUpdate();
      }
      {
        auto& ps = conn.Prepare(kDeleteCapacityCommunes);
        Binder(ps).Str(tenant_id).Str(capacity.gp_member_id);
        ps.executeUpdate();
      }
      for (const std::string& commune : capacity.communes) {
        auto& ps = conn.Prepare(kInsertCapacityCommune);
        Binder(ps).Str(tenant_id).Str(capacity.gp_member_id).Str(commune);
        ps.executeUpdate();
      }
      CPTS_ASSIGN_OR_RETURN(result, LoadCapacity(conn, tenant_id, capacity.gp_member_id));
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "PutGpCapacity");
    }
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<GpCapacity> MysqlMtStore::GetGpCapacity(absl::string_view tenant_id,
                                                       absl::string_view gp_member_id) {
  GpCapacity result;
  absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      CPTS_ASSIGN_OR_RETURN(result, LoadCapacity(conn, tenant_id, gp_member_id));
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "GetGpCapacity");
    }
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::vector<GpCapacity>> MysqlMtStore::ListGpCapacities(
    absl::string_view tenant_id, const GpCapacityFilter& filter,
    absl::string_view after_gp_member_id, int limit) {
  std::vector<GpCapacity> result;
  absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      const int rank = filter.priority_class == PriorityClass::kUnspecified
                           ? 0
                           : PriorityRank(filter.priority_class);
      auto& ps = conn.Prepare(kListCapacities);
      Binder(ps)
          .Str(tenant_id)
          .Str(after_gp_member_id)
          .Str(filter.commune_insee)
          .Str(filter.commune_insee)
          .Int(rank)
          .Int(rank)
          .Int(filter.available_on.has_value() ? 1 : 0)
          .Day(filter.available_on.value_or(absl::CivilDay(1970, 1, 1)))
          .Int(limit);
      CPTS_ASSIGN_OR_RETURN(result, QueryRows<GpCapacity>(ps, RowToCapacity));
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "ListGpCapacities");
    }
  });
  if (!status.ok()) return status;
  return result;
}

// =========================================================================================
// TerritoryRepository
// =========================================================================================

absl::StatusOr<TerritoryRecord> MysqlMtStore::PutTerritory(absl::string_view tenant_id,
                                                           const TerritoryRecord& territory,
                                                           TerritoryParts replace) {
  TerritoryRecord result;
  absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      {
        // Locks the tenant's territory row first: concurrent replacements are serialised.
        auto& ps = conn.Prepare(kUpsertTerritory);
        Binder(ps).Str(tenant_id).Str(territory.updated_by).Instant(territory.update_time);
        ps.executeUpdate();
      }
      if (replace.links) {
        {
          auto& ps = conn.Prepare(kDeleteTerritoryLinks);
          Binder(ps).Str(tenant_id);
          ps.executeUpdate();
        }
        for (const CommuneLink& link : territory.links) {
          auto& ps = conn.Prepare(kInsertTerritoryLink);
          Binder(ps).Str(tenant_id).Str(link.a).Str(link.b);
          ps.setDouble(4, link.distance);
          ps.executeUpdate();
        }
      }
      if (replace.communes) {
        auto& ps = conn.Prepare(kDeleteTerritoryCommunes);
        Binder(ps).Str(tenant_id);
        ps.executeUpdate();
        InsertTerritoryCommunes(conn, tenant_id, territory.communes);
      }
      CPTS_ASSIGN_OR_RETURN(result, LoadTerritory(conn, tenant_id, TerritoryParts{}));
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "PutTerritory");
    }
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<TerritoryRecord> MysqlMtStore::GetTerritory(absl::string_view tenant_id,
                                                           TerritoryParts parts) {
  TerritoryRecord result;
  absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      CPTS_ASSIGN_OR_RETURN(result, LoadTerritory(conn, tenant_id, parts));
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "GetTerritory");
    }
  });
  if (!status.ok()) return status;
  return result;
}

// =========================================================================================
// CommuneDirectory
// =========================================================================================

absl::StatusOr<std::vector<TerritoryCommune>> MysqlMtStore::FindCommunes(
    absl::string_view tenant_id, const std::vector<std::string>& insee_codes) {
  std::vector<TerritoryCommune> result;
  if (insee_codes.empty()) return result;
  std::string sql(kFindTerritoryCommunesPrefix);
  for (std::size_t i = 0; i < insee_codes.size(); ++i) sql += i == 0 ? "(?" : ", ?";
  sql += ")";
  sql += kOrderByCommune;
  CPTS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  try {
    auto& ps = lease->Prepare(sql);
    Binder b(ps);
    b.Str(tenant_id);
    for (const std::string& code : insee_codes) b.Str(code);
    CPTS_ASSIGN_OR_RETURN(result, QueryRows<TerritoryCommune>(ps, RowToCommune));
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "FindCommunes");
  }
  return result;
}

}  // namespace cpts::access
