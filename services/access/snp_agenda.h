#pragma once

// The SNP shared agenda, as the gRPC handlers and the SAS FHIR endpoint see it: each method
// checks the caller with the domain rules (snp_slots.h, snp_search.h, snp_booking.h), asks
// membership what it must know (MemberDirectory), and runs the change through the store
// (snp_store.h) in one transaction. Thread-safe if the store and the directory are.
//
// Patient data (booking patient fields) is encrypted by the store and audited on every read
// and write, in the transaction that reads or writes it; denied attempts (PermissionDenied)
// are audited too (AuditPatientDenied), and a failed audit fails the call.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/access/access_deps.h"
#include "services/access/fhir_slots.h"
#include "services/access/snp_booking.h"
#include "services/access/snp_indicators.h"
#include "services/access/snp_search.h"
#include "services/access/snp_slots.h"
#include "services/access/snp_store.h"
#include "services/access/territory_communes.h"
#include "services/platform/auth/principal.h"

namespace cpts::access {

struct SnpAgendaOptions {
  PublishPolicy publish{};
  // Where the FHIR answer finds the postal data of the slots' communes (the tenant's
  // territory, kept by the MT half); must outlive the agenda. None: Locations without city
  // and postal code.
  CommuneDirectory* communes = nullptr;
};

class SnpAgenda {
 public:
  // `store` and what `deps` refers to must outlive the agenda (`deps` itself is copied).
  SnpAgenda(SnpStore& store, const AccessDeps& deps, SnpAgendaOptions options = {});

  // PublishSlots: drafts as converted from the request (output-only fields ignored).
  // InvalidArgument naming the field; PermissionDenied; FailedPrecondition for a professional
  // who is not an active member or an overlap with an existing slot; AlreadyExists for a
  // request_id reused with other slots.
  absl::StatusOr<std::vector<Slot>> PublishSlots(const platform::auth::Principal& caller,
                                                 std::vector<Slot> drafts,
                                                 absl::string_view request_id);

  // A slot the caller may see (its visibility, or the caller is its professional); NotFound
  // otherwise.
  absl::StatusOr<Slot> GetSlot(const platform::auth::Principal& caller, absl::string_view slot_id);

  absl::StatusOr<Slot> WithdrawSlot(const platform::auth::Principal& caller,
                                    absl::string_view slot_id, absl::string_view reason);

  absl::StatusOr<SlotSearchPage> SearchSlots(const platform::auth::Principal& caller,
                                             const SlotSearchQuery& query);

  // Books; idempotent with draft.request_id (same request, same answer). A slot is never
  // booked twice: the loser of a race gets FailedPrecondition and nothing is written.
  absl::StatusOr<BookingAndSlot> BookSlot(const platform::auth::Principal& caller,
                                          BookingDraft draft);

  absl::StatusOr<Booking> GetBooking(const platform::auth::Principal& caller,
                                     absl::string_view booking_id);

  absl::StatusOr<BookingAndSlot> CancelBooking(const platform::auth::Principal& caller,
                                               absl::string_view booking_id,
                                               absl::string_view reason);

  absl::StatusOr<Booking> RecordOutcome(const platform::auth::Principal& caller,
                                        absl::string_view booking_id, BookingOutcome outcome);

  // The indicators of the slots starting in the local days [first, last]. coordinator,
  // bureau_member or reporting.
  absl::StatusOr<SnpIndicators> GetIndicators(const platform::auth::Principal& caller,
                                              absl::CivilDay first, absl::CivilDay last);

  // The SAS search (fhir_slots.h): the searchset Bundle of the caller's tenant, the
  // Locations' city and postal code from options.communes. Roles sas_regulator or service;
  // PermissionDenied otherwise.
  absl::StatusOr<std::string> FhirSlotSearch(const platform::auth::Principal& caller,
                                             const FhirSlotQuery& query,
                                             absl::string_view base_url);

  // Retention: erases the patient data of the bookings whose slot ended more than
  // deps.retention ago (SnpStore::PurgePastBookings), batch after batch; returns how many.
  // Unavailable when the database is down (the next round retries).
  absl::StatusOr<int> PurgeExpired();

  absl::TimeZone zone() const { return deps_.zone; }
  absl::Time Now() const { return deps_.clock.Now(); }

 private:
  absl::Status Denied(const platform::auth::Principal& caller, absl::string_view action,
                      absl::string_view resource_id, absl::Time now, const absl::Status& status);

  SnpStore& store_;
  AccessDeps deps_;  // a copy: its members are references to what outlives the agenda
  SnpAgendaOptions options_;
};

}  // namespace cpts::access
