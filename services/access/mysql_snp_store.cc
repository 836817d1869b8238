#include "services/access/mysql_snp_store.h"

#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "services/access/patient_audit.h"
#include "services/platform/core/status_macros.h"
#include "services/platform/db/sql_errors.h"
#include "services/platform/db/sql_values.h"
#include "services/platform/db/transaction.h"

namespace cpts::access {
namespace {

using platform::db::Binder;
using platform::db::Connection;
using platform::db::MapSqlException;
using platform::db::NotFound;
using platform::db::QueryRows;
using platform::db::RowReader;
using platform::db::RunInTransaction;

// =========================================================================================
// SQL. Every statement is a named constant with `?` for every value. The statements whose
// shape depends on the request (the IN lists of SearchSlots and FhirSearch) are assembled
// from the constant fragments below and placeholder lists, never from a value.
// =========================================================================================

#define CPTS_SLOT_COLUMNS                                                                    \
  "s.tenant_id, s.id, s.professional_member_id, s.profession_code, s.start_time, "           \
  "s.duration_minutes, s.mode, s.commune_insee, s.address, s.visibility, s.kind, s.status, " \
  "s.booking_id, s.published_by, s.withdraw_reason, s.create_time, s.update_time, s.version"

constexpr std::string_view kSelectSlot =
    "SELECT " CPTS_SLOT_COLUMNS " FROM snp_slots s WHERE s.tenant_id = ? AND s.id = ?";
constexpr std::string_view kSelectSlotForUpdate = "SELECT " CPTS_SLOT_COLUMNS
                                                  " FROM snp_slots s"
                                                  " WHERE s.tenant_id = ? AND s.id = ? FOR UPDATE";
// Non-withdrawn slots of one professional overlapping [from, to).
constexpr std::string_view kSelectOverlapping =
    "SELECT " CPTS_SLOT_COLUMNS
    " FROM snp_slots s WHERE s.tenant_id = ? AND s.professional_member_id = ?"
    " AND s.start_time < ? AND s.end_time > ? AND s.status <> 'WITHDRAWN'"
    " ORDER BY s.start_time, s.id";
// SearchSlots: base, then the optional IN filters (each followed by a placeholder list),
// then the cursor and the order.
constexpr std::string_view kSearchBase =
    "SELECT " CPTS_SLOT_COLUMNS
    " FROM snp_slots s WHERE s.tenant_id = ? AND s.status = 'FREE'"
    " AND s.start_time >= ? AND s.start_time < ?";
constexpr std::string_view kSearchVisibilities = " AND s.visibility IN ";
constexpr std::string_view kSearchCommunes = " AND s.commune_insee IN ";
constexpr std::string_view kSearchProfessions = " AND s.profession_code IN ";
constexpr std::string_view kSearchModes = " AND s.mode IN ";
constexpr std::string_view kSearchProfessionals = " AND s.professional_member_id IN ";
constexpr std::string_view kSearchKind = " AND s.kind = ?";
// (start_time, id) > (?, ?), written so that the range optimizer uses the index.
constexpr std::string_view kSearchAfter =
    " AND s.start_time >= ? AND (s.start_time > ? OR s.id > ?)";
constexpr std::string_view kSearchOrder = " ORDER BY s.start_time, s.id LIMIT ?";
// FhirSearch: FREE slots of professionals by RPPS, [from, to] inclusive.
constexpr std::string_view kFhirSlotsBase =
    "SELECT " CPTS_SLOT_COLUMNS
    " FROM snp_slots s WHERE s.tenant_id = ? AND s.status = 'FREE'"
    " AND s.start_time >= ? AND s.start_time <= ? AND s.professional_rpps IN ";
constexpr std::string_view kFhirCountBase =
    "SELECT COUNT(*) FROM snp_slots s WHERE s.tenant_id = ? AND s.status = 'FREE'"
    " AND s.start_time >= ? AND s.start_time <= ? AND s.professional_rpps IN ";
constexpr std::string_view kFhirOrder = " ORDER BY s.start_time, s.id LIMIT ?";
constexpr std::string_view kIndicatorSlots = R"sql(
SELECT s.id, s.start_time, s.kind, s.status FROM snp_slots s
WHERE s.tenant_id = ? AND s.start_time >= ? AND s.start_time < ?)sql";
constexpr std::string_view kIndicatorBookings = R"sql(
SELECT b.slot_id, b.state, b.origin, b.booker_profession_code
FROM snp_slots s JOIN snp_bookings b ON b.tenant_id = s.tenant_id AND b.slot_id = s.id
WHERE s.tenant_id = ? AND s.start_time >= ? AND s.start_time < ?)sql";
#undef CPTS_SLOT_COLUMNS

constexpr std::string_view kInsertSlot = R"sql(
INSERT INTO snp_slots (tenant_id, id, professional_member_id, professional_rpps,
                       profession_code, start_time, end_time, duration_minutes, mode,
                       commune_insee, address, visibility, kind, status, booking_id,
                       published_by, withdraw_reason, create_time, update_time, version)
VALUES (?, ?, ?, (SELECT p.rpps FROM snp_professionals p
                  WHERE p.tenant_id = ? AND p.member_id = ?),
        ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1))sql";

constexpr std::string_view kUpdateSlot = R"sql(
UPDATE snp_slots
SET status = ?, booking_id = ?, withdraw_reason = ?, update_time = ?, version = version + 1
WHERE tenant_id = ? AND id = ? AND version = ?)sql";

// The guard of "a slot is never booked twice": changes a row only if it is still FREE.
constexpr std::string_view kBookSlotRow = R"sql(
UPDATE snp_slots
SET status = 'BOOKED', booking_id = ?, update_time = ?, version = version + 1
WHERE tenant_id = ? AND id = ? AND status = 'FREE' AND version = ?)sql";

// --- professionals -----------------------------------------------------------------------

// Upserting takes the row's exclusive lock until the end of the transaction: concurrent
// publications for the same professional wait here.
constexpr std::string_view kUpsertProfessional = R"sql(
INSERT INTO snp_professionals (tenant_id, member_id, rpps, given_name, family_name,
                               profession_code, update_time)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON DUPLICATE KEY UPDATE rpps = VALUES(rpps), given_name = VALUES(given_name),
  family_name = VALUES(family_name), profession_code = VALUES(profession_code),
  update_time = VALUES(update_time))sql";
constexpr std::string_view kSelectProfessionalsPrefix = R"sql(
SELECT member_id, COALESCE(rpps, ''), given_name, family_name, profession_code
FROM snp_professionals WHERE tenant_id = ? AND member_id IN )sql";

// --- publish idempotency -----------------------------------------------------------------

constexpr std::string_view kSelectPublishKey = R"sql(
SELECT fingerprint, slot_ids FROM snp_publish_requests
WHERE tenant_id = ? AND subject = ? AND request_id = ? FOR UPDATE)sql";
constexpr std::string_view kInsertPublishKey = R"sql(
INSERT INTO snp_publish_requests (tenant_id, subject, request_id, fingerprint, slot_ids,
                                  create_time)
VALUES (?, ?, ?, ?, ?, ?))sql";

// --- bookings ----------------------------------------------------------------------------

#define CPTS_BOOKING_COLUMNS                                                                \
  "b.tenant_id, b.id, b.slot_id, b.patient_given_name_enc, b.patient_family_name_enc, "     \
  "b.patient_birth_date_enc, b.patient_sex_enc, b.contact_phone_enc, b.contact_email_enc, " \
  "b.reason_enc, b.origin, b.booked_by, b.booker_member_id, b.booker_profession_code, "     \
  "b.state, b.cancel_reason, COALESCE(b.request_id, ''), b.request_fingerprint, "           \
  "b.create_time, b.cancel_time, b.outcome_time, b.update_time, b.version, b.purge_time, "  \
  "COALESCE(b.cancel_reason_enc, '')"
constexpr std::string_view kSelectBooking =
    "SELECT " CPTS_BOOKING_COLUMNS " FROM snp_bookings b WHERE b.tenant_id = ? AND b.id = ?";
constexpr std::string_view kSelectBookingForUpdate =
    "SELECT " CPTS_BOOKING_COLUMNS
    " FROM snp_bookings b WHERE b.tenant_id = ? AND b.id = ? FOR UPDATE";
constexpr std::string_view kSelectBookingByRequest =
    "SELECT " CPTS_BOOKING_COLUMNS
    " FROM snp_bookings b WHERE b.tenant_id = ? AND b.booked_by = ? AND b.request_id = ?";
#undef CPTS_BOOKING_COLUMNS

constexpr std::string_view kInsertBooking = R"sql(
INSERT INTO snp_bookings (tenant_id, id, slot_id, active_slot_id, patient_given_name_enc,
                          patient_family_name_enc, patient_birth_date_enc, patient_sex_enc,
                          contact_phone_enc, contact_email_enc, reason_enc, origin, booked_by,
                          booker_member_id, booker_profession_code, state, cancel_reason,
                          request_id, request_fingerprint, create_time, cancel_time,
                          outcome_time, update_time, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, 1))sql";

// Retention reads across tenants: it runs rarely, in small batches.
constexpr std::string_view kSelectPurgeableBookings = R"sql(
SELECT b.tenant_id, b.id FROM snp_bookings b
JOIN snp_slots s ON s.tenant_id = b.tenant_id AND s.id = b.slot_id
WHERE b.purge_time IS NULL AND s.end_time < ?
ORDER BY s.end_time, b.tenant_id, b.id LIMIT ? FOR UPDATE)sql";

constexpr std::string_view kPurgeBooking = R"sql(
UPDATE snp_bookings
SET patient_given_name_enc = '', patient_family_name_enc = '', patient_birth_date_enc = '',
    patient_sex_enc = '', contact_phone_enc = '', contact_email_enc = '', reason_enc = '',
    cancel_reason = '', cancel_reason_enc = NULL, request_id = NULL, request_fingerprint = '',
    purge_time = ?,
    version = version + 1
WHERE tenant_id = ? AND id = ? AND purge_time IS NULL)sql";

constexpr std::string_view kUpdateBooking = R"sql(
UPDATE snp_bookings
SET active_slot_id = ?, state = ?, cancel_reason = '', cancel_reason_enc = ?, cancel_time = ?,
    outcome_time = ?,
    update_time = ?, version = version + 1
WHERE tenant_id = ? AND id = ? AND version = ?)sql";

// =========================================================================================
// Helpers
// =========================================================================================

constexpr absl::string_view kBookingResource = "booking";

constexpr std::array<ConsultationMode, 4> kAllModes = {
    ConsultationMode::kUnspecified, ConsultationMode::kOffice, ConsultationMode::kHome,
    ConsultationMode::kVideo};
constexpr std::array<Visibility, 5> kAllVisibilities = {Visibility::kUnspecified,
                                                        Visibility::kPublic, Visibility::kPro,
                                                        Visibility::kSnp, Visibility::kCpts};
constexpr std::array<SlotKind, 3> kAllKinds = {SlotKind::kUnspecified, SlotKind::kBookable,
                                               SlotKind::kWalkIn};
constexpr std::array<SlotStatus, 4> kAllSlotStatuses = {
    SlotStatus::kUnspecified, SlotStatus::kFree, SlotStatus::kBooked, SlotStatus::kWithdrawn};
constexpr std::array<BookingState, 5> kAllStates = {
    BookingState::kUnspecified, BookingState::kBooked, BookingState::kCancelled,
    BookingState::kFulfilled, BookingState::kNoShow};
constexpr std::array<BookingOrigin, 5> kAllOrigins = {
    BookingOrigin::kUnspecified, BookingOrigin::kProfessional, BookingOrigin::kCpts,
    BookingOrigin::kSas, BookingOrigin::kPartner};
constexpr std::array<Sex, 4> kAllSexes = {Sex::kUnspecified, Sex::kFemale, Sex::kMale, Sex::kOther};

absl::string_view SexName(Sex sex) {
  switch (sex) {
    case Sex::kUnspecified:
      return "UNSPECIFIED";
    case Sex::kFemale:
      return "FEMALE";
    case Sex::kMale:
      return "MALE";
    case Sex::kOther:
      return "OTHER";
  }
  return "UNKNOWN";
}

void AppendSql(std::string& sql, std::string_view fragment) { sql += fragment; }

void AppendPlaceholders(std::string& sql, size_t n) {
  sql += "(";
  for (size_t i = 0; i < n; ++i) sql += i == 0 ? "?" : ", ?";
  sql += ")";
}

absl::StatusOr<Slot> ReadSlot(const sql::ResultSet& rs) {
  RowReader r(rs);
  Slot s;
  s.tenant_id = r.Str();
  s.id = r.Str();
  s.professional_member_id = r.Str();
  s.profession_code = r.Str();
  s.start = r.Instant();
  s.duration = absl::Minutes(r.Int64());
  s.mode = r.Enum(kAllModes, ConsultationModeName);
  s.place.commune_insee = r.Str();
  s.place.address = r.Str();
  s.visibility = r.Enum(kAllVisibilities, VisibilityName);
  s.kind = r.Enum(kAllKinds, SlotKindName);
  s.status = r.Enum(kAllSlotStatuses, SlotStatusName);
  s.booking_id = r.Str();
  s.published_by = r.Str();
  s.withdraw_reason = r.Str();
  s.create_time = r.Instant();
  s.update_time = r.Instant();
  s.version = r.Int64();
  if (!r.status().ok()) return r.status();
  return s;
}

absl::StatusOr<Slot> SelectSlot(Connection& conn, absl::string_view tenant_id,
                                absl::string_view slot_id, bool for_update) {
  sql::PreparedStatement& ps = conn.Prepare(for_update ? kSelectSlotForUpdate : kSelectSlot);
  Binder(ps).Str(tenant_id).Str(slot_id);
  std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
  if (!rs->next()) return NotFound("slot", slot_id);
  return ReadSlot(*rs);
}

// Writes the mutable columns of `slot` back if its version is still `read_version`.
absl::Status WriteSlot(Connection& conn, Slot& slot, int64_t read_version) {
  sql::PreparedStatement& ps = conn.Prepare(kUpdateSlot);
  Binder(ps)
      .Str(SlotStatusName(slot.status))
      .Str(slot.booking_id)
      .Str(slot.withdraw_reason)
      .Instant(slot.update_time)
      .Str(slot.tenant_id)
      .Str(slot.id)
      .Int64(read_version);
  if (ps.executeUpdate() != 1) {
    return absl::AbortedError(absl::StrCat("slot ", slot.id, " changed concurrently; retry"));
  }
  slot.version = read_version + 1;
  return absl::OkStatus();
}

void InsertSlot(Connection& conn, const Slot& s) {
  sql::PreparedStatement& ps = conn.Prepare(kInsertSlot);
  Binder(ps)
      .Str(s.tenant_id)
      .Str(s.id)
      .Str(s.professional_member_id)
      .Str(s.tenant_id)
      .Str(s.professional_member_id)
      .Str(s.profession_code)
      .Instant(s.start)
      .Instant(s.end())
      .Int64(absl::ToInt64Minutes(s.duration))
      .Str(ConsultationModeName(s.mode))
      .Str(s.place.commune_insee)
      .Str(s.place.address)
      .Str(VisibilityName(s.visibility))
      .Str(SlotKindName(s.kind))
      .Str(SlotStatusName(s.status))
      .Str(s.booking_id)
      .Str(s.published_by)
      .Str(s.withdraw_reason)
      .Instant(s.create_time)
      .Instant(s.update_time);
  ps.executeUpdate();
}

// --- booking encryption ------------------------------------------------------------------

// The associated data binds a ciphertext to its tenant, booking and column.
std::string Aad(absl::string_view column, const Booking& b) {
  return absl::StrCat("access.booking.", column, ":", b.tenant_id, ":", b.id);
}

struct EncryptedBooking {
  std::string given_name, family_name, birth_date, sex, phone, email, reason;
};

absl::StatusOr<EncryptedBooking> Encrypt(const platform::crypto::FieldCipher& cipher,
                                         const Booking& b) {
  EncryptedBooking e;
  auto enc = [&](absl::string_view column, absl::string_view value,
                 std::string& out) -> absl::Status {
    const std::string aad = Aad(column, b);
    CPTS_ASSIGN_OR_RETURN(
        out, cipher.Encrypt(std::string_view(value.data(), value.size()), std::string_view(aad)));
    return absl::OkStatus();
  };
  CPTS_RETURN_IF_ERROR(enc("patient_given_name", b.patient.given_name, e.given_name));
  CPTS_RETURN_IF_ERROR(enc("patient_family_name", b.patient.family_name, e.family_name));
  CPTS_RETURN_IF_ERROR(
      enc("patient_birth_date", absl::FormatCivilTime(b.patient.birth_date), e.birth_date));
  CPTS_RETURN_IF_ERROR(enc("patient_sex", SexName(b.patient.sex), e.sex));
  CPTS_RETURN_IF_ERROR(enc("contact_phone", b.contact.phone, e.phone));
  CPTS_RETURN_IF_ERROR(enc("contact_email", b.contact.email, e.email));
  CPTS_RETURN_IF_ERROR(enc("reason", b.reason, e.reason));
  return e;
}

// A booking row with its request fingerprint.
struct BookingRow {
  Booking booking;
  std::string fingerprint;
};

absl::StatusOr<BookingRow> ReadBooking(const sql::ResultSet& rs,
                                       const platform::crypto::FieldCipher& cipher) {
  RowReader r(rs);
  BookingRow row;
  Booking& b = row.booking;
  b.tenant_id = r.Str();
  b.id = r.Str();
  b.slot_id = r.Str();
  std::array<std::string, 7> enc;
  for (std::string& e : enc) e = r.Str();
  b.origin = r.Enum(kAllOrigins, BookingOriginName);
  b.booked_by = r.Str();
  b.booker_member_id = r.Str();
  b.booker_profession_code = r.Str();
  b.state = r.Enum(kAllStates, BookingStateName);
  b.cancel_reason = r.Str();
  b.request_id = r.Str();
  row.fingerprint = r.Str();
  b.create_time = r.Instant();
  b.cancel_time = r.NullableInstant();
  b.outcome_time = r.NullableInstant();
  b.update_time = r.Instant();
  b.version = r.Int64();
  b.purge_time = r.NullableInstant();
  const std::string cancel_reason_enc = r.Str();
  if (!r.status().ok()) return r.status();
  // Retention erased the patient fields: nothing to decrypt.
  if (b.purge_time != absl::InfinitePast()) return row;
  // Rows cancelled before cancel_reason_enc existed keep their reason in clear.
  if (!cancel_reason_enc.empty()) {
    absl::StatusOr<std::string> reason = cipher.Decrypt(cancel_reason_enc, Aad("cancel_reason", b));
    if (!reason.ok()) {
      return absl::Status(
          reason.status().code(),
          absl::StrCat("booking ", b.id, " column cancel_reason: ", reason.status().message()));
    }
    b.cancel_reason = *std::move(reason);
  }

  constexpr std::array<absl::string_view, 7> kColumns = {"patient_given_name",
                                                         "patient_family_name",
                                                         "patient_birth_date",
                                                         "patient_sex",
                                                         "contact_phone",
                                                         "contact_email",
                                                         "reason"};
  std::array<std::string, 7> plain;
  for (size_t i = 0; i < enc.size(); ++i) {
    const std::string aad = Aad(kColumns[i], b);
    absl::StatusOr<std::string> p = cipher.Decrypt(enc[i], aad);
    if (!p.ok()) {
      return absl::Status(p.status().code(), absl::StrCat("booking ", b.id, " column ", kColumns[i],
                                                          ": ", p.status().message()));
    }
    plain[i] = *std::move(p);
  }
  b.patient.given_name = plain[0];
  b.patient.family_name = plain[1];
  if (!absl::ParseCivilTime(plain[2], &b.patient.birth_date)) {
    return absl::DataLossError(absl::StrCat("booking ", b.id, ": unreadable birth date"));
  }
  b.patient.sex = Sex::kUnspecified;
  for (Sex s : kAllSexes) {
    if (SexName(s) == plain[3]) b.patient.sex = s;
  }
  b.contact.phone = plain[4];
  b.contact.email = plain[5];
  b.reason = plain[6];
  return row;
}

absl::StatusOr<std::optional<BookingRow>> SelectBooking(
    Connection& conn, const platform::crypto::FieldCipher& cipher, std::string_view sql,
    absl::string_view tenant_id, absl::string_view a, absl::string_view b = {}) {
  sql::PreparedStatement& ps = conn.Prepare(sql);
  Binder binder(ps);
  binder.Str(tenant_id).Str(a);
  if (!b.empty()) binder.Str(b);
  std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
  if (!rs->next()) return std::optional<BookingRow>();
  CPTS_ASSIGN_OR_RETURN(BookingRow row, ReadBooking(*rs, cipher));
  return std::optional<BookingRow>(std::move(row));
}

bool HoldsSlot(BookingState state) {
  return state == BookingState::kBooked || state == BookingState::kFulfilled ||
         state == BookingState::kNoShow;
}

absl::Status Audit(Connection& conn, const SnpAudit& audit, absl::string_view action,
                   absl::string_view booking_id) {
  return AuditPatientAccess(conn, audit.caller,
                            {.action = action,
                             .resource_type = kBookingResource,
                             .resource_id = booking_id,
                             .reason = audit.reason},
                            audit.now);
}

}  // namespace

// =========================================================================================
// Slots
// =========================================================================================

absl::StatusOr<std::vector<Slot>> MysqlSnpStore::PublishSlots(
    absl::string_view tenant_id, const std::vector<SnpProfessional>& professionals,
    const std::vector<OverlapWindow>& windows, const PublishKey& key, absl::Time now,
    PrepareSlotsFn prepare) {
  std::vector<Slot> result;
  const absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    result.clear();
    try {
      // Lock the professionals in a fixed order (no deadlock between two batches).
      std::vector<SnpProfessional> sorted = professionals;
      std::sort(sorted.begin(), sorted.end(),
                [](const auto& a, const auto& b) { return a.member_id < b.member_id; });
      for (const SnpProfessional& p : sorted) {
        sql::PreparedStatement& ps = conn.Prepare(kUpsertProfessional);
        Binder(ps)
            .Str(tenant_id)
            .Str(p.member_id)
            .StrOrNull(p.rpps)
            .Str(p.given_name)
            .Str(p.family_name)
            .Str(p.profession_code)
            .Instant(SnpStoreTime(now));
        ps.executeUpdate();
      }
      // The key is checked once the professionals are locked: a concurrent retry of the same
      // request (same professionals) waits for the first one to commit and then finds its
      // key here, instead of finding its slots as overlaps.
      if (!key.request_id.empty()) {
        sql::PreparedStatement& ps = conn.Prepare(kSelectPublishKey);
        Binder(ps).Str(tenant_id).Str(key.subject).Str(key.request_id);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        if (rs->next()) {
          if (rs->getString(1).asStdString() != key.fingerprint) {
            return absl::AlreadyExistsError(
                "request_id: already used for another PublishSlots request");
          }
          const std::string ids = rs->getString(2).asStdString();
          for (absl::string_view id : absl::StrSplit(ids, ',', absl::SkipEmpty())) {
            CPTS_ASSIGN_OR_RETURN(Slot s, SelectSlot(conn, tenant_id, id, false));
            result.push_back(std::move(s));
          }
          return absl::OkStatus();
        }
      }
      std::vector<Slot> existing;
      for (const OverlapWindow& w : windows) {
        sql::PreparedStatement& ps = conn.Prepare(kSelectOverlapping);
        Binder(ps).Str(tenant_id).Str(w.professional_member_id).Instant(w.to).Instant(w.from);
        CPTS_ASSIGN_OR_RETURN(std::vector<Slot> rows, QueryRows<Slot>(ps, ReadSlot));
        for (Slot& s : rows) existing.push_back(std::move(s));
      }
      CPTS_ASSIGN_OR_RETURN(result, prepare(existing));
      std::vector<std::string> ids;
      for (const Slot& s : result) {
        InsertSlot(conn, s);
        ids.push_back(s.id);
      }
      if (!key.request_id.empty()) {
        sql::PreparedStatement& ps = conn.Prepare(kInsertPublishKey);
        Binder(ps)
            .Str(tenant_id)
            .Str(key.subject)
            .Str(key.request_id)
            .Str(key.fingerprint)
            .Str(absl::StrJoin(ids, ","))
            .Instant(SnpStoreTime(now));
        ps.executeUpdate();
      }
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "PublishSlots");
    }
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<Slot> MysqlSnpStore::GetSlot(absl::string_view tenant_id,
                                            absl::string_view slot_id) {
  CPTS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  try {
    return SelectSlot(*lease, tenant_id, slot_id, false);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "GetSlot");
  }
}

absl::StatusOr<Slot> MysqlSnpStore::UpdateSlot(absl::string_view tenant_id,
                                               absl::string_view slot_id,
                                               absl::FunctionRef<absl::Status(Slot&)> mutate) {
  Slot result;
  const absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      CPTS_ASSIGN_OR_RETURN(Slot slot, SelectSlot(conn, tenant_id, slot_id, true));
      const int64_t read_version = slot.version;
      CPTS_RETURN_IF_ERROR(mutate(slot));
      CPTS_RETURN_IF_ERROR(WriteSlot(conn, slot, read_version));
      result = std::move(slot);
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "UpdateSlot");
    }
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::vector<Slot>> MysqlSnpStore::SearchSlots(const SlotSearchPlan& plan) {
  std::string sql(kSearchBase);
  AppendSql(sql, kSearchVisibilities);
  AppendPlaceholders(sql, plan.visibilities.size());
  if (!plan.communes.empty()) {
    AppendSql(sql, kSearchCommunes);
    AppendPlaceholders(sql, plan.communes.size());
  }
  if (!plan.profession_codes.empty()) {
    AppendSql(sql, kSearchProfessions);
    AppendPlaceholders(sql, plan.profession_codes.size());
  }
  if (!plan.modes.empty()) {
    AppendSql(sql, kSearchModes);
    AppendPlaceholders(sql, plan.modes.size());
  }
  if (!plan.professional_member_ids.empty()) {
    AppendSql(sql, kSearchProfessionals);
    AppendPlaceholders(sql, plan.professional_member_ids.size());
  }
  if (plan.kind != SlotKind::kUnspecified) AppendSql(sql, kSearchKind);
  if (plan.after.has_value()) AppendSql(sql, kSearchAfter);
  AppendSql(sql, kSearchOrder);

  CPTS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  try {
    sql::PreparedStatement& ps = lease->Prepare(sql);
    Binder b(ps);
    b.Str(plan.tenant_id).Instant(plan.start_from).Instant(plan.start_before);
    for (Visibility v : plan.visibilities) b.Str(VisibilityName(v));
    for (const auto& c : plan.communes) b.Str(c);
    for (const auto& p : plan.profession_codes) b.Str(p);
    for (ConsultationMode m : plan.modes) b.Str(ConsultationModeName(m));
    for (const auto& m : plan.professional_member_ids) b.Str(m);
    if (plan.kind != SlotKind::kUnspecified) b.Str(SlotKindName(plan.kind));
    if (plan.after.has_value()) {
      b.Instant(plan.after->start).Instant(plan.after->start).Str(plan.after->id);
    }
    b.Int64(plan.page_size + 1);
    return QueryRows<Slot>(ps, ReadSlot);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "SearchSlots");
  }
}

// =========================================================================================
// Bookings
// =========================================================================================

absl::StatusOr<BookingAndSlot> MysqlSnpStore::BookSlot(
    absl::string_view tenant_id, absl::string_view slot_id, const BookKey& key,
    const SnpAudit& audit, absl::FunctionRef<absl::StatusOr<Booking>(Slot&)> book) {
  BookingAndSlot result;
  const absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    result = BookingAndSlot{};
    try {
      if (!key.request_id.empty()) {
        CPTS_ASSIGN_OR_RETURN(std::optional<BookingRow> previous,
                              SelectBooking(conn, cipher_, kSelectBookingByRequest, tenant_id,
                                            key.booked_by, key.request_id));
        if (previous.has_value()) {
          if (previous->fingerprint != key.fingerprint || previous->booking.slot_id != slot_id) {
            return absl::AlreadyExistsError(
                "request_id: already used for another BookSlot request");
          }
          CPTS_ASSIGN_OR_RETURN(result.slot,
                                SelectSlot(conn, tenant_id, previous->booking.slot_id, false));
          result.booking = std::move(previous->booking);
          result.replayed = true;
          return Audit(conn, audit, audit_actions::kBookingRead, result.booking.id);
        }
      }
      CPTS_ASSIGN_OR_RETURN(Slot slot, SelectSlot(conn, tenant_id, slot_id, false));
      const int64_t read_version = slot.version;
      CPTS_ASSIGN_OR_RETURN(Booking booking, book(slot));
      booking.request_id = key.request_id;
      {
        sql::PreparedStatement& ps = conn.Prepare(kBookSlotRow);
        Binder(ps)
            .Str(booking.id)
            .Instant(slot.update_time)
            .Str(tenant_id)
            .Str(slot_id)
            .Int64(read_version);
        if (ps.executeUpdate() != 1) {
          return absl::FailedPreconditionError(
              absl::StrCat("slot ", slot_id, " is no longer free"));
        }
        slot.version = read_version + 1;
      }
      CPTS_ASSIGN_OR_RETURN(EncryptedBooking enc, Encrypt(cipher_, booking));
      sql::PreparedStatement& ps = conn.Prepare(kInsertBooking);
      Binder(ps)
          .Str(tenant_id)
          .Str(booking.id)
          .Str(booking.slot_id)
          .Str(booking.slot_id)
          .Str(enc.given_name)
          .Str(enc.family_name)
          .Str(enc.birth_date)
          .Str(enc.sex)
          .Str(enc.phone)
          .Str(enc.email)
          .Str(enc.reason)
          .Str(BookingOriginName(booking.origin))
          .Str(booking.booked_by)
          .Str(booking.booker_member_id)
          .Str(booking.booker_profession_code)
          .Str(BookingStateName(booking.state))
          .Str(booking.cancel_reason)
          .StrOrNull(key.request_id)
          .Str(key.fingerprint)
          .Instant(booking.create_time)
          .Instant(booking.update_time);
      ps.executeUpdate();
      CPTS_RETURN_IF_ERROR(Audit(conn, audit, audit_actions::kBookingCreate, booking.id));
      result.booking = std::move(booking);
      result.slot = std::move(slot);
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "BookSlot");
    }
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<BookingAndSlot> MysqlSnpStore::GetBooking(
    absl::string_view tenant_id, absl::string_view booking_id, const SnpAudit& audit,
    absl::FunctionRef<absl::Status(const Booking&, const Slot&)> authorize) {
  BookingAndSlot result;
  const absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      CPTS_ASSIGN_OR_RETURN(std::optional<BookingRow> row,
                            SelectBooking(conn, cipher_, kSelectBooking, tenant_id, booking_id));
      if (!row.has_value()) return NotFound("booking", booking_id);
      CPTS_ASSIGN_OR_RETURN(Slot slot, SelectSlot(conn, tenant_id, row->booking.slot_id, false));
      CPTS_RETURN_IF_ERROR(authorize(row->booking, slot));
      CPTS_RETURN_IF_ERROR(Audit(conn, audit, audit_actions::kBookingRead, booking_id));
      result.booking = std::move(row->booking);
      result.slot = std::move(slot);
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "GetBooking");
    }
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<BookingAndSlot> MysqlSnpStore::UpdateBooking(
    absl::string_view tenant_id, absl::string_view booking_id, const SnpAudit& audit,
    absl::FunctionRef<absl::Status(Booking&, Slot&)> mutate) {
  BookingAndSlot result;
  const absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      CPTS_ASSIGN_OR_RETURN(
          std::optional<BookingRow> row,
          SelectBooking(conn, cipher_, kSelectBookingForUpdate, tenant_id, booking_id));
      if (!row.has_value()) return NotFound("booking", booking_id);
      Booking booking = std::move(row->booking);
      CPTS_ASSIGN_OR_RETURN(Slot slot, SelectSlot(conn, tenant_id, booking.slot_id, true));
      const int64_t booking_version = booking.version;
      const int64_t slot_version = slot.version;
      const Slot before = slot;
      CPTS_RETURN_IF_ERROR(mutate(booking, slot));
      std::string cancel_reason_enc;
      if (!booking.cancel_reason.empty()) {
        CPTS_ASSIGN_OR_RETURN(cancel_reason_enc, cipher_.Encrypt(booking.cancel_reason,
                                                                 Aad("cancel_reason", booking)));
      }
      sql::PreparedStatement& ps = conn.Prepare(kUpdateBooking);
      Binder(ps)
          .StrOrNull(HoldsSlot(booking.state) ? absl::string_view(booking.slot_id) : "")
          .Str(BookingStateName(booking.state))
          .StrOrNull(cancel_reason_enc)
          .Instant(booking.cancel_time)
          .Instant(booking.outcome_time)
          .Instant(booking.update_time)
          .Str(tenant_id)
          .Str(booking_id)
          .Int64(booking_version);
      if (ps.executeUpdate() != 1) {
        return absl::AbortedError(absl::StrCat("booking ", booking_id, " changed concurrently"));
      }
      booking.version = booking_version + 1;
      if (slot.status != before.status || slot.booking_id != before.booking_id) {
        CPTS_RETURN_IF_ERROR(WriteSlot(conn, slot, slot_version));
      }
      CPTS_RETURN_IF_ERROR(Audit(conn, audit, audit_actions::kBookingUpdate, booking_id));
      result.booking = std::move(booking);
      result.slot = std::move(slot);
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "UpdateBooking");
    }
  });
  if (!status.ok()) return status;
  return result;
}

// =========================================================================================
// Indicators and FHIR
// =========================================================================================

absl::StatusOr<SnpIndicatorInput> MysqlSnpStore::IndicatorFacts(absl::string_view tenant_id,
                                                                const TimeRange& period) {
  CPTS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  try {
    SnpIndicatorInput in;
    {
      sql::PreparedStatement& ps = lease->Prepare(kIndicatorSlots);
      Binder(ps).Str(tenant_id).Instant(period.start).Instant(period.end);
      std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
      while (rs->next()) {
        RowReader r(*rs);
        SnpSlotFacts f;
        f.id = r.Str();
        f.start = r.Instant();
        f.kind = r.Enum(kAllKinds, SlotKindName);
        f.status = r.Enum(kAllSlotStatuses, SlotStatusName);
        if (!r.status().ok()) return r.status();
        in.slots.push_back(std::move(f));
      }
    }
    sql::PreparedStatement& ps = lease->Prepare(kIndicatorBookings);
    Binder(ps).Str(tenant_id).Instant(period.start).Instant(period.end);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    while (rs->next()) {
      RowReader r(*rs);
      SnpBookingFacts f;
      f.slot_id = r.Str();
      f.state = r.Enum(kAllStates, BookingStateName);
      f.origin = r.Enum(kAllOrigins, BookingOriginName);
      f.booker_profession_code = r.Str();
      if (!r.status().ok()) return r.status();
      in.bookings.push_back(std::move(f));
    }
    return in;
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "IndicatorFacts");
  }
}

absl::StatusOr<SnpFhirResult> MysqlSnpStore::FhirSearch(absl::string_view tenant_id,
                                                        const std::vector<std::string>& rpps,
                                                        absl::Time from, absl::Time to, int limit) {
  SnpFhirResult out;
  if (rpps.empty()) return out;
  std::string slots_sql(kFhirSlotsBase);
  AppendPlaceholders(slots_sql, rpps.size());
  AppendSql(slots_sql, kFhirOrder);
  std::string count_sql(kFhirCountBase);
  AppendPlaceholders(count_sql, rpps.size());

  CPTS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  try {
    {
      sql::PreparedStatement& ps = lease->Prepare(count_sql);
      Binder b(ps);
      b.Str(tenant_id).Instant(from).Instant(to);
      for (const auto& r : rpps) b.Str(r);
      std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
      if (rs->next()) out.total = rs->getInt64(1);
    }
    if (limit > 0 && out.total > 0) {
      sql::PreparedStatement& ps = lease->Prepare(slots_sql);
      Binder b(ps);
      b.Str(tenant_id).Instant(from).Instant(to);
      for (const auto& r : rpps) b.Str(r);
      b.Int64(limit);
      CPTS_ASSIGN_OR_RETURN(out.slots, QueryRows<Slot>(ps, ReadSlot));
    }
    std::set<std::string> members;
    for (const Slot& s : out.slots) members.insert(s.professional_member_id);
    if (!members.empty()) {
      std::string sql(kSelectProfessionalsPrefix);
      AppendPlaceholders(sql, members.size());
      sql::PreparedStatement& ps = lease->Prepare(sql);
      Binder b(ps);
      b.Str(tenant_id);
      for (const auto& m : members) b.Str(m);
      std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
      while (rs->next()) {
        RowReader r(*rs);
        SnpProfessional p;
        p.member_id = r.Str();
        p.rpps = r.Str();
        p.given_name = r.Str();
        p.family_name = r.Str();
        p.profession_code = r.Str();
        out.professionals[p.member_id] = p;
      }
    }
    return out;
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "FhirSearch");
  }
}

absl::StatusOr<int> MysqlSnpStore::PurgePastBookings(absl::Time cutoff, absl::Time now, int limit) {
  int purged = 0;
  const absl::Status status = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      purged = 0;
      std::vector<std::pair<std::string, std::string>> rows;
      {
        sql::PreparedStatement& ps = conn.Prepare(kSelectPurgeableBookings);
        Binder(ps).Instant(cutoff).Int64(limit);
        std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
        while (rs->next()) {
          RowReader r(*rs);
          std::string tenant = r.Str();
          std::string id = r.Str();
          if (!r.status().ok()) return r.status();
          rows.emplace_back(std::move(tenant), std::move(id));
        }
      }
      for (const auto& [tenant, id] : rows) {
        sql::PreparedStatement& ps = conn.Prepare(kPurgeBooking);
        Binder(ps).Instant(SnpStoreTime(now)).Str(tenant).Str(id);
        if (ps.executeUpdate() != 1) continue;
        platform::auth::Principal retention;
        retention.tenant_id = tenant;
        retention.subject = "service:access-retention";
        retention.roles = {"service"};
        CPTS_RETURN_IF_ERROR(AuditPatientAccess(conn, retention,
                                                {.action = audit_actions::kBookingPurge,
                                                 .resource_type = kBookingResource,
                                                 .resource_id = id,
                                                 .reason = "retention period elapsed"},
                                                now));
        ++purged;
      }
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "PurgePastBookings");
    }
  });
  if (!status.ok()) return status;
  return purged;
}

}  // namespace cpts::access
