#include "services/membership/mysql_store.h"

#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "services/platform/core/status_macros.h"
#include "services/platform/db/audit_log.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/idempotency.h"
#include "services/platform/db/sql_errors.h"
#include "services/platform/db/sql_values.h"
#include "services/platform/db/transaction.h"

namespace cpts::membership {
namespace {

using platform::db::Binder;
using platform::db::Connection;
using platform::db::ConnectionPool;
using platform::db::IdempotencyKeyOf;
using platform::db::IsFinite;
using platform::db::LookUpIdempotencyKey;
using platform::db::MapDuplicate;
using platform::db::MapSqlException;
using platform::db::NotFound;
using platform::db::QueryRows;
using platform::db::RememberIdempotencyKey;
using platform::db::RowReader;
using platform::db::RunInTransaction;
using platform::db::RunInTransactionRetryingKeyRace;

// =========================================================================================
// SQL. Every statement is a named constant with `?` for every value. The few statements whose
// shape depends on the request (ListMembers' filters, the IN lists of batched reads) are
// assembled from the constant fragments below, never from a value: see ListMembersSql,
// MembersByIdsSql and ChildrenSql.
// =========================================================================================

// --- tenants and reference lists ---------------------------------------------------------

constexpr std::string_view kInsertTenant = R"sql(
INSERT INTO tenants (tenant_id, name, finess, aci_size, territory_communes, annual_fee_cents,
                     year_model, create_time, update_time, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1))sql";

constexpr std::string_view kSelectTenant = R"sql(
SELECT tenant_id, name, finess, aci_size, territory_communes, annual_fee_cents, year_model,
       create_time, update_time, version
FROM tenants WHERE tenant_id = ?)sql";

constexpr std::string_view kSelectTenantForUpdate = R"sql(
SELECT tenant_id, name, finess, aci_size, territory_communes, annual_fee_cents, year_model,
       create_time, update_time, version
FROM tenants WHERE tenant_id = ? FOR UPDATE)sql";

constexpr std::string_view kListTenants = R"sql(
SELECT tenant_id, name, finess, aci_size, territory_communes, annual_fee_cents, year_model,
       create_time, update_time, version
FROM tenants WHERE tenant_id > ? ORDER BY tenant_id LIMIT ?)sql";

constexpr std::string_view kUpdateTenant = R"sql(
UPDATE tenants
SET name = ?, finess = ?, aci_size = ?, territory_communes = ?, annual_fee_cents = ?,
    year_model = ?, create_time = ?, update_time = ?, version = version + 1
WHERE tenant_id = ? AND version = ?)sql";

// Serialises the creations that a rule spans across members (one president at a time).
constexpr std::string_view kLockTenant = R"sql(
SELECT version FROM tenants WHERE tenant_id = ? FOR UPDATE)sql";

constexpr std::string_view kInsertProfession = R"sql(
INSERT INTO professions (tenant_id, code, label, requires_rpps, is_reference)
VALUES (?, ?, ?, ?, ?))sql";

constexpr std::string_view kListProfessions = R"sql(
SELECT code, label, requires_rpps, is_reference
FROM professions WHERE tenant_id = ? ORDER BY code)sql";

constexpr std::string_view kSelectProfession = R"sql(
SELECT code, label, requires_rpps, is_reference
FROM professions WHERE tenant_id = ? AND code = ?)sql";

constexpr std::string_view kInsertCollege = R"sql(
INSERT INTO colleges (tenant_id, id, name, description, create_time) VALUES (?, ?, ?, ?, ?))sql";

constexpr std::string_view kListColleges = R"sql(
SELECT id, name, description, create_time
FROM colleges WHERE tenant_id = ? ORDER BY name, id)sql";

constexpr std::string_view kSelectCollege = R"sql(
SELECT id, name, description, create_time
FROM colleges WHERE tenant_id = ? AND id = ?)sql";

// --- members -----------------------------------------------------------------------------

// The columns every member read selects, in the order ReadMemberRow reads them.
#define CPTS_MEMBER_COLUMNS                                                                \
  "m.tenant_id, m.id, m.kind, m.given_name, m.family_name, m.organization_name, "          \
  "m.profession_code, m.rpps, m.finess, m.exercise_mode, m.college_id, m.email, m.phone, " \
  "m.directory_listing_granted, m.directory_listing_time, m.communications_granted, "      \
  "m.communications_time, m.adhesion_submit_time, m.adhesion_message, "                    \
  "m.adhesion_decide_time, m.adhesion_decided_by, m.status, m.status_since, "              \
  "m.previous_status, m.status_reason, m.sort_name, m.create_time, m.update_time, m.version"

constexpr std::string_view kSelectMemberById =
    "SELECT " CPTS_MEMBER_COLUMNS " FROM members m WHERE m.tenant_id = ? AND m.id = ?";

constexpr std::string_view kSelectMemberByIdForUpdate = "SELECT " CPTS_MEMBER_COLUMNS
                                                        " FROM members m"
                                                        " WHERE m.tenant_id = ? AND m.id = ?"
                                                        " FOR UPDATE";

// Followed by a placeholder list: see MembersByIdsSql.
constexpr std::string_view kSelectMembersByIdsPrefix =
    "SELECT " CPTS_MEMBER_COLUMNS " FROM members m WHERE m.tenant_id = ? AND m.id IN ";

// ListMembers = kListMembersBase, the fragments of the criteria present (in this order), then
// kListMembersOrder. Each fragment adds the placeholders listed beside it.
constexpr std::string_view kListMembersBase =
    "SELECT " CPTS_MEMBER_COLUMNS " FROM members m WHERE m.tenant_id = ?";
#undef CPTS_MEMBER_COLUMNS
constexpr std::string_view kListMembersStoredStatus = " AND m.status = ?";  // status name
constexpr std::string_view kListMembersYearCovered = R"sql(
  AND EXISTS (SELECT 1 FROM member_years y
              WHERE y.tenant_id = m.tenant_id AND y.member_id = m.id AND y.year = ?))sql";
constexpr std::string_view kListMembersYearNotCovered = R"sql(
  AND NOT EXISTS (SELECT 1 FROM member_years y
                  WHERE y.tenant_id = m.tenant_id AND y.member_id = m.id AND y.year = ?))sql";
constexpr std::string_view kListMembersProfession = " AND m.profession_code = ?";
constexpr std::string_view kListMembersCollege = " AND m.college_id = ?";
constexpr std::string_view kListMembersCommune = R"sql(
  AND EXISTS (SELECT 1 FROM member_places p
              WHERE p.tenant_id = m.tenant_id AND p.member_id = m.id AND p.commune_insee = ?))sql";
// sort_name is utf8mb4_bin: LIKE 'prefix%' is a byte-prefix match and an index range.
constexpr std::string_view kListMembersNamePrefix = " AND m.sort_name LIKE ? ESCAPE '!'";
// (sort_name, id) > (?, ?), written so that the range optimizer uses members_by_*.
constexpr std::string_view kListMembersAfter =
    " AND m.sort_name >= ? AND (m.sort_name > ? OR m.id > ?)";
constexpr std::string_view kListMembersOrder = " ORDER BY m.sort_name, m.id LIMIT ?";

// Everything a member read needs besides its row, for a set of members, in one statement
// (one snapshot): part 0 the current version, 1 the practice places, 2 the membership years,
// 3 the cotisation sums per year. Each part is followed by a placeholder list; see ChildrenSql.
constexpr std::string_view kChildrenVersions = R"sql(
SELECT m.id, 0, m.version, '', '', 0 FROM members m WHERE m.tenant_id = ? AND m.id IN )sql";
constexpr std::string_view kChildrenPlaces = R"sql(
UNION ALL
SELECT p.member_id, 1, p.ordinal, p.commune_insee, p.label, 0 FROM member_places p
WHERE p.tenant_id = ? AND p.member_id IN )sql";
constexpr std::string_view kChildrenYears = R"sql(
UNION ALL
SELECT y.member_id, 2, y.year, '', '', 0 FROM member_years y
WHERE y.tenant_id = ? AND y.member_id IN )sql";
constexpr std::string_view kChildrenPaid = R"sql(
UNION ALL
SELECT c.member_id, 3, c.year, '', '', CAST(SUM(c.amount_cents) AS SIGNED) FROM cotisations c
WHERE c.tenant_id = ? AND c.member_id IN )sql";
constexpr std::string_view kChildrenPaidGroup = " GROUP BY c.member_id, c.year";

constexpr std::string_view kLockMember = R"sql(
SELECT version FROM members WHERE tenant_id = ? AND id = ? FOR UPDATE)sql";

// The data columns (all but tenant_id, id, version) are bound by BindMemberData, in this
// order, in both statements.
constexpr std::string_view kInsertMember = R"sql(
INSERT INTO members (tenant_id, id, kind, given_name, family_name, organization_name,
                     profession_code, rpps, finess, exercise_mode, college_id, email, phone,
                     directory_listing_granted, directory_listing_time, communications_granted,
                     communications_time, adhesion_submit_time, adhesion_message,
                     adhesion_decide_time, adhesion_decided_by, status, status_since,
                     previous_status, status_reason, sort_name, create_time, update_time, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1))sql";

constexpr std::string_view kUpdateMember = R"sql(
UPDATE members
SET kind = ?, given_name = ?, family_name = ?, organization_name = ?, profession_code = ?,
    rpps = ?, finess = ?, exercise_mode = ?, college_id = ?, email = ?, phone = ?,
    directory_listing_granted = ?, directory_listing_time = ?, communications_granted = ?,
    communications_time = ?, adhesion_submit_time = ?, adhesion_message = ?,
    adhesion_decide_time = ?, adhesion_decided_by = ?, status = ?, status_since = ?,
    previous_status = ?, status_reason = ?, sort_name = ?, create_time = ?, update_time = ?,
    version = version + 1
WHERE tenant_id = ? AND id = ? AND version = ?)sql";

constexpr std::string_view kDeletePlaces = R"sql(
DELETE FROM member_places WHERE tenant_id = ? AND member_id = ?)sql";

constexpr std::string_view kInsertPlace = R"sql(
INSERT INTO member_places (tenant_id, member_id, ordinal, commune_insee, label)
VALUES (?, ?, ?, ?, ?))sql";

constexpr std::string_view kDeleteYear = R"sql(
DELETE FROM member_years WHERE tenant_id = ? AND member_id = ? AND year = ?)sql";

constexpr std::string_view kInsertYear = R"sql(
INSERT INTO member_years (tenant_id, member_id, year) VALUES (?, ?, ?))sql";

// The member's change history in the shared audit_log. Only the actions this store writes
// (bound below, kAllAuditActions) are history: other writers may audit reads of a member.
constexpr std::string_view kListHistory = R"sql(
SELECT id, action, actor_subject, occurred_at, reason, JSON_VALUE(details, '$.summary')
FROM audit_log
WHERE tenant_id = ? AND resource_type = ? AND resource_id = ? AND id > ?
  AND action IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ORDER BY id
LIMIT ?)sql";
constexpr int kHistoryActionPlaceholders = 15;

// --- cotisations -------------------------------------------------------------------------

constexpr std::string_view kInsertCotisation = R"sql(
INSERT INTO cotisations (tenant_id, id, member_id, year, amount_cents, paid_on, method,
                         reference, recorded_by, create_time)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?))sql";

constexpr std::string_view kSelectCotisation = R"sql(
SELECT id, member_id, year, amount_cents, paid_on, method, reference, recorded_by, create_time
FROM cotisations WHERE tenant_id = ? AND id = ?)sql";

constexpr std::string_view kListCotisations = R"sql(
SELECT id, member_id, year, amount_cents, paid_on, method, reference, recorded_by, create_time
FROM cotisations WHERE tenant_id = ? AND member_id = ?
ORDER BY year, paid_on, id)sql";

// --- employer conventions ----------------------------------------------------------------

constexpr std::string_view kInsertConvention = R"sql(
INSERT INTO employer_conventions (tenant_id, id, member_id, employer_member_id, valid_from,
                                  valid_until, reference, end_reason, create_time, update_time,
                                  version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1))sql";

constexpr std::string_view kSelectConvention = R"sql(
SELECT id, member_id, employer_member_id, valid_from, valid_until, reference, end_reason,
       create_time, update_time, version
FROM employer_conventions WHERE tenant_id = ? AND id = ?)sql";

constexpr std::string_view kSelectConventionForUpdate = R"sql(
SELECT id, member_id, employer_member_id, valid_from, valid_until, reference, end_reason,
       create_time, update_time, version
FROM employer_conventions WHERE tenant_id = ? AND id = ? FOR UPDATE)sql";

constexpr std::string_view kListConventions = R"sql(
SELECT id, member_id, employer_member_id, valid_from, valid_until, reference, end_reason,
       create_time, update_time, version
FROM employer_conventions WHERE tenant_id = ? AND member_id = ?
ORDER BY valid_from, id)sql";

constexpr std::string_view kListConventionsForUpdate = R"sql(
SELECT id, member_id, employer_member_id, valid_from, valid_until, reference, end_reason,
       create_time, update_time, version
FROM employer_conventions WHERE tenant_id = ? AND member_id = ?
ORDER BY valid_from, id FOR UPDATE)sql";

constexpr std::string_view kUpdateConvention = R"sql(
UPDATE employer_conventions
SET employer_member_id = ?, valid_from = ?, valid_until = ?, reference = ?, end_reason = ?,
    create_time = ?, update_time = ?, version = version + 1
WHERE tenant_id = ? AND id = ? AND version = ?)sql";

// --- mandates ----------------------------------------------------------------------------

constexpr std::string_view kInsertMandate = R"sql(
INSERT INTO mandates (tenant_id, id, member_id, body, role, start_date, end_date, end_reason,
                      create_time, update_time, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1))sql";

constexpr std::string_view kSelectMandate = R"sql(
SELECT id, member_id, body, role, start_date, end_date, end_reason, create_time, update_time,
       version
FROM mandates WHERE tenant_id = ? AND id = ?)sql";

constexpr std::string_view kSelectMandateForUpdate = R"sql(
SELECT id, member_id, body, role, start_date, end_date, end_reason, create_time, update_time,
       version
FROM mandates WHERE tenant_id = ? AND id = ? FOR UPDATE)sql";

constexpr std::string_view kListSameRoleForUpdate = R"sql(
SELECT id, member_id, body, role, start_date, end_date, end_reason, create_time, update_time,
       version
FROM mandates WHERE tenant_id = ? AND body = ? AND role = ?
ORDER BY start_date, id FOR UPDATE)sql";

// A tenant has a few dozen mandates: one statement with optional criteria is enough.
// Parameters: tenant, body name twice ('UNSPECIFIED' = any), day three times (NULL = any).
constexpr std::string_view kListMandates = R"sql(
SELECT id, member_id, body, role, start_date, end_date, end_reason, create_time, update_time,
       version
FROM mandates
WHERE tenant_id = ?
  AND (? = 'UNSPECIFIED' OR body = ?)
  AND (? = '' OR member_id = ?)
  AND (? IS NULL OR (start_date <= ? AND (end_date IS NULL OR end_date >= ?)))
ORDER BY body, role, start_date, id)sql";

constexpr std::string_view kUpdateMandate = R"sql(
UPDATE mandates
SET body = ?, role = ?, start_date = ?, end_date = ?, end_reason = ?, create_time = ?,
    update_time = ?, version = version + 1
WHERE tenant_id = ? AND id = ? AND version = ?)sql";

// =========================================================================================
// Conversions
// =========================================================================================

constexpr absl::string_view kMemberResourceType = "member";
constexpr absl::string_view kActionPrefix = "membership.member.";

// A read of a member's row and of its children saw two versions: read again, this many times.
constexpr int kMaxConsistentReadAttempts = 3;

// Sizes of the placeholder lists of batched reads; a larger set is read in chunks of the
// largest. Unused placeholders repeat the last id (harmless in IN). Few sizes keep the
// per-connection statement cache small.
constexpr std::array<size_t, 5> kBatchSizes = {1, 4, 16, 64, 256};
constexpr size_t kMaxBatch = kBatchSizes.back();

constexpr std::array<MemberKind, 3> kAllKinds = {MemberKind::kUnspecified, MemberKind::kPerson,
                                                 MemberKind::kLegalEntity};
constexpr std::array<ExerciseMode, 4> kAllModes = {ExerciseMode::kUnspecified,
                                                   ExerciseMode::kLiberal, ExerciseMode::kSalaried,
                                                   ExerciseMode::kMixed};
constexpr std::array<MemberStatus, 7> kAllStatuses = {
    MemberStatus::kUnspecified, MemberStatus::kPending,   MemberStatus::kActive,
    MemberStatus::kLapsed,      MemberStatus::kSuspended, MemberStatus::kResigned,
    MemberStatus::kRejected};
constexpr std::array<PaymentMethod, 7> kAllMethods = {
    PaymentMethod::kUnspecified, PaymentMethod::kBankTransfer, PaymentMethod::kCheck,
    PaymentMethod::kCash,        PaymentMethod::kCard,         PaymentMethod::kDirectDebit,
    PaymentMethod::kOther};
constexpr std::array<MandateBody, 4> kAllBodies = {MandateBody::kUnspecified, MandateBody::kBureau,
                                                   MandateBody::kBoard, MandateBody::kStaff};
constexpr std::array<MandateRole, 11> kAllRoles = {
    MandateRole::kUnspecified,      MandateRole::kPresident,
    MandateRole::kVicePresident,    MandateRole::kTreasurer,
    MandateRole::kDeputyTreasurer,  MandateRole::kSecretary,
    MandateRole::kDeputySecretary,  MandateRole::kBoardMember,
    MandateRole::kCoordinator,      MandateRole::kAdministrativeSecretary,
    MandateRole::kCoordinationNurse};
constexpr std::array<MembershipYearModel, 1> kAllYearModels = {MembershipYearModel::kCalendar};
constexpr std::array<AuditAction, kHistoryActionPlaceholders> kAllAuditActions = {
    AuditAction::kUnspecified,
    AuditAction::kCreated,
    AuditAction::kUpdated,
    AuditAction::kAdhesionSubmitted,
    AuditAction::kAdhesionApproved,
    AuditAction::kAdhesionRejected,
    AuditAction::kRenewed,
    AuditAction::kSuspended,
    AuditAction::kReinstated,
    AuditAction::kResigned,
    AuditAction::kCotisationRecorded,
    AuditAction::kConventionCreated,
    AuditAction::kConventionEnded,
    AuditAction::kMandateCreated,
    AuditAction::kMandateEnded};

// Names of the ENUM columns (model.h has no name function for these two).
absl::string_view DbPaymentMethod(PaymentMethod method) {
  switch (method) {
    case PaymentMethod::kUnspecified:
      return "UNSPECIFIED";
    case PaymentMethod::kBankTransfer:
      return "BANK_TRANSFER";
    case PaymentMethod::kCheck:
      return "CHECK";
    case PaymentMethod::kCash:
      return "CASH";
    case PaymentMethod::kCard:
      return "CARD";
    case PaymentMethod::kDirectDebit:
      return "DIRECT_DEBIT";
    case PaymentMethod::kOther:
      return "OTHER";
  }
  return "UNKNOWN";
}

absl::string_view DbYearModel(MembershipYearModel model) {
  switch (model) {
    case MembershipYearModel::kCalendar:
      return "CALENDAR";
  }
  return "UNKNOWN";
}

std::string AuditActionColumn(AuditAction action) {
  return absl::StrCat(kActionPrefix, AuditActionName(action));
}

// AuditActionColumn of kAllAuditActions[i], computed once.
const std::array<std::string, kAllAuditActions.size()>& AllAuditActionColumns() {
  static const auto* const columns = [] {
    auto* c = new std::array<std::string, kAllAuditActions.size()>();
    for (size_t i = 0; i < kAllAuditActions.size(); ++i) {
      (*c)[i] = AuditActionColumn(kAllAuditActions[i]);
    }
    return c;
  }();
  return *columns;
}

// Appends a constant SQL fragment (std::string_view; Debian's Abseil has its own string_view).
void AppendSql(std::string& sql, std::string_view fragment) { sql += fragment; }

// --- statement texts assembled from constants --------------------------------------------

size_t BatchIndex(size_t n) {
  for (size_t i = 0; i < kBatchSizes.size(); ++i) {
    if (kBatchSizes[i] >= n) return i;
  }
  return kBatchSizes.size() - 1;
}

std::string Placeholders(size_t n) {
  std::string out = "(?";
  for (size_t i = 1; i < n; ++i) out += ", ?";
  out += ")";
  return out;
}

const std::string& MembersByIdsSql(size_t batch_index) {
  static const auto* const texts = [] {
    auto* t = new std::array<std::string, kBatchSizes.size()>();
    for (size_t i = 0; i < kBatchSizes.size(); ++i) {
      (*t)[i] = std::string(kSelectMembersByIdsPrefix) + Placeholders(kBatchSizes[i]);
    }
    return t;
  }();
  return (*texts)[batch_index];
}

const std::string& ChildrenSql(size_t batch_index) {
  static const auto* const texts = [] {
    auto* t = new std::array<std::string, kBatchSizes.size()>();
    for (size_t i = 0; i < kBatchSizes.size(); ++i) {
      const std::string list = Placeholders(kBatchSizes[i]);
      std::string& text = (*t)[i];
      for (const std::string_view part :
           {kChildrenVersions, kChildrenPlaces, kChildrenYears, kChildrenPaid}) {
        text += part;
        text += list;
      }
      text += kChildrenPaidGroup;
    }
    return t;
  }();
  return (*texts)[batch_index];
}

// Binds (tenant, ids padded to the batch size) `parts` times.
void BindIdLists(sql::PreparedStatement& ps, absl::string_view tenant_id,
                 const std::vector<std::string>& ids, size_t batch, int parts) {
  Binder b(ps);
  for (int part = 0; part < parts; ++part) {
    b.Str(tenant_id);
    for (size_t i = 0; i < batch; ++i) b.Str(ids[std::min(i, ids.size() - 1)]);
  }
}

// =========================================================================================
// Row readers and writers
// =========================================================================================

absl::StatusOr<Member> ReadMemberRow(const sql::ResultSet& rs) {
  RowReader r(rs);
  Member m;
  m.tenant_id = r.Str();
  m.id = r.Str();
  m.kind = r.Enum(kAllKinds, &MemberKindName);
  m.given_name = r.Str();
  m.family_name = r.Str();
  m.organization_name = r.Str();
  m.profession_code = r.Str();
  m.rpps = r.Str();  // NULL reads as ""
  m.finess = r.Str();
  m.exercise_mode = r.Enum(kAllModes, &ExerciseModeName);
  m.college_id = r.Str();
  m.contact.email = r.Str();
  m.contact.phone = r.Str();
  m.consents.directory_listing.granted = r.Bool();
  m.consents.directory_listing.record_time = r.OptionalInstant();
  m.consents.communications.granted = r.Bool();
  m.consents.communications.record_time = r.OptionalInstant();
  m.adhesion.submit_time = r.OptionalInstant();
  m.adhesion.message = r.Str();
  m.adhesion.decide_time = r.OptionalInstant();
  m.adhesion.decided_by = r.Str();
  m.status = r.Enum(kAllStatuses, &MemberStatusName);
  m.status_since = r.Day();
  m.previous_status = r.Enum(kAllStatuses, &MemberStatusName);
  m.status_reason = r.Str();
  m.sort_name = r.Str();
  m.create_time = r.Instant();
  m.update_time = r.Instant();
  m.version = r.Int64();
  if (!r.status().ok()) return r.status();
  return m;
}

// The 26 data columns of kInsertMember / kUpdateMember, from `kind` to `update_time`.
void BindMemberData(Binder& b, const Member& m) {
  b.Str(MemberKindName(m.kind))
      .Str(m.given_name)
      .Str(m.family_name)
      .Str(m.organization_name)
      .Str(m.profession_code)
      .StrOrNull(m.rpps)
      .Str(m.finess)
      .Str(ExerciseModeName(m.exercise_mode))
      .Str(m.college_id)
      .Str(m.contact.email)
      .Str(m.contact.phone)
      .Bool(m.consents.directory_listing.granted)
      .Instant(m.consents.directory_listing.record_time)
      .Bool(m.consents.communications.granted)
      .Instant(m.consents.communications.record_time)
      .Instant(m.adhesion.submit_time)
      .Str(m.adhesion.message)
      .Instant(m.adhesion.decide_time)
      .Str(m.adhesion.decided_by)
      .Str(MemberStatusName(m.status))
      .Day(m.status_since)
      .Str(MemberStatusName(m.previous_status))
      .Str(m.status_reason)
      .Str(m.sort_name)
      .Instant(m.create_time)
      .Instant(m.update_time);
}

constexpr std::pair<absl::string_view, absl::string_view> kDuplicateRpps = {
    "members_by_rpps", "member.rpps: already used by another member of this CPTS"};

absl::StatusOr<Tenant> ReadTenantRow(const sql::ResultSet& rs) {
  RowReader r(rs);
  Tenant t;
  t.id = r.Str();
  t.name = r.Str();
  t.finess = r.Str();
  t.size = r.Int();
  t.territory_communes = absl::StrSplit(r.Str(), ',', absl::SkipEmpty());
  t.annual_fee_cents = r.Int64();
  t.year_model = r.Enum(kAllYearModels, &DbYearModel);
  t.create_time = r.Instant();
  t.update_time = r.Instant();
  t.version = r.Int64();
  if (!r.status().ok()) return r.status();
  return t;
}

Profession ReadProfessionRow(const sql::ResultSet& rs) {
  RowReader r(rs);
  Profession p;
  p.code = r.Str();
  p.label = r.Str();
  p.requires_rpps = r.Bool();
  p.reference = r.Bool();
  return p;
}

absl::StatusOr<College> ReadCollegeRow(const sql::ResultSet& rs) {
  RowReader r(rs);
  College c;
  c.id = r.Str();
  c.name = r.Str();
  c.description = r.Str();
  c.create_time = r.Instant();
  if (!r.status().ok()) return r.status();
  return c;
}

absl::StatusOr<Cotisation> ReadCotisationRow(const sql::ResultSet& rs) {
  RowReader r(rs);
  Cotisation c;
  c.id = r.Str();
  c.member_id = r.Str();
  c.year = r.Int();
  c.amount_cents = r.Int64();
  c.paid_on = r.Day();
  c.method = r.Enum(kAllMethods, &DbPaymentMethod);
  c.reference = r.Str();
  c.recorded_by = r.Str();
  c.create_time = r.Instant();
  if (!r.status().ok()) return r.status();
  return c;
}

absl::StatusOr<EmployerConvention> ReadConventionRow(const sql::ResultSet& rs) {
  RowReader r(rs);
  EmployerConvention c;
  c.id = r.Str();
  c.member_id = r.Str();
  c.employer_member_id = r.Str();
  c.valid_from = r.Day();
  c.valid_until = r.OptionalDay();
  c.reference = r.Str();
  c.end_reason = r.Str();
  c.create_time = r.Instant();
  c.update_time = r.Instant();
  c.version = r.Int64();
  if (!r.status().ok()) return r.status();
  return c;
}

absl::StatusOr<Mandate> ReadMandateRow(const sql::ResultSet& rs) {
  RowReader r(rs);
  Mandate m;
  m.id = r.Str();
  m.member_id = r.Str();
  m.body = r.Enum(kAllBodies, &MandateBodyName);
  m.role = r.Enum(kAllRoles, &MandateRoleName);
  m.start_date = r.Day();
  m.end_date = r.OptionalDay();
  m.end_reason = r.Str();
  m.create_time = r.Instant();
  m.update_time = r.Instant();
  m.version = r.Int64();
  if (!r.status().ok()) return r.status();
  return m;
}

// At most one row; nullopt when there is none.
template <typename T, typename ReadFn>
absl::StatusOr<std::optional<T>> QueryOptionalRow(sql::PreparedStatement& ps, ReadFn read) {
  std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
  if (!rs->next()) return std::optional<T>();
  absl::StatusOr<T> row = read(*rs);
  if (!row.ok()) return row.status();
  return std::optional<T>(*std::move(row));
}

// =========================================================================================
// Building blocks of the repository methods (each its own catch boundary)
// =========================================================================================

// --- idempotency ---------------------------------------------------------------------------

// Runs `body` in a transaction; when it loses the race for its idempotency key, once more
// (it then replays), else Aborted as store.h allows.
template <typename T>
absl::StatusOr<CreateResult<T>> RunCreate(
    ConnectionPool& pool, absl::FunctionRef<absl::Status(Connection&, CreateResult<T>&)> body) {
  CreateResult<T> result;
  CPTS_RETURN_IF_ERROR(RunInTransactionRetryingKeyRace(pool, [&](Connection& conn) {
    result = CreateResult<T>();
    return body(conn, result);
  }));
  return result;
}

// --- audit -------------------------------------------------------------------------------

absl::Status AppendMemberAudit(Connection& conn, absl::string_view tenant_id,
                               absl::string_view member_id, const AuditEntry& entry) {
  platform::db::AuditRecord record;
  record.tenant_id = std::string(tenant_id);
  record.actor_subject = entry.actor;
  record.action = AuditActionColumn(entry.action);
  record.resource_type = std::string(kMemberResourceType);
  record.resource_id = std::string(member_id);
  record.reason = entry.reason;
  if (!entry.details.empty()) record.details = platform::db::AuditSummaryJson(entry.details);
  // The Unix epoch asks AppendAudit for the server's time.
  record.occurred_at = IsFinite(entry.time) ? entry.time : absl::UnixEpoch();
  return platform::db::AppendAudit(conn, record);
}

// --- members -------------------------------------------------------------------------------

// Replaces the children of `members` (rows of one tenant) by what the database holds now, in
// one statement per chunk. Returns false when a member's version there differs from the one
// in `members` (it changed between the two reads; the caller reads again).
absl::StatusOr<bool> FillChildren(Connection& conn, absl::string_view tenant_id,
                                  std::vector<Member>& members) {
  if (members.empty()) return true;
  absl::flat_hash_map<std::string, size_t> index;
  index.reserve(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    Member& m = members[i];
    m.practice_places.clear();
    m.membership_years.clear();
    m.paid_cents_by_year.clear();
    index.emplace(m.id, i);
  }
  std::vector<int64_t> seen_version(members.size(), -1);
  std::vector<std::vector<std::pair<int64_t, PracticePlace>>> places(members.size());
  try {
    for (size_t begin = 0; begin < members.size(); begin += kMaxBatch) {
      const size_t end = std::min(members.size(), begin + kMaxBatch);
      std::vector<std::string> ids;
      ids.reserve(end - begin);
      for (size_t i = begin; i < end; ++i) ids.push_back(members[i].id);
      const size_t batch_index = BatchIndex(ids.size());
      sql::PreparedStatement& ps = conn.Prepare(ChildrenSql(batch_index));
      BindIdLists(ps, tenant_id, ids, kBatchSizes[batch_index], 4);
      std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
      while (rs->next()) {
        RowReader r(*rs);
        const std::string id = r.Str();
        const int part = r.Int();
        const int64_t n = r.Int64();
        const auto it = index.find(id);
        if (it == index.end()) continue;
        Member& m = members[it->second];
        switch (part) {
          case 0:
            seen_version[it->second] = n;
            break;
          case 1: {
            PracticePlace place;
            place.commune_insee = r.Str();
            place.label = r.Str();
            places[it->second].emplace_back(n, std::move(place));
            break;
          }
          case 2:
            m.membership_years.push_back(static_cast<int>(n));
            break;
          case 3:
            r.Str();
            r.Str();
            m.paid_cents_by_year[static_cast<int>(n)] = r.Int64();
            break;
          default:
            return absl::InternalError(absl::StrCat("read member children: unknown part ", part));
        }
      }
    }
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read member places, years and cotisations");
  }
  bool consistent = true;
  for (size_t i = 0; i < members.size(); ++i) {
    Member& m = members[i];
    if (seen_version[i] != m.version) consistent = false;
    std::sort(places[i].begin(), places[i].end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    m.practice_places.reserve(places[i].size());
    for (auto& [ordinal, place] : places[i]) m.practice_places.push_back(std::move(place));
    std::sort(m.membership_years.begin(), m.membership_years.end());
  }
  return consistent;
}

// Reads member rows with `rows` and completes them with FillChildren, again when a concurrent
// update came in between.
absl::StatusOr<std::vector<Member>> ReadMembersConsistently(
    Connection& conn, absl::string_view tenant_id,
    absl::FunctionRef<absl::StatusOr<std::vector<Member>>()> rows) {
  for (int attempt = 1; attempt <= kMaxConsistentReadAttempts; ++attempt) {
    CPTS_ASSIGN_OR_RETURN(std::vector<Member> members, rows());
    CPTS_ASSIGN_OR_RETURN(const bool consistent, FillChildren(conn, tenant_id, members));
    if (consistent) return members;
  }
  return absl::AbortedError("members changed while being read: retry");
}

enum class Lock { kNone, kForUpdate };

// The member with its children and paid_cents_by_year; NotFound when absent. With
// kForUpdate (inside a transaction) the row stays locked until the end of the transaction.
absl::StatusOr<Member> ReadMember(Connection& conn, absl::string_view tenant_id,
                                  absl::string_view member_id, Lock lock,
                                  absl::string_view not_found_prefix = "member") {
  auto rows = [&]() -> absl::StatusOr<std::vector<Member>> {
    try {
      sql::PreparedStatement& ps =
          conn.Prepare(lock == Lock::kForUpdate ? kSelectMemberByIdForUpdate : kSelectMemberById);
      Binder(ps).Str(tenant_id).Str(member_id);
      return QueryRows<Member>(ps, ReadMemberRow);
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "read member");
    }
  };
  CPTS_ASSIGN_OR_RETURN(std::vector<Member> members,
                        ReadMembersConsistently(conn, tenant_id, rows));
  if (members.empty()) return NotFound(not_found_prefix, member_id);
  return std::move(members.front());
}

// Locks a member's row (FOR UPDATE) without reading it: false when absent.
absl::StatusOr<bool> LockMember(Connection& conn, absl::string_view tenant_id,
                                absl::string_view member_id) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(kLockMember);
    Binder(ps).Str(tenant_id).Str(member_id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    return rs->next();
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "lock member");
  }
}

absl::Status InsertPlaces(Connection& conn, const Member& m) {
  try {
    for (size_t i = 0; i < m.practice_places.size(); ++i) {
      sql::PreparedStatement& ps = conn.Prepare(kInsertPlace);
      Binder(ps)
          .Str(m.tenant_id)
          .Str(m.id)
          .Int(static_cast<int>(i))
          .Str(m.practice_places[i].commune_insee)
          .Str(m.practice_places[i].label);
      ps.executeUpdate();
    }
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "write member practice places");
  }
}

// Inserts the years of `now` missing from `before` and deletes those gone (both sorted or
// not: compared as sets).
absl::Status WriteYears(Connection& conn, const Member& m, std::vector<int> before,
                        std::vector<int> now) {
  std::sort(before.begin(), before.end());
  before.erase(std::unique(before.begin(), before.end()), before.end());
  std::sort(now.begin(), now.end());
  now.erase(std::unique(now.begin(), now.end()), now.end());
  std::vector<int> gone;
  std::vector<int> added;
  std::set_difference(before.begin(), before.end(), now.begin(), now.end(),
                      std::back_inserter(gone));
  std::set_difference(now.begin(), now.end(), before.begin(), before.end(),
                      std::back_inserter(added));
  try {
    for (const int year : gone) {
      sql::PreparedStatement& ps = conn.Prepare(kDeleteYear);
      Binder(ps).Str(m.tenant_id).Str(m.id).Int(year);
      ps.executeUpdate();
    }
    for (const int year : added) {
      sql::PreparedStatement& ps = conn.Prepare(kInsertYear);
      Binder(ps).Str(m.tenant_id).Str(m.id).Int(year);
      ps.executeUpdate();
    }
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "write membership years");
  }
}

absl::Status InsertMemberRows(Connection& conn, const Member& m) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(kInsertMember);
    Binder b(ps);
    b.Str(m.tenant_id).Str(m.id);
    BindMemberData(b, m);
    ps.executeUpdate();
  } catch (const sql::SQLException& e) {
    return MapDuplicate(e, "insert member",
                        {kDuplicateRpps, {"PRIMARY", "member: a member with this id exists"}});
  }
  CPTS_RETURN_IF_ERROR(InsertPlaces(conn, m));
  return WriteYears(conn, m, {}, m.membership_years);
}

// Writes `next` over `current` (locked by the caller): the row with version + 1, and the
// children that changed.
absl::Status UpdateMemberRows(Connection& conn, const Member& current, const Member& next) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(kUpdateMember);
    Binder b(ps);
    BindMemberData(b, next);
    b.Str(current.tenant_id).Str(current.id).Int64(current.version);
    if (ps.executeUpdate() != 1) {
      return absl::AbortedError(absl::StrCat("member ", current.id, " changed concurrently"));
    }
  } catch (const sql::SQLException& e) {
    return MapDuplicate(e, "update member", {kDuplicateRpps});
  }
  if (next.practice_places != current.practice_places) {
    try {
      sql::PreparedStatement& ps = conn.Prepare(kDeletePlaces);
      Binder(ps).Str(current.tenant_id).Str(current.id);
      ps.executeUpdate();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "delete member practice places");
    }
    CPTS_RETURN_IF_ERROR(InsertPlaces(conn, next));
  }
  if (next.membership_years != current.membership_years) {
    CPTS_RETURN_IF_ERROR(WriteYears(conn, next, current.membership_years, next.membership_years));
  }
  return absl::OkStatus();
}

// --- other aggregates -------------------------------------------------------------------------

absl::StatusOr<std::optional<EmployerConvention>> ReadConvention(Connection& conn,
                                                                 absl::string_view tenant_id,
                                                                 absl::string_view convention_id,
                                                                 Lock lock) {
  try {
    sql::PreparedStatement& ps =
        conn.Prepare(lock == Lock::kForUpdate ? kSelectConventionForUpdate : kSelectConvention);
    Binder(ps).Str(tenant_id).Str(convention_id);
    return QueryOptionalRow<EmployerConvention>(ps, ReadConventionRow);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read convention");
  }
}

absl::StatusOr<std::optional<Mandate>> ReadMandate(Connection& conn, absl::string_view tenant_id,
                                                   absl::string_view mandate_id, Lock lock) {
  try {
    sql::PreparedStatement& ps =
        conn.Prepare(lock == Lock::kForUpdate ? kSelectMandateForUpdate : kSelectMandate);
    Binder(ps).Str(tenant_id).Str(mandate_id);
    return QueryOptionalRow<Mandate>(ps, ReadMandateRow);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read mandate");
  }
}

absl::StatusOr<std::optional<Tenant>> ReadTenant(Connection& conn, absl::string_view tenant_id,
                                                 Lock lock) {
  try {
    sql::PreparedStatement& ps =
        conn.Prepare(lock == Lock::kForUpdate ? kSelectTenantForUpdate : kSelectTenant);
    Binder(ps).Str(tenant_id);
    return QueryOptionalRow<Tenant>(ps, ReadTenantRow);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read tenant");
  }
}

absl::StatusOr<std::optional<College>> ReadCollege(Connection& conn, absl::string_view tenant_id,
                                                   absl::string_view college_id) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(kSelectCollege);
    Binder(ps).Str(tenant_id).Str(college_id);
    return QueryOptionalRow<College>(ps, ReadCollegeRow);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read collège");
  }
}

absl::StatusOr<std::optional<Cotisation>> ReadCotisation(Connection& conn,
                                                         absl::string_view tenant_id,
                                                         absl::string_view cotisation_id) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(kSelectCotisation);
    Binder(ps).Str(tenant_id).Str(cotisation_id);
    return QueryOptionalRow<Cotisation>(ps, ReadCotisationRow);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read cotisation");
  }
}

// The replayed resource of an idempotency key; Internal if it vanished (nothing is deleted).
template <typename T>
absl::StatusOr<T> Replayed(absl::StatusOr<std::optional<T>> read, absl::string_view what,
                           absl::string_view id) {
  if (!read.ok()) return read.status();
  if (!read->has_value()) {
    return absl::InternalError(
        absl::StrCat("idempotency key names ", what, " ", id, ", which does not exist"));
  }
  return **std::move(read);
}

}  // namespace

// =========================================================================================
// TenantRepository
// =========================================================================================

absl::StatusOr<CreateResult<Tenant>> MysqlMembershipStore::CreateTenant(
    const Tenant& tenant, const std::vector<Profession>& seed, const IdempotencyKey* key) {
  return RunCreate<Tenant>(pool_, [&](Connection& conn, CreateResult<Tenant>& out) -> absl::Status {
    CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                          LookUpIdempotencyKey(conn, "", IdempotencyKeyOf(key)));
    if (replay.has_value()) {
      CPTS_ASSIGN_OR_RETURN(out.value,
                            Replayed(ReadTenant(conn, *replay, Lock::kNone), "tenant", *replay));
      out.replayed = true;
      return absl::OkStatus();
    }
    try {
      sql::PreparedStatement& ps = conn.Prepare(kInsertTenant);
      Binder(ps)
          .Str(tenant.id)
          .Str(tenant.name)
          .Str(tenant.finess)
          .Int(tenant.size)
          .Str(absl::StrJoin(tenant.territory_communes, ","))
          .Int64(tenant.annual_fee_cents)
          .Str(DbYearModel(tenant.year_model))
          .Instant(tenant.create_time)
          .Instant(tenant.update_time);
      ps.executeUpdate();
    } catch (const sql::SQLException& e) {
      return MapDuplicate(e, "insert tenant",
                          {{"PRIMARY", absl::StrCat("tenant ", tenant.id, " already exists")}});
    }
    try {
      for (const Profession& p : seed) {
        sql::PreparedStatement& ps = conn.Prepare(kInsertProfession);
        Binder(ps).Str(tenant.id).Str(p.code).Str(p.label).Bool(p.requires_rpps).Bool(p.reference);
        ps.executeUpdate();
      }
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "insert seed professions");
    }
    CPTS_RETURN_IF_ERROR(
        RememberIdempotencyKey(conn, "", IdempotencyKeyOf(key), tenant.id, tenant.create_time));
    out.value = tenant;
    out.value.version = 1;
    return absl::OkStatus();
  });
}

absl::StatusOr<Tenant> MysqlMembershipStore::GetTenant(absl::string_view tenant_id) {
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  CPTS_ASSIGN_OR_RETURN(std::optional<Tenant> tenant, ReadTenant(*lease, tenant_id, Lock::kNone));
  if (!tenant.has_value()) return NotFound("tenant", tenant_id);
  return *std::move(tenant);
}

absl::StatusOr<std::vector<Tenant>> MysqlMembershipStore::ListTenants(
    const std::optional<std::string>& after_id, int limit) {
  if (limit <= 0) return std::vector<Tenant>();
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  try {
    sql::PreparedStatement& ps = lease->Prepare(kListTenants);
    Binder(ps).Str(after_id.value_or("")).Int(limit);
    return QueryRows<Tenant>(ps, ReadTenantRow);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "list tenants");
  }
}

absl::StatusOr<Tenant> MysqlMembershipStore::UpdateTenant(
    absl::string_view tenant_id, absl::FunctionRef<absl::Status(Tenant&)> mutate) {
  Tenant result;
  const absl::Status tx_status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    CPTS_ASSIGN_OR_RETURN(std::optional<Tenant> current,
                          ReadTenant(conn, tenant_id, Lock::kForUpdate));
    if (!current.has_value()) return NotFound("tenant", tenant_id);
    Tenant next = *current;
    CPTS_RETURN_IF_ERROR(mutate(next));
    next.id = current->id;
    try {
      sql::PreparedStatement& ps = conn.Prepare(kUpdateTenant);
      Binder(ps)
          .Str(next.name)
          .Str(next.finess)
          .Int(next.size)
          .Str(absl::StrJoin(next.territory_communes, ","))
          .Int64(next.annual_fee_cents)
          .Str(DbYearModel(next.year_model))
          .Instant(next.create_time)
          .Instant(next.update_time)
          .Str(current->id)
          .Int64(current->version);
      if (ps.executeUpdate() != 1) {
        return absl::AbortedError(absl::StrCat("tenant ", tenant_id, " changed concurrently"));
      }
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "update tenant");
    }
    next.version = current->version + 1;
    result = std::move(next);
    return absl::OkStatus();
  });
  if (!tx_status.ok()) return tx_status;
  return result;
}

// =========================================================================================
// ReferenceRepository
// =========================================================================================

absl::StatusOr<std::vector<Profession>> MysqlMembershipStore::ListProfessions(
    absl::string_view tenant_id) {
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  try {
    sql::PreparedStatement& ps = lease->Prepare(kListProfessions);
    Binder(ps).Str(tenant_id);
    return QueryRows<Profession>(ps, [](const sql::ResultSet& rs) -> absl::StatusOr<Profession> {
      return ReadProfessionRow(rs);
    });
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "list professions");
  }
}

absl::StatusOr<Profession> MysqlMembershipStore::GetProfession(absl::string_view tenant_id,
                                                               absl::string_view code) {
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  try {
    sql::PreparedStatement& ps = lease->Prepare(kSelectProfession);
    Binder(ps).Str(tenant_id).Str(code);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return NotFound("profession", code);
    return ReadProfessionRow(*rs);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read profession");
  }
}

absl::Status MysqlMembershipStore::CreateProfession(absl::string_view tenant_id,
                                                    const Profession& profession) {
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  try {
    sql::PreparedStatement& ps = lease->Prepare(kInsertProfession);
    Binder(ps)
        .Str(tenant_id)
        .Str(profession.code)
        .Str(profession.label)
        .Bool(profession.requires_rpps)
        .Bool(profession.reference);
    ps.executeUpdate();
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return MapDuplicate(
        e, "insert profession",
        {{"PRIMARY", absl::StrCat("profession.code: ", profession.code, " already exists")}});
  }
}

absl::StatusOr<CreateResult<College>> MysqlMembershipStore::CreateCollege(
    absl::string_view tenant_id, const College& college, const IdempotencyKey* key) {
  return RunCreate<College>(
      pool_, [&](Connection& conn, CreateResult<College>& out) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                              LookUpIdempotencyKey(conn, tenant_id, IdempotencyKeyOf(key)));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(
              out.value, Replayed(ReadCollege(conn, tenant_id, *replay), "collège", *replay));
          out.replayed = true;
          return absl::OkStatus();
        }
        try {
          sql::PreparedStatement& ps = conn.Prepare(kInsertCollege);
          Binder(ps)
              .Str(tenant_id)
              .Str(college.id)
              .Str(college.name)
              .Str(college.description)
              .Instant(college.create_time);
          ps.executeUpdate();
        } catch (const sql::SQLException& e) {
          return MapDuplicate(
              e, "insert collège",
              {{"colleges_by_name", "college.name: a collège with this name already exists"},
               {"PRIMARY", "college: a collège with this id exists"}});
        }
        CPTS_RETURN_IF_ERROR(RememberIdempotencyKey(conn, tenant_id, IdempotencyKeyOf(key),
                                                    college.id, college.create_time));
        out.value = college;
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<College>> MysqlMembershipStore::ListColleges(
    absl::string_view tenant_id) {
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  try {
    sql::PreparedStatement& ps = lease->Prepare(kListColleges);
    Binder(ps).Str(tenant_id);
    return QueryRows<College>(ps, ReadCollegeRow);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "list collèges");
  }
}

absl::StatusOr<College> MysqlMembershipStore::GetCollege(absl::string_view tenant_id,
                                                         absl::string_view college_id) {
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  CPTS_ASSIGN_OR_RETURN(std::optional<College> college, ReadCollege(*lease, tenant_id, college_id));
  if (!college.has_value()) return NotFound("collège", college_id);
  return *std::move(college);
}

// =========================================================================================
// MemberRepository
// =========================================================================================

absl::StatusOr<CreateResult<Member>> MysqlMembershipStore::CreateMember(const Member& member,
                                                                        const IdempotencyKey* key,
                                                                        AuditEntry audit) {
  return RunCreate<Member>(pool_, [&](Connection& conn, CreateResult<Member>& out) -> absl::Status {
    CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                          LookUpIdempotencyKey(conn, member.tenant_id, IdempotencyKeyOf(key)));
    if (replay.has_value()) {
      CPTS_ASSIGN_OR_RETURN(out.value, ReadMember(conn, member.tenant_id, *replay, Lock::kNone));
      out.replayed = true;
      return absl::OkStatus();
    }
    CPTS_RETURN_IF_ERROR(InsertMemberRows(conn, member));
    CPTS_RETURN_IF_ERROR(RememberIdempotencyKey(conn, member.tenant_id, IdempotencyKeyOf(key),
                                                member.id, member.create_time));
    CPTS_RETURN_IF_ERROR(AppendMemberAudit(conn, member.tenant_id, member.id, audit));
    out.value = member;
    out.value.version = 1;
    out.value.paid_cents_by_year.clear();
    return absl::OkStatus();
  });
}

absl::StatusOr<Member> MysqlMembershipStore::GetMember(absl::string_view tenant_id,
                                                       absl::string_view member_id) {
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  return ReadMember(*lease, tenant_id, member_id, Lock::kNone);
}

absl::StatusOr<std::vector<Member>> MysqlMembershipStore::BatchGetMembers(
    absl::string_view tenant_id, const std::vector<std::string>& member_ids) {
  std::vector<std::string> ids = member_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<Member> out;
  if (ids.empty()) return out;
  out.reserve(ids.size());
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  Connection& conn = *lease;
  for (size_t begin = 0; begin < ids.size(); begin += kMaxBatch) {
    const std::vector<std::string> chunk(
        ids.begin() + static_cast<std::ptrdiff_t>(begin),
        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), begin + kMaxBatch)));
    auto rows = [&]() -> absl::StatusOr<std::vector<Member>> {
      try {
        const size_t batch_index = BatchIndex(chunk.size());
        sql::PreparedStatement& ps = conn.Prepare(MembersByIdsSql(batch_index));
        Binder b(ps);
        b.Str(tenant_id);
        for (size_t i = 0; i < kBatchSizes[batch_index]; ++i) {
          b.Str(chunk[std::min(i, chunk.size() - 1)]);
        }
        return QueryRows<Member>(ps, ReadMemberRow);
      } catch (const sql::SQLException& e) {
        return MapSqlException(e, "read members");
      }
    };
    CPTS_ASSIGN_OR_RETURN(std::vector<Member> members,
                          ReadMembersConsistently(conn, tenant_id, rows));
    for (Member& m : members) out.push_back(std::move(m));
  }
  return out;
}

absl::StatusOr<std::vector<Member>> MysqlMembershipStore::ListMembers(
    absl::string_view tenant_id, const MemberFilter& filter,
    const std::optional<MemberCursor>& after, int limit) {
  if (limit <= 0) return std::vector<Member>();
  // The statement: constant fragments for the criteria present; their values are bound.
  using Param = std::variant<std::string, int64_t>;
  std::string sql(kListMembersBase);
  std::vector<Param> params = {std::string(tenant_id)};
  if (filter.status.has_value()) {
    const MemberStatus status = *filter.status;
    const bool by_year = status == MemberStatus::kActive || status == MemberStatus::kLapsed;
    AppendSql(sql, kListMembersStoredStatus);
    params.emplace_back(std::string(MemberStatusName(by_year ? MemberStatus::kActive : status)));
    if (by_year) {
      AppendSql(sql, status == MemberStatus::kActive ? kListMembersYearCovered
                                                     : kListMembersYearNotCovered);
      params.emplace_back(int64_t{filter.current_year});
    }
  }
  if (!filter.profession_code.empty()) {
    AppendSql(sql, kListMembersProfession);
    params.emplace_back(filter.profession_code);
  }
  if (!filter.college_id.empty()) {
    AppendSql(sql, kListMembersCollege);
    params.emplace_back(filter.college_id);
  }
  if (!filter.commune_insee.empty()) {
    AppendSql(sql, kListMembersCommune);
    params.emplace_back(filter.commune_insee);
  }
  if (!filter.name_prefix.empty()) {
    std::string pattern;
    for (const char c : filter.name_prefix) {
      if (c == '!' || c == '%' || c == '_') pattern += '!';
      pattern += c;
    }
    pattern += '%';
    AppendSql(sql, kListMembersNamePrefix);
    params.emplace_back(std::move(pattern));
  }
  if (after.has_value()) {
    AppendSql(sql, kListMembersAfter);
    params.emplace_back(after->sort_name);
    params.emplace_back(after->sort_name);
    params.emplace_back(after->id);
  }
  AppendSql(sql, kListMembersOrder);
  params.emplace_back(int64_t{limit});

  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  Connection& conn = *lease;
  auto rows = [&]() -> absl::StatusOr<std::vector<Member>> {
    try {
      sql::PreparedStatement& ps = conn.Prepare(sql);
      Binder b(ps);
      for (const Param& p : params) {
        if (const auto* s = std::get_if<std::string>(&p)) {
          b.Str(*s);
        } else {
          b.Int64(std::get<int64_t>(p));
        }
      }
      return QueryRows<Member>(ps, ReadMemberRow);
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "list members");
    }
  };
  return ReadMembersConsistently(conn, tenant_id, rows);
}

absl::StatusOr<Member> MysqlMembershipStore::UpdateMember(
    absl::string_view tenant_id, absl::string_view member_id,
    absl::FunctionRef<absl::Status(Member&, AuditEntry&)> mutate, AuditEntry audit) {
  Member result;
  const absl::Status tx_status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    CPTS_ASSIGN_OR_RETURN(Member current, ReadMember(conn, tenant_id, member_id, Lock::kForUpdate));
    Member next = current;
    AuditEntry entry = audit;  // a retried attempt starts from the caller's entry again
    CPTS_RETURN_IF_ERROR(mutate(next, entry));
    // Identity is not the callback's to change.
    next.id = current.id;
    next.tenant_id = current.tenant_id;
    CPTS_RETURN_IF_ERROR(UpdateMemberRows(conn, current, next));
    CPTS_RETURN_IF_ERROR(AppendMemberAudit(conn, tenant_id, current.id, entry));
    next.version = current.version + 1;
    next.paid_cents_by_year = current.paid_cents_by_year;  // derived, not written
    result = std::move(next);
    return absl::OkStatus();
  });
  if (!tx_status.ok()) return tx_status;
  return result;
}

absl::StatusOr<std::vector<AuditEntry>> MysqlMembershipStore::ListHistory(
    absl::string_view tenant_id, absl::string_view member_id, std::optional<int64_t> after_sequence,
    int limit) {
  if (limit <= 0) return std::vector<AuditEntry>();
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  try {
    sql::PreparedStatement& ps = lease->Prepare(kListHistory);
    Binder b(ps);
    b.Str(tenant_id).Str(kMemberResourceType).Str(member_id).Int64(after_sequence.value_or(0));
    const auto& action_columns = AllAuditActionColumns();
    for (const std::string& column : action_columns) b.Str(column);
    b.Int(limit);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    std::vector<AuditEntry> out;
    out.reserve(rs->rowsCount());
    while (rs->next()) {
      RowReader r(*rs);
      AuditEntry e;
      e.tenant_id = std::string(tenant_id);
      e.member_id = std::string(member_id);
      e.sequence = r.Int64();
      const std::string action = r.Str();
      for (size_t i = 0; i < action_columns.size(); ++i) {
        if (action_columns[i] == action) e.action = kAllAuditActions[i];
      }
      e.actor = r.Str();
      e.time = r.Instant();
      e.reason = r.Str();
      e.details = r.Str();  // NULL (no details) reads as ""
      if (!r.status().ok()) return r.status();
      out.push_back(std::move(e));
    }
    return out;
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "list member history");
  }
}

// =========================================================================================
// CotisationRepository
// =========================================================================================

absl::StatusOr<CreateResult<Cotisation>> MysqlMembershipStore::RecordCotisation(
    absl::string_view tenant_id, const Cotisation& cotisation, const IdempotencyKey* key,
    absl::FunctionRef<absl::Status(const Member&)> check, AuditEntry audit) {
  return RunCreate<Cotisation>(
      pool_, [&](Connection& conn, CreateResult<Cotisation>& out) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                              LookUpIdempotencyKey(conn, tenant_id, IdempotencyKeyOf(key)));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(
              out.value, Replayed(ReadCotisation(conn, tenant_id, *replay), "cotisation", *replay));
          out.replayed = true;
          return absl::OkStatus();
        }
        CPTS_ASSIGN_OR_RETURN(const Member member,
                              ReadMember(conn, tenant_id, cotisation.member_id, Lock::kForUpdate,
                                         "cotisation.member_id: member"));
        CPTS_RETURN_IF_ERROR(check(member));
        try {
          sql::PreparedStatement& ps = conn.Prepare(kInsertCotisation);
          Binder(ps)
              .Str(tenant_id)
              .Str(cotisation.id)
              .Str(cotisation.member_id)
              .Int(cotisation.year)
              .Int64(cotisation.amount_cents)
              .Day(cotisation.paid_on)
              .Str(DbPaymentMethod(cotisation.method))
              .Str(cotisation.reference)
              .Str(cotisation.recorded_by)
              .Instant(cotisation.create_time);
          ps.executeUpdate();
        } catch (const sql::SQLException& e) {
          return MapDuplicate(e, "insert cotisation",
                              {{"PRIMARY", "cotisation: a cotisation with this id exists"}});
        }
        CPTS_RETURN_IF_ERROR(RememberIdempotencyKey(conn, tenant_id, IdempotencyKeyOf(key),
                                                    cotisation.id, cotisation.create_time));
        CPTS_RETURN_IF_ERROR(AppendMemberAudit(conn, tenant_id, cotisation.member_id, audit));
        out.value = cotisation;
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<Cotisation>> MysqlMembershipStore::ListCotisations(
    absl::string_view tenant_id, absl::string_view member_id) {
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  try {
    sql::PreparedStatement& ps = lease->Prepare(kListCotisations);
    Binder(ps).Str(tenant_id).Str(member_id);
    return QueryRows<Cotisation>(ps, ReadCotisationRow);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "list cotisations");
  }
}

// =========================================================================================
// ConventionRepository
// =========================================================================================

absl::StatusOr<CreateResult<EmployerConvention>> MysqlMembershipStore::CreateConvention(
    absl::string_view tenant_id, const EmployerConvention& convention, const IdempotencyKey* key,
    absl::FunctionRef<absl::Status(const Member&, const Member&,
                                   const std::vector<EmployerConvention>&)>
        check,
    AuditEntry audit) {
  return RunCreate<EmployerConvention>(
      pool_, [&](Connection& conn, CreateResult<EmployerConvention>& out) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                              LookUpIdempotencyKey(conn, tenant_id, IdempotencyKeyOf(key)));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(out.value,
                                Replayed(ReadConvention(conn, tenant_id, *replay, Lock::kNone),
                                         "convention", *replay));
          out.replayed = true;
          return absl::OkStatus();
        }
        CPTS_ASSIGN_OR_RETURN(const Member member,
                              ReadMember(conn, tenant_id, convention.member_id, Lock::kForUpdate,
                                         "convention.member_id: member"));
        CPTS_ASSIGN_OR_RETURN(
            const Member employer,
            ReadMember(conn, tenant_id, convention.employer_member_id, Lock::kForUpdate,
                       "convention.employer_member_id: member"));
        std::vector<EmployerConvention> existing;
        try {
          sql::PreparedStatement& ps = conn.Prepare(kListConventionsForUpdate);
          Binder(ps).Str(tenant_id).Str(convention.member_id);
          CPTS_ASSIGN_OR_RETURN(existing, QueryRows<EmployerConvention>(ps, ReadConventionRow));
        } catch (const sql::SQLException& e) {
          return MapSqlException(e, "read conventions");
        }
        CPTS_RETURN_IF_ERROR(check(member, employer, existing));
        try {
          sql::PreparedStatement& ps = conn.Prepare(kInsertConvention);
          Binder(ps)
              .Str(tenant_id)
              .Str(convention.id)
              .Str(convention.member_id)
              .Str(convention.employer_member_id)
              .Day(convention.valid_from)
              .Day(convention.valid_until)
              .Str(convention.reference)
              .Str(convention.end_reason)
              .Instant(convention.create_time)
              .Instant(convention.update_time);
          ps.executeUpdate();
        } catch (const sql::SQLException& e) {
          return MapDuplicate(e, "insert convention",
                              {{"PRIMARY", "convention: a convention with this id exists"}});
        }
        CPTS_RETURN_IF_ERROR(RememberIdempotencyKey(conn, tenant_id, IdempotencyKeyOf(key),
                                                    convention.id, convention.create_time));
        CPTS_RETURN_IF_ERROR(AppendMemberAudit(conn, tenant_id, convention.member_id, audit));
        out.value = convention;
        out.value.version = 1;
        return absl::OkStatus();
      });
}

absl::StatusOr<EmployerConvention> MysqlMembershipStore::GetConvention(
    absl::string_view tenant_id, absl::string_view convention_id) {
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  CPTS_ASSIGN_OR_RETURN(std::optional<EmployerConvention> convention,
                        ReadConvention(*lease, tenant_id, convention_id, Lock::kNone));
  if (!convention.has_value()) return NotFound("convention", convention_id);
  return *std::move(convention);
}

absl::StatusOr<std::vector<EmployerConvention>> MysqlMembershipStore::ListConventions(
    absl::string_view tenant_id, absl::string_view member_id) {
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  try {
    sql::PreparedStatement& ps = lease->Prepare(kListConventions);
    Binder(ps).Str(tenant_id).Str(member_id);
    return QueryRows<EmployerConvention>(ps, ReadConventionRow);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "list conventions");
  }
}

absl::StatusOr<EmployerConvention> MysqlMembershipStore::UpdateConvention(
    absl::string_view tenant_id, absl::string_view convention_id,
    absl::FunctionRef<absl::Status(EmployerConvention&, AuditEntry&)> mutate, AuditEntry audit) {
  EmployerConvention result;
  const absl::Status tx_status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    // Lock order member -> convention, as CreateConvention: the member's lock also keeps its
    // audit entries in commit order.
    CPTS_ASSIGN_OR_RETURN(std::optional<EmployerConvention> peek,
                          ReadConvention(conn, tenant_id, convention_id, Lock::kNone));
    if (!peek.has_value()) return NotFound("convention", convention_id);
    CPTS_ASSIGN_OR_RETURN(const bool member_exists, LockMember(conn, tenant_id, peek->member_id));
    (void)member_exists;  // a convention outlives nothing: its member always exists
    CPTS_ASSIGN_OR_RETURN(std::optional<EmployerConvention> current,
                          ReadConvention(conn, tenant_id, convention_id, Lock::kForUpdate));
    if (!current.has_value()) return NotFound("convention", convention_id);
    EmployerConvention next = *current;
    AuditEntry entry = audit;
    CPTS_RETURN_IF_ERROR(mutate(next, entry));
    next.id = current->id;
    next.member_id = current->member_id;
    try {
      sql::PreparedStatement& ps = conn.Prepare(kUpdateConvention);
      Binder(ps)
          .Str(next.employer_member_id)
          .Day(next.valid_from)
          .Day(next.valid_until)
          .Str(next.reference)
          .Str(next.end_reason)
          .Instant(next.create_time)
          .Instant(next.update_time)
          .Str(tenant_id)
          .Str(current->id)
          .Int64(current->version);
      if (ps.executeUpdate() != 1) {
        return absl::AbortedError(
            absl::StrCat("convention ", convention_id, " changed concurrently"));
      }
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "update convention");
    }
    CPTS_RETURN_IF_ERROR(AppendMemberAudit(conn, tenant_id, next.member_id, entry));
    next.version = current->version + 1;
    result = std::move(next);
    return absl::OkStatus();
  });
  if (!tx_status.ok()) return tx_status;
  return result;
}

// =========================================================================================
// MandateRepository
// =========================================================================================

absl::StatusOr<CreateResult<Mandate>> MysqlMembershipStore::CreateMandate(
    absl::string_view tenant_id, const Mandate& mandate, const IdempotencyKey* key,
    absl::FunctionRef<absl::Status(const Member&, const std::vector<Mandate>&)> check,
    AuditEntry audit) {
  return RunCreate<Mandate>(
      pool_, [&](Connection& conn, CreateResult<Mandate>& out) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                              LookUpIdempotencyKey(conn, tenant_id, IdempotencyKeyOf(key)));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(
              out.value,
              Replayed(ReadMandate(conn, tenant_id, *replay, Lock::kNone), "mandate", *replay));
          out.replayed = true;
          return absl::OkStatus();
        }
        // Under READ COMMITTED, FOR UPDATE locks existing rows only: two creations for the
        // same role by different holders would both pass `check`. The tenant's row serialises
        // them (lock order tenant -> member -> mandates).
        try {
          sql::PreparedStatement& ps = conn.Prepare(kLockTenant);
          Binder(ps).Str(tenant_id);
          std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        } catch (const sql::SQLException& e) {
          return MapSqlException(e, "lock tenant");
        }
        CPTS_ASSIGN_OR_RETURN(const Member holder,
                              ReadMember(conn, tenant_id, mandate.member_id, Lock::kForUpdate,
                                         "mandate.member_id: member"));
        std::vector<Mandate> same_role;
        try {
          sql::PreparedStatement& ps = conn.Prepare(kListSameRoleForUpdate);
          Binder(ps)
              .Str(tenant_id)
              .Str(MandateBodyName(mandate.body))
              .Str(MandateRoleName(mandate.role));
          CPTS_ASSIGN_OR_RETURN(same_role, QueryRows<Mandate>(ps, ReadMandateRow));
        } catch (const sql::SQLException& e) {
          return MapSqlException(e, "read mandates");
        }
        CPTS_RETURN_IF_ERROR(check(holder, same_role));
        try {
          sql::PreparedStatement& ps = conn.Prepare(kInsertMandate);
          Binder(ps)
              .Str(tenant_id)
              .Str(mandate.id)
              .Str(mandate.member_id)
              .Str(MandateBodyName(mandate.body))
              .Str(MandateRoleName(mandate.role))
              .Day(mandate.start_date)
              .Day(mandate.end_date)
              .Str(mandate.end_reason)
              .Instant(mandate.create_time)
              .Instant(mandate.update_time);
          ps.executeUpdate();
        } catch (const sql::SQLException& e) {
          return MapDuplicate(e, "insert mandate",
                              {{"PRIMARY", "mandate: a mandate with this id exists"}});
        }
        CPTS_RETURN_IF_ERROR(RememberIdempotencyKey(conn, tenant_id, IdempotencyKeyOf(key),
                                                    mandate.id, mandate.create_time));
        CPTS_RETURN_IF_ERROR(AppendMemberAudit(conn, tenant_id, mandate.member_id, audit));
        out.value = mandate;
        out.value.version = 1;
        return absl::OkStatus();
      });
}

absl::StatusOr<Mandate> MysqlMembershipStore::GetMandate(absl::string_view tenant_id,
                                                         absl::string_view mandate_id) {
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  CPTS_ASSIGN_OR_RETURN(std::optional<Mandate> mandate,
                        ReadMandate(*lease, tenant_id, mandate_id, Lock::kNone));
  if (!mandate.has_value()) return NotFound("mandate", mandate_id);
  return *std::move(mandate);
}

absl::StatusOr<std::vector<Mandate>> MysqlMembershipStore::ListMandates(
    absl::string_view tenant_id, const MandateFilter& filter) {
  CPTS_ASSIGN_OR_RETURN(ConnectionPool::Lease lease, pool_.Acquire());
  try {
    sql::PreparedStatement& ps = lease->Prepare(kListMandates);
    const absl::string_view body = MandateBodyName(filter.body);
    Binder(ps)
        .Str(tenant_id)
        .Str(body)
        .Str(body)
        .Str(filter.member_id)
        .Str(filter.member_id)
        .Day(filter.in_force_on)
        .Day(filter.in_force_on)
        .Day(filter.in_force_on);
    return QueryRows<Mandate>(ps, ReadMandateRow);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "list mandates");
  }
}

absl::StatusOr<Mandate> MysqlMembershipStore::UpdateMandate(
    absl::string_view tenant_id, absl::string_view mandate_id,
    absl::FunctionRef<absl::Status(Mandate&, AuditEntry&)> mutate, AuditEntry audit) {
  Mandate result;
  const absl::Status tx_status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    // Lock order member -> mandate, as CreateMandate.
    CPTS_ASSIGN_OR_RETURN(std::optional<Mandate> peek,
                          ReadMandate(conn, tenant_id, mandate_id, Lock::kNone));
    if (!peek.has_value()) return NotFound("mandate", mandate_id);
    CPTS_ASSIGN_OR_RETURN(const bool holder_exists, LockMember(conn, tenant_id, peek->member_id));
    (void)holder_exists;  // members are never deleted
    CPTS_ASSIGN_OR_RETURN(std::optional<Mandate> current,
                          ReadMandate(conn, tenant_id, mandate_id, Lock::kForUpdate));
    if (!current.has_value()) return NotFound("mandate", mandate_id);
    Mandate next = *current;
    AuditEntry entry = audit;
    CPTS_RETURN_IF_ERROR(mutate(next, entry));
    next.id = current->id;
    next.member_id = current->member_id;
    try {
      sql::PreparedStatement& ps = conn.Prepare(kUpdateMandate);
      Binder(ps)
          .Str(MandateBodyName(next.body))
          .Str(MandateRoleName(next.role))
          .Day(next.start_date)
          .Day(next.end_date)
          .Str(next.end_reason)
          .Instant(next.create_time)
          .Instant(next.update_time)
          .Str(tenant_id)
          .Str(current->id)
          .Int64(current->version);
      if (ps.executeUpdate() != 1) {
        return absl::AbortedError(absl::StrCat("mandate ", mandate_id, " changed concurrently"));
      }
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "update mandate");
    }
    CPTS_RETURN_IF_ERROR(AppendMemberAudit(conn, tenant_id, next.member_id, entry));
    next.version = current->version + 1;
    result = std::move(next);
    return absl::OkStatus();
  });
  if (!tx_status.ok()) return tx_status;
  return result;
}

}  // namespace cpts::membership
