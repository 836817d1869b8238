#pragma once

// The repository of the SNP shared agenda: slots, bookings, the professionals' publication
// locks, the PublishSlots idempotency keys. One MySQL implementation (mysql_snp_store.h);
// tested against a real MariaDB only.
//
// Every method is scoped to one tenant: a row of another tenant is NotFound. Domain rules
// are not the store's: the methods that change state take the domain step as a callback run
// inside the transaction, on rows read in it, and write what the callback left, all or
// nothing. Errors, besides those of the callbacks (returned unchanged, nothing written):
// NotFound (no such row in the tenant), Aborted (lost race, retry: the row changed between
// the read and the conditional write), Unavailable (database down, retry), Internal.
//
// Health data: booking patient fields are encrypted by the store (FieldCipher) and never
// stored in clear. Every method reading or writing them appends the patient-access audit row
// (patient_audit.h) in its own transaction, so that nothing is returned or written that was
// not recorded; denied attempts are the caller's to record (AuditPatientDenied).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/access/mt_indicators.h"
#include "services/access/snp_indicators.h"
#include "services/access/snp_model.h"
#include "services/access/snp_search.h"
#include "services/access/snp_slots.h"
#include "services/platform/auth/principal.h"

namespace cpts::access {

// A professional slots are published for, as membership describes them (no patient data).
struct SnpProfessional {
  std::string member_id{};
  std::string rpps{};  // 11 digits, or empty when unknown (the slot is then not in FHIR)
  std::string given_name{};
  std::string family_name{};
  std::string profession_code{};
};

// The PublishSlots idempotency key: (tenant, subject, request_id); `fingerprint` identifies
// the request's content. Empty request_id: no idempotency.
struct PublishKey {
  std::string subject{};
  std::string request_id{};
  std::string fingerprint{};
};

// The BookSlot idempotency key: (tenant, booked_by, request_id); `fingerprint` identifies the
// normalised booking (a keyed hash: it covers patient data). Empty request_id: none.
struct BookKey {
  std::string booked_by{};
  std::string request_id{};
  std::string fingerprint{};
};

// Who reads or writes patient data, for the audit row written in the same transaction.
struct SnpAudit {
  const platform::auth::Principal& caller;
  absl::Time now = absl::InfinitePast();
  absl::string_view reason = {};  // a workflow step; never patient data
};

struct BookingAndSlot {
  Booking booking;
  Slot slot;
  bool replayed = false;  // BookSlot: the answer of an earlier call with the same request_id
};

// What the SAS FHIR search needs: the free slots (at most `limit`, in (start, id) order),
// how many match in all, and the professionals of those slots by member id.
struct SnpFhirResult {
  std::vector<Slot> slots;
  int64_t total = 0;
  std::map<std::string, SnpProfessional> professionals;
};

struct SnpIndicatorInput {
  std::vector<SnpSlotFacts> slots;
  std::vector<SnpBookingFacts> bookings;
};

class SnpStore {
 public:
  virtual ~SnpStore() = default;

  // PublishSlots, all or nothing. In one transaction: the rows of `professionals` are upserted
  // and locked (serialising publications per professional); then, with a request_id, a known
  // key with the same fingerprint returns the slots published then (current state) without
  // calling `prepare` (checked after the locks, so that concurrent retries of one request
  // replay it rather than overlap it), a known key with another fingerprint is AlreadyExists;
  // otherwise the non-withdrawn slots of each professional overlapping `windows` are read,
  // `prepare(existing)` builds the slots (snp_slots.h PreparePublish) and they are inserted
  // with the key.
  using PrepareSlotsFn =
      absl::FunctionRef<absl::StatusOr<std::vector<Slot>>(const std::vector<Slot>& existing)>;
  virtual absl::StatusOr<std::vector<Slot>> PublishSlots(
      absl::string_view tenant_id, const std::vector<SnpProfessional>& professionals,
      const std::vector<OverlapWindow>& windows, const PublishKey& key, absl::Time now,
      PrepareSlotsFn prepare) = 0;

  // NotFound when the tenant has no such slot.
  virtual absl::StatusOr<Slot> GetSlot(absl::string_view tenant_id, absl::string_view slot_id) = 0;

  // Reads the slot, lets `mutate` change it (e.g. ApplyWithdraw) and writes it back if its
  // version did not change meanwhile (Aborted otherwise); the version is bumped.
  virtual absl::StatusOr<Slot> UpdateSlot(absl::string_view tenant_id, absl::string_view slot_id,
                                          absl::FunctionRef<absl::Status(Slot&)> mutate) = 0;

  // The rows of `plan` (snp_search.h SlotMatches), in (start, id) order, at most
  // plan.page_size + 1 of them (FinishSlotSearch makes the page).
  virtual absl::StatusOr<std::vector<Slot>> SearchSlots(const SlotSearchPlan& plan) = 0;

  // BookSlot. In one transaction: with a request_id, a booking of the same key is returned
  // (replayed = true, audited as a read) when the fingerprint matches, AlreadyExists when it
  // does not; otherwise the slot is read, `book(slot)` (snp_booking.h BookSlot) books it, and
  // the slot is updated with `WHERE status='FREE' AND version=?`: when no row changes (another
  // booking won the race) FailedPrecondition "slot is no longer free" and nothing is written.
  // The booking is inserted (patient fields encrypted; the unique active-slot key is the
  // second guard) and audited (access.booking.create).
  virtual absl::StatusOr<BookingAndSlot> BookSlot(
      absl::string_view tenant_id, absl::string_view slot_id, const BookKey& key,
      const SnpAudit& audit, absl::FunctionRef<absl::StatusOr<Booking>(Slot&)> book) = 0;

  // Reads a booking and its slot, asks `authorize` (e.g. CheckBookingAccess), and audits the
  // read (access.booking.read) before returning it. NotFound when the tenant has no such
  // booking; `authorize`'s error unchanged (nothing audited: record the denial).
  virtual absl::StatusOr<BookingAndSlot> GetBooking(
      absl::string_view tenant_id, absl::string_view booking_id, const SnpAudit& audit,
      absl::FunctionRef<absl::Status(const Booking&, const Slot&)> authorize) = 0;

  // Locks a booking and its slot, lets `mutate` change both (CancelBooking, RecordOutcome),
  // writes both back (versions bumped; a cancelled booking releases its slot) and audits the
  // write (access.booking.update).
  virtual absl::StatusOr<BookingAndSlot> UpdateBooking(
      absl::string_view tenant_id, absl::string_view booking_id, const SnpAudit& audit,
      absl::FunctionRef<absl::Status(Booking&, Slot&)> mutate) = 0;

  // The facts of the slots starting in `period` and of their bookings (no patient data).
  virtual absl::StatusOr<SnpIndicatorInput> IndicatorFacts(absl::string_view tenant_id,
                                                           const TimeRange& period) = 0;

  // The SAS search: FREE slots of the professionals with these RPPS numbers starting in
  // [from, to] (both inclusive), at most `limit` of them, with the total count.
  virtual absl::StatusOr<SnpFhirResult> FhirSearch(absl::string_view tenant_id,
                                                   const std::vector<std::string>& rpps,
                                                   absl::Time from, absl::Time to, int limit) = 0;

  // Retention: erases the patient fields, reason, cancel reason and idempotency key of at
  // most `limit` bookings, of every tenant, whose slot ended before `cutoff` and that are not
  // purged yet (any state); keeps the non-personal facts (slot, origin, booker's profession,
  // state, times) for the indicators. Audits each purge (access.booking.purge, actor
  // "service:access-retention") in the same transaction. Returns how many were purged; call
  // again while it returns `limit`.
  virtual absl::StatusOr<int> PurgePastBookings(absl::Time cutoff, absl::Time now, int limit) = 0;
};

}  // namespace cpts::access
