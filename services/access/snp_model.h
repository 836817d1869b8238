#pragma once

// Plain C++ types of the SNP shared agenda (soins non programmés): slots published by the
// professionals of a tenant, and their bookings. No gRPC, no SQL: the gRPC layer converts
// cpts.access.v1 messages (slot.proto, booking.proto) to and from these, the stores persist
// them. Instants are absl::Time (UTC); slots start and last whole minutes.
//
// Health data: a Booking holds patient fields (identity, contact, reason), encrypted at rest
// and audited on every read and write. A Slot never holds patient data.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/access/mt_model.h"

namespace cpts::access {

// Role names of the token's `roles` claim used by the SNP agenda, besides the platform's
// (coordinator, member, public_form, service: services/platform/auth/principal.h). Typed
// std::string_view like those, for Principal::HasRole.
namespace snp_roles {
inline constexpr std::string_view kSecretary = "secretary";
inline constexpr std::string_view kSasRegulator = "sas_regulator";
inline constexpr std::string_view kTriageNurse = "triage_nurse";
}  // namespace snp_roles

// How the patient is seen. FHIR/SAS serviceType (v3 ActCode): AMB, HH, VR.
enum class ConsultationMode { kUnspecified, kOffice, kHome, kVideo };

// Who may see and book a slot. The levels are nested and ordered: a caller allowed a level
// sees the slots of that level and of every level before it (kPublic < kPro < kSnp < kCpts).
// See snp_search.h for which role reaches which level.
enum class Visibility { kUnspecified, kPublic, kPro, kSnp, kCpts };

// Booked for one patient, or open to walk-in patients (published for information, never
// booked). FHIR/SAS appointmentType (v2 0276): ROUTINE, WALKIN.
enum class SlotKind { kUnspecified, kBookable, kWalkIn };

enum class SlotStatus { kUnspecified, kFree, kBooked, kWithdrawn };

enum class BookingState { kUnspecified, kBooked, kCancelled, kFulfilled, kNoShow };

enum class BookingOutcome { kUnspecified, kFulfilled, kNoShow };

// Where a booking comes from, derived from the booker's role (snp_booking.h BookingOriginFor).
enum class BookingOrigin { kUnspecified, kProfessional, kCpts, kSas, kPartner };

// Where a slot takes place. kOffice: commune and address; kHome: the commune served, no
// address; kVideo: nothing.
struct SlotPlace {
  std::string commune_insee;  // 5 characters, e.g. "77288"
  std::string address;        // street, building, floor; at most 200 characters
  bool empty() const { return commune_insee.empty() && address.empty(); }
  bool operator==(const SlotPlace&) const = default;
};

struct Slot {
  std::string id;
  std::string tenant_id;
  std::string professional_member_id;
  std::string profession_code;  // the professional's, from membership, at publication
  absl::Time start = absl::InfinitePast();
  absl::Duration duration = absl::ZeroDuration();
  ConsultationMode mode = ConsultationMode::kUnspecified;
  SlotPlace place;
  Visibility visibility = Visibility::kUnspecified;
  SlotKind kind = SlotKind::kUnspecified;
  SlotStatus status = SlotStatus::kUnspecified;
  std::string booking_id;       // the active booking when kBooked, else empty
  std::string published_by;     // caller's subject
  std::string withdraw_reason;  // when kWithdrawn; may be empty
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  int64_t version = 0;  // bumped by the store on every write; the etag derives from it

  absl::Time end() const { return start + duration; }
};

// The caller who books, as the service knows them (token + membership).
struct Booker {
  std::string subject;          // the token's subject
  std::string member_id;        // empty when the booker is not a member of the tenant
  std::string profession_code;  // from membership; empty for a non-member
  BookingOrigin origin = BookingOrigin::kUnspecified;
};

struct Booking {
  std::string id;
  std::string tenant_id;
  std::string slot_id;
  PatientIdentity patient;  // encrypted at rest
  PatientContact contact;   // encrypted at rest; optional
  std::string reason;       // encrypted at rest
  BookingOrigin origin = BookingOrigin::kUnspecified;
  std::string booked_by;  // booker's subject
  std::string booker_member_id;
  std::string booker_profession_code;
  BookingState state = BookingState::kUnspecified;
  std::string cancel_reason;
  std::string request_id;  // idempotency key of BookSlot, may be empty
  absl::Time create_time = absl::InfinitePast();
  absl::Time cancel_time = absl::InfinitePast();   // when kCancelled
  absl::Time outcome_time = absl::InfinitePast();  // when kFulfilled or kNoShow
  absl::Time update_time = absl::InfinitePast();
  // When retention erased the patient fields, reason, cancel reason and idempotency key
  // (InfinitePast: not purged). A purged booking has empty patient, contact and reason.
  absl::Time purge_time = absl::InfinitePast();
  int64_t version = 0;
};

// ---------------------------------------------------------------------------------------
// Names for messages and logs (the enumerator names of the proto, without the prefix).
// ---------------------------------------------------------------------------------------

inline absl::string_view ConsultationModeName(ConsultationMode mode) {
  switch (mode) {
    case ConsultationMode::kUnspecified:
      return "UNSPECIFIED";
    case ConsultationMode::kOffice:
      return "OFFICE";
    case ConsultationMode::kHome:
      return "HOME";
    case ConsultationMode::kVideo:
      return "VIDEO";
  }
  return "UNKNOWN";
}

inline absl::string_view VisibilityName(Visibility visibility) {
  switch (visibility) {
    case Visibility::kUnspecified:
      return "UNSPECIFIED";
    case Visibility::kPublic:
      return "PUBLIC";
    case Visibility::kPro:
      return "PRO";
    case Visibility::kSnp:
      return "SNP";
    case Visibility::kCpts:
      return "CPTS";
  }
  return "UNKNOWN";
}

inline absl::string_view SlotKindName(SlotKind kind) {
  switch (kind) {
    case SlotKind::kUnspecified:
      return "UNSPECIFIED";
    case SlotKind::kBookable:
      return "BOOKABLE";
    case SlotKind::kWalkIn:
      return "WALK_IN";
  }
  return "UNKNOWN";
}

inline absl::string_view SlotStatusName(SlotStatus status) {
  switch (status) {
    case SlotStatus::kUnspecified:
      return "UNSPECIFIED";
    case SlotStatus::kFree:
      return "FREE";
    case SlotStatus::kBooked:
      return "BOOKED";
    case SlotStatus::kWithdrawn:
      return "WITHDRAWN";
  }
  return "UNKNOWN";
}

inline absl::string_view BookingStateName(BookingState state) {
  switch (state) {
    case BookingState::kUnspecified:
      return "UNSPECIFIED";
    case BookingState::kBooked:
      return "BOOKED";
    case BookingState::kCancelled:
      return "CANCELLED";
    case BookingState::kFulfilled:
      return "FULFILLED";
    case BookingState::kNoShow:
      return "NO_SHOW";
  }
  return "UNKNOWN";
}

inline absl::string_view BookingOriginName(BookingOrigin origin) {
  switch (origin) {
    case BookingOrigin::kUnspecified:
      return "UNSPECIFIED";
    case BookingOrigin::kProfessional:
      return "PROFESSIONAL";
    case BookingOrigin::kCpts:
      return "CPTS";
    case BookingOrigin::kSas:
      return "SAS";
    case BookingOrigin::kPartner:
      return "PARTNER";
  }
  return "UNKNOWN";
}

}  // namespace cpts::access
