#pragma once

// Booking SNP slots: who may book, what a booking needs, and the booking state machine. Pure
// functions, no I/O, no clock ("now" and "today" are parameters).
//
//   (free, bookable, not started slot) --BOOK--> BOOKED          slot FREE -> BOOKED
//   BOOKED --CANCEL (before the slot starts)--> CANCELLED        slot BOOKED -> FREE
//   BOOKED --RECORD_FULFILLED (once it started)--> FULFILLED     slot stays BOOKED
//   BOOKED --RECORD_NO_SHOW (once it started)--> NO_SHOW         slot stays BOOKED
//   CANCELLED, FULFILLED, NO_SHOW are final. Any other step: FailedPrecondition naming the
//   state and the step.
//
// "A slot is never booked twice": BookSlot refuses a slot that is not FREE, so two bookings
// applied one after the other to the same slot give one success and one FailedPrecondition.
// That is the domain rule only. Under concurrency both requests may read the slot FREE; the
// store is what makes the rule hold: a conditional update (UPDATE slot SET status='BOOKED',
// booking_id=?, version=version+1 WHERE tenant_id=? AND id=? AND status='FREE' AND
// version=?) that must change exactly one row, plus a unique key on the active booking of a
// slot, in the transaction that inserts the booking. The loser of the race sees zero rows
// changed and returns FailedPrecondition with nothing written.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/access/snp_model.h"
#include "services/platform/auth/principal.h"
#include "services/platform/core/ids.h"

namespace cpts::access {

enum class BookingAction { kCancel, kRecordFulfilled, kRecordNoShow };

absl::string_view BookingActionName(BookingAction action);

// The state `action` leads to from `from`, or kUnspecified when the table refuses it.
BookingState BookingTargetState(BookingState from, BookingAction action);

// OK, or FailedPrecondition "booking is CANCELLED; CANCEL is allowed only from BOOKED".
absl::Status CheckBookingAction(BookingState from, BookingAction action);

// ---------------------------------------------------------------------------------------
// Who
// ---------------------------------------------------------------------------------------

// Who may book: member (a professional of the tenant, with a member id: pharmacist, nurse,
// GP, ...), secretary, sas_regulator, coordinator. PermissionDenied otherwise.
absl::Status CheckCanBook(const platform::auth::Principal& caller);

// Where a booking comes from, by the caller's roles, first match: sas_regulator -> SAS;
// coordinator or secretary -> CPTS; member -> PROFESSIONAL; service -> PARTNER; else
// kUnspecified.
BookingOrigin BookingOriginFor(const platform::auth::Principal& caller);

// The booker of a booking by `caller`; `profession_code` comes from membership (empty for a
// caller who is not a member).
Booker BookerFor(const platform::auth::Principal& caller, absl::string_view profession_code);

// Who may read a booking (its patient fields included), cancel it, or record its outcome:
//   read, cancel: its booker (same subject), the slot's professional (member with that member
//                 id), coordinator, secretary;
//   outcome:      the slot's professional, coordinator, secretary.
// NotFound when the booking belongs to another tenant (its existence is not revealed);
// PermissionDenied otherwise. Every call, allowed or not, is for the service to audit.
enum class BookingAccess { kRead, kCancel, kRecordOutcome };
absl::Status CheckBookingAccess(const platform::auth::Principal& caller, const Booking& booking,
                                const Slot& slot, BookingAccess access);

// ---------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------

// The patient part of BookSlot, as converted from the proto.
struct BookingDraft {
  std::string slot_id;
  PatientIdentity patient;
  PatientContact contact;
  std::string reason;
  std::string request_id;
};

// Validates and normalises a BookSlot request in place, fields named as in the request:
//   slot_id                                  an id
//   patient.given_name, patient.family_name  trimmed, white space collapsed, 1 to 100
//                                            characters, no control characters
//   patient.birth_date                       not after `today`, at most 120 years before
//   contact.phone                            optional; normalised to E.164
//   contact.email                            optional; domain in lower case
//   reason                                   required, one line, at most 500 characters
//   request_id                               optional; 1 to 128 printable ASCII characters
absl::Status NormalizeBookingDraft(BookingDraft& draft, absl::CivilDay today);

// Books `slot` (read by the store in the booking transaction) for `draft` (normalised). On
// success the slot is BOOKED with the new booking's id and the booking is returned (new id,
// state BOOKED, the booker, create/update time `now` truncated to microseconds, version 1).
// Errors, in this order; on error nothing changes:
//   NotFound            the slot is of another tenant, or not visible to the caller's role
//   PermissionDenied    CheckCanBook
//   FailedPrecondition  the slot is WITHDRAWN; already BOOKED ("slot is already booked");
//                       a walk-in slot; started (start <= now)
absl::StatusOr<Booking> BookSlot(const platform::auth::Principal& caller, const Booker& booker,
                                 const BookingDraft& draft, Slot& slot, absl::Time now,
                                 platform::IdGenerator& ids);

// Cancels `booking` and frees its slot, before the slot starts. `reason` required, one line,
// at most 500 characters. Errors: CheckBookingAccess(kCancel); InvalidArgument "reason: ...";
// FailedPrecondition when the booking is not BOOKED or the slot has started ("record an
// outcome instead"); Internal when the slot is not the booking's. On error nothing changes.
absl::Status CancelBooking(const platform::auth::Principal& caller, absl::string_view reason,
                           absl::Time now, Booking& booking, Slot& slot);

// Records what happened at a booked slot once it has started: FULFILLED or NO_SHOW. Errors:
// CheckBookingAccess(kRecordOutcome); InvalidArgument "outcome: required"; FailedPrecondition
// when the booking is not BOOKED or the slot has not started; Internal when the slot is not
// the booking's. On error nothing changes.
absl::Status RecordOutcome(const platform::auth::Principal& caller, BookingOutcome outcome,
                           absl::Time now, Booking& booking, const Slot& slot);

}  // namespace cpts::access
