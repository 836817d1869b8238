#include "services/access/snp_booking.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/access/mt_validators.h"
#include "services/access/snp_search.h"
#include "services/access/snp_slots.h"
#include "services/membership/validators.h"
#include "services/platform/core/status_macros.h"

namespace cpts::access {
namespace {

namespace roles = platform::auth::roles;
using Principal = platform::auth::Principal;

struct Rule {
  BookingAction action;
  BookingState from;
  BookingState to;
};

// The table: every step leaves BOOKED, none leaves a final state.
constexpr std::array<Rule, 3> kRules = {{
    {BookingAction::kCancel, BookingState::kBooked, BookingState::kCancelled},
    {BookingAction::kRecordFulfilled, BookingState::kBooked, BookingState::kFulfilled},
    {BookingAction::kRecordNoShow, BookingState::kBooked, BookingState::kNoShow},
}};

absl::Status NotFound(absl::string_view what, absl::string_view id) {
  return absl::NotFoundError(absl::StrCat(what, " ", id, " not found"));
}

bool IsSlotProfessional(const Principal& caller, const Slot& slot) {
  return caller.HasRole(roles::kMember) && !caller.member_id.empty() &&
         caller.member_id == slot.professional_member_id;
}

std::string IsoTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::Status CheckSlotOfBooking(const Booking& booking, const Slot& slot) {
  if (slot.id != booking.slot_id || slot.tenant_id != booking.tenant_id) {
    return absl::InternalError(
        absl::StrCat("slot ", slot.id, " is not the slot of booking ", booking.id));
  }
  return absl::OkStatus();
}

}  // namespace

// --- the table -------------------------------------------------------------------------

absl::string_view BookingActionName(BookingAction action) {
  switch (action) {
    case BookingAction::kCancel:
      return "CANCEL";
    case BookingAction::kRecordFulfilled:
      return "RECORD_FULFILLED";
    case BookingAction::kRecordNoShow:
      return "RECORD_NO_SHOW";
  }
  return "UNKNOWN";
}

BookingState BookingTargetState(BookingState from, BookingAction action) {
  for (const Rule& rule : kRules) {
    if (rule.action == action && rule.from == from) return rule.to;
  }
  return BookingState::kUnspecified;
}

absl::Status CheckBookingAction(BookingState from, BookingAction action) {
  if (BookingTargetState(from, action) != BookingState::kUnspecified) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("booking is ", BookingStateName(from), "; ",
                                                    BookingActionName(action),
                                                    " is allowed only from BOOKED"));
}

// --- who -------------------------------------------------------------------------------

absl::Status CheckCanBook(const Principal& caller) {
  if (caller.tenant_id.empty()) {
    return absl::PermissionDeniedError("the caller's token is not attached to a CPTS");
  }
  if (caller.HasAnyRole({roles::kCoordinator, snp_roles::kSecretary, snp_roles::kSasRegulator})) {
    return absl::OkStatus();
  }
  if (caller.HasRole(roles::kMember) && !caller.member_id.empty()) return absl::OkStatus();
  return absl::PermissionDeniedError(
      "caller may not book slots (member, secretary, sas_regulator or coordinator only)");
}

BookingOrigin BookingOriginFor(const Principal& caller) {
  if (caller.HasRole(snp_roles::kSasRegulator)) return BookingOrigin::kSas;
  if (caller.HasAnyRole({roles::kCoordinator, snp_roles::kSecretary})) return BookingOrigin::kCpts;
  if (caller.HasRole(roles::kMember)) return BookingOrigin::kProfessional;
  if (caller.HasRole(roles::kService)) return BookingOrigin::kPartner;
  return BookingOrigin::kUnspecified;
}

Booker BookerFor(const Principal& caller, absl::string_view profession_code) {
  Booker booker;
  booker.subject = caller.subject;
  booker.member_id = caller.member_id;
  booker.profession_code = std::string(profession_code);
  booker.origin = BookingOriginFor(caller);
  return booker;
}

absl::Status CheckBookingAccess(const Principal& caller, const Booking& booking, const Slot& slot,
                                BookingAccess access) {
  if (caller.tenant_id.empty() || caller.tenant_id != booking.tenant_id) {
    return NotFound("booking", booking.id);
  }
  CPTS_RETURN_IF_ERROR(CheckSlotOfBooking(booking, slot));
  if (caller.HasAnyRole({roles::kCoordinator, snp_roles::kSecretary})) return absl::OkStatus();
  if (IsSlotProfessional(caller, slot)) return absl::OkStatus();
  const bool is_booker = !caller.subject.empty() && caller.subject == booking.booked_by;
  switch (access) {
    case BookingAccess::kRead:
    case BookingAccess::kCancel:
      if (is_booker) return absl::OkStatus();
      return absl::PermissionDeniedError(absl::StrCat(
          "caller may not ", access == BookingAccess::kRead ? "read" : "cancel",
          " this booking (its booker, the slot's professional, coordinator or secretary only)"));
    case BookingAccess::kRecordOutcome:
      return absl::PermissionDeniedError(
          "caller may not record the outcome of this booking (the slot's professional, "
          "coordinator or secretary only)");
  }
  return absl::PermissionDeniedError("unknown access");
}

// --- steps -----------------------------------------------------------------------------

absl::Status NormalizeBookingDraft(BookingDraft& draft, absl::CivilDay today) {
  CPTS_RETURN_IF_ERROR(ValidateId(draft.slot_id, "slot_id"));
  CPTS_ASSIGN_OR_RETURN(draft.patient.given_name,
                        membership::NormalizeName(draft.patient.given_name, "patient.given_name",
                                                  kMaxPatientNameChars));
  CPTS_ASSIGN_OR_RETURN(draft.patient.family_name,
                        membership::NormalizeName(draft.patient.family_name, "patient.family_name",
                                                  kMaxPatientNameChars));
  CPTS_RETURN_IF_ERROR(ValidateBirthDate(draft.patient.birth_date, today, "patient.birth_date"));
  if (!draft.contact.phone.empty()) {
    CPTS_ASSIGN_OR_RETURN(draft.contact.phone,
                          membership::NormalizePhone(draft.contact.phone, "contact.phone"));
  }
  if (!draft.contact.email.empty()) {
    CPTS_ASSIGN_OR_RETURN(draft.contact.email,
                          membership::NormalizeEmail(draft.contact.email, "contact.email"));
  }
  CPTS_ASSIGN_OR_RETURN(draft.reason, NormalizeReason(draft.reason, "reason", /*required=*/true));
  return ValidateOptionalRequestId(draft.request_id, "request_id");
}

absl::StatusOr<Booking> BookSlot(const Principal& caller, const Booker& booker,
                                 const BookingDraft& draft, Slot& slot, absl::Time now,
                                 platform::IdGenerator& ids) {
  if (caller.tenant_id.empty() || caller.tenant_id != slot.tenant_id ||
      !CanSee(caller, slot.visibility)) {
    return NotFound("slot", slot.id);
  }
  CPTS_RETURN_IF_ERROR(CheckCanBook(caller));
  switch (slot.status) {
    case SlotStatus::kFree:
      break;
    case SlotStatus::kBooked:
      return absl::FailedPreconditionError(absl::StrCat("slot ", slot.id, " is already booked"));
    case SlotStatus::kWithdrawn:
      return absl::FailedPreconditionError(absl::StrCat("slot ", slot.id, " is WITHDRAWN"));
    case SlotStatus::kUnspecified:
      return absl::FailedPreconditionError(absl::StrCat("slot ", slot.id, " is not FREE"));
  }
  if (slot.kind != SlotKind::kBookable) {
    return absl::FailedPreconditionError(
        absl::StrCat("slot ", slot.id, " is a walk-in slot: patients come without booking"));
  }
  if (slot.start <= now) {
    return absl::FailedPreconditionError(absl::StrCat(
        "slot ", slot.id, " started at ", IsoTime(slot.start), "; a past slot cannot be booked"));
  }

  const absl::Time at = SnpStoreTime(now);
  Booking booking;
  booking.id = ids.NewId();
  booking.tenant_id = slot.tenant_id;
  booking.slot_id = slot.id;
  booking.patient = draft.patient;
  booking.contact = draft.contact;
  booking.reason = draft.reason;
  booking.origin = booker.origin;
  booking.booked_by = booker.subject;
  booking.booker_member_id = booker.member_id;
  booking.booker_profession_code = booker.profession_code;
  booking.state = BookingState::kBooked;
  booking.request_id = draft.request_id;
  booking.create_time = at;
  booking.update_time = at;
  booking.version = 1;

  slot.status = SlotStatus::kBooked;
  slot.booking_id = booking.id;
  slot.update_time = at;
  return booking;
}

absl::Status CancelBooking(const Principal& caller, absl::string_view reason, absl::Time now,
                           Booking& booking, Slot& slot) {
  CPTS_RETURN_IF_ERROR(CheckBookingAccess(caller, booking, slot, BookingAccess::kCancel));
  CPTS_ASSIGN_OR_RETURN(std::string normalized,
                        NormalizeReason(reason, "reason", /*required=*/true));
  CPTS_RETURN_IF_ERROR(CheckBookingAction(booking.state, BookingAction::kCancel));
  if (slot.start <= now) {
    return absl::FailedPreconditionError(
        absl::StrCat("slot ", slot.id, " started at ", IsoTime(slot.start),
                     "; a booking cannot be cancelled once its slot has started: record an "
                     "outcome instead"));
  }
  if (slot.status != SlotStatus::kBooked || slot.booking_id != booking.id) {
    return absl::InternalError(
        absl::StrCat("slot ", slot.id, " does not hold booking ", booking.id));
  }
  const absl::Time at = SnpStoreTime(now);
  booking.state = BookingState::kCancelled;
  booking.cancel_reason = std::move(normalized);
  booking.cancel_time = at;
  booking.update_time = at;
  slot.status = SlotStatus::kFree;
  slot.booking_id.clear();
  slot.update_time = at;
  return absl::OkStatus();
}

absl::Status RecordOutcome(const Principal& caller, BookingOutcome outcome, absl::Time now,
                           Booking& booking, const Slot& slot) {
  CPTS_RETURN_IF_ERROR(CheckBookingAccess(caller, booking, slot, BookingAccess::kRecordOutcome));
  BookingAction action = BookingAction::kRecordFulfilled;
  switch (outcome) {
    case BookingOutcome::kFulfilled:
      action = BookingAction::kRecordFulfilled;
      break;
    case BookingOutcome::kNoShow:
      action = BookingAction::kRecordNoShow;
      break;
    case BookingOutcome::kUnspecified:
      return membership::FieldError("outcome", "required: FULFILLED or NO_SHOW");
  }
  CPTS_RETURN_IF_ERROR(CheckBookingAction(booking.state, action));
  if (now < slot.start) {
    return absl::FailedPreconditionError(
        absl::StrCat("slot ", slot.id, " starts at ", IsoTime(slot.start),
                     "; an outcome can be recorded only once the slot has started"));
  }
  const absl::Time at = SnpStoreTime(now);
  booking.state = BookingTargetState(booking.state, action);
  booking.outcome_time = at;
  booking.update_time = at;
  return absl::OkStatus();
}

}  // namespace cpts::access
