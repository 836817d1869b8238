#pragma once

// Plain C++ types of the membership domain. No gRPC, no SQL: the gRPC layer converts
// cpts.membership.v1 messages to and from these, and the stores persist them.
//
// Calendar dates are absl::CivilDay (a day in the CPTS's local calendar); instants are
// absl::Time (UTC). Money is int64 euro cents.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cpts::membership {

// ---------------------------------------------------------------------------------------
// Tenants and reference data
// ---------------------------------------------------------------------------------------

// How a tenant counts membership years. Only calendar years exist today; the enum keeps the
// door open for e.g. September-to-August years without changing call sites.
enum class MembershipYearModel { kCalendar };

// A CPTS.
struct Tenant {
  std::string id;
  std::string name;
  std::string finess;                           // empty = none
  int size = 0;                                 // ACI "taille", 1..4
  std::vector<std::string> territory_communes;  // INSEE codes
  int64_t annual_fee_cents = 0;                 // 0 = no cotisation
  MembershipYearModel year_model = MembershipYearModel::kCalendar;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  int64_t version = 0;  // bumped by the store on every write; the etag derives from it
};

struct Profession {
  std::string code;  // e.g. "MEDECIN_GENERALISTE"
  std::string label;
  bool requires_rpps = false;
  bool reference = false;  // from the national list (seeded), not added by the tenant
};

struct College {
  std::string id;
  std::string name;
  std::string description;
  absl::Time create_time = absl::InfinitePast();
};

// ---------------------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------------------

enum class MemberKind { kUnspecified, kPerson, kLegalEntity };
enum class ExerciseMode { kUnspecified, kLiberal, kSalaried, kMixed };

// kLapsed is never stored: it is how an ACTIVE member whose membership years do not cover
// the day in question is reported (see lifecycle.h StatusOn).
enum class MemberStatus {
  kUnspecified,
  kPending,
  kActive,
  kLapsed,
  kSuspended,
  kResigned,
  kRejected,
};

struct PracticePlace {
  std::string commune_insee;
  std::string label;
  bool operator==(const PracticePlace&) const = default;
};

struct Contact {
  std::string email;  // normalised: domain in lower case
  std::string phone;  // E.164, e.g. "+33612345678"
  bool operator==(const Contact&) const = default;
};

struct Consent {
  bool granted = false;
  std::optional<absl::Time> record_time;  // when `granted` last took a new value
};

struct Consents {
  Consent directory_listing;
  Consent communications;
};

struct Adhesion {
  std::optional<absl::Time> submit_time;  // set by SubmitAdhesion
  std::string message;
  std::optional<absl::Time> decide_time;  // set by approval or rejection
  std::string decided_by;                 // subject of the decider
};

struct Member {
  std::string id;
  std::string tenant_id;
  MemberKind kind = MemberKind::kUnspecified;
  std::string given_name;         // person
  std::string family_name;        // person
  std::string organization_name;  // legal entity
  std::string profession_code;    // person
  std::string rpps;               // person, 11 digits or empty
  std::string finess;             // legal entity, optional
  ExerciseMode exercise_mode = ExerciseMode::kUnspecified;
  std::vector<PracticePlace> practice_places;
  std::string college_id;
  Contact contact;
  Consents consents;
  Adhesion adhesion;

  // Lifecycle. `status` holds from `status_since` on; before that day the member was in
  // `previous_status` (one level of history is enough for "status on a past day" questions
  // such as "was M active on the day of that meeting?").
  MemberStatus status = MemberStatus::kPending;
  absl::CivilDay status_since;
  MemberStatus previous_status = MemberStatus::kPending;
  std::string status_reason;
  std::vector<int> membership_years;  // ascending, no duplicates

  // Derived by the domain from family_name/given_name or organization_name (see
  // SortNameFor); persisted so a store can index (tenant_id, sort_name, id) for keyset
  // pagination and name-prefix search.
  std::string sort_name;

  // Derived by the store on every read from the recorded cotisations (year -> sum of
  // amount_cents); ignored on writes.
  std::map<int, int64_t> paid_cents_by_year;

  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  int64_t version = 0;  // bumped by the store on every write; the etag derives from it
};

// ---------------------------------------------------------------------------------------
// Cotisations, employer conventions, mandates
// ---------------------------------------------------------------------------------------

enum class PaymentMethod {
  kUnspecified,
  kBankTransfer,
  kCheck,
  kCash,
  kCard,
  kDirectDebit,
  kOther,
};

struct Cotisation {
  std::string id;
  std::string member_id;
  int year = 0;
  int64_t amount_cents = 0;
  absl::CivilDay paid_on;
  PaymentMethod method = PaymentMethod::kUnspecified;
  std::string reference;
  std::string recorded_by;  // subject of the caller
  absl::Time create_time = absl::InfinitePast();
};

struct EmployerConvention {
  std::string id;
  std::string member_id;           // the salaried member
  std::string employer_member_id;  // a legal-entity member
  absl::CivilDay valid_from;
  std::optional<absl::CivilDay> valid_until;  // inclusive; nullopt = open-ended
  std::string reference;
  std::string end_reason;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  int64_t version = 0;

  bool ValidOn(absl::CivilDay day) const {
    return valid_from <= day && (!valid_until.has_value() || day <= *valid_until);
  }
};

enum class MandateBody { kUnspecified, kBureau, kBoard, kStaff };

enum class MandateRole {
  kUnspecified,
  kPresident,
  kVicePresident,
  kTreasurer,
  kDeputyTreasurer,
  kSecretary,
  kDeputySecretary,
  kBoardMember,
  kCoordinator,
  kAdministrativeSecretary,
  kCoordinationNurse,
};

struct Mandate {
  std::string id;
  std::string member_id;
  MandateBody body = MandateBody::kUnspecified;
  MandateRole role = MandateRole::kUnspecified;
  absl::CivilDay start_date;
  std::optional<absl::CivilDay> end_date;  // inclusive; nullopt = until ended
  std::string end_reason;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  int64_t version = 0;

  bool InForceOn(absl::CivilDay day) const {
    return start_date <= day && (!end_date.has_value() || day <= *end_date);
  }
};

// ---------------------------------------------------------------------------------------
// Audit history
// ---------------------------------------------------------------------------------------

enum class AuditAction {
  kUnspecified,
  kCreated,
  kUpdated,
  kAdhesionSubmitted,
  kAdhesionApproved,
  kAdhesionRejected,
  kRenewed,
  kSuspended,
  kReinstated,
  kResigned,
  kCotisationRecorded,
  kConventionCreated,
  kConventionEnded,
  kMandateCreated,
  kMandateEnded,
};

// One change to a member, appended by the store in the same transaction as the change.
struct AuditEntry {
  int64_t sequence = 0;  // assigned by the store; increases with time within a tenant
  std::string tenant_id;
  std::string member_id;
  AuditAction action = AuditAction::kUnspecified;
  std::string actor;  // caller's subject
  absl::Time time = absl::InfinitePast();
  std::string reason;
  std::string details;  // machine-readable summary; never contact data
};

// ---------------------------------------------------------------------------------------
// Directory answers for other services
// ---------------------------------------------------------------------------------------

enum class PayeeKind { kUnspecified, kSelf, kEmployer, kNone };
enum class PayeeNoneReason {
  kUnspecified,
  kMemberNotActive,
  kLegalEntity,
  kNoValidConvention,
  kNoExerciseMode,
};

struct Payee {
  PayeeKind kind = PayeeKind::kUnspecified;
  std::string employer_member_id;                               // kEmployer
  std::string convention_id;                                    // kEmployer
  PayeeNoneReason none_reason = PayeeNoneReason::kUnspecified;  // kNone
  bool operator==(const Payee&) const = default;
};

// (`{}` defaults: other services build profiles with designated initializers in tests.)
struct MemberProfile {
  std::string member_id{};
  MemberKind kind = MemberKind::kUnspecified;
  MemberStatus status = MemberStatus::kUnspecified;  // on `on_date`
  std::string profession_code{};
  ExerciseMode exercise_mode = ExerciseMode::kUnspecified;
  std::vector<std::string> commune_insee_codes{};  // without duplicates, in practice order
  std::string college_id{};
  absl::CivilDay on_date{};
  int membership_year = 0;
  bool up_to_date = false;
  Payee payee{};
  std::string rpps{};
  std::string given_name{};
  std::string family_name{};  // or the legal entity's name
  // Bodies with a mandate in force on `on_date`, without duplicates, in increasing order.
  std::vector<MandateBody> mandate_bodies{};
};

// ---------------------------------------------------------------------------------------
// Names for messages and logs (the enumerator names of the proto, without the prefix).
// ---------------------------------------------------------------------------------------

inline absl::string_view MemberStatusName(MemberStatus status) {
  switch (status) {
    case MemberStatus::kUnspecified:
      return "UNSPECIFIED";
    case MemberStatus::kPending:
      return "PENDING";
    case MemberStatus::kActive:
      return "ACTIVE";
    case MemberStatus::kLapsed:
      return "LAPSED";
    case MemberStatus::kSuspended:
      return "SUSPENDED";
    case MemberStatus::kResigned:
      return "RESIGNED";
    case MemberStatus::kRejected:
      return "REJECTED";
  }
  return "UNKNOWN";
}

inline absl::string_view MemberKindName(MemberKind kind) {
  switch (kind) {
    case MemberKind::kUnspecified:
      return "UNSPECIFIED";
    case MemberKind::kPerson:
      return "PERSON";
    case MemberKind::kLegalEntity:
      return "LEGAL_ENTITY";
  }
  return "UNKNOWN";
}

inline absl::string_view ExerciseModeName(ExerciseMode mode) {
  switch (mode) {
    case ExerciseMode::kUnspecified:
      return "UNSPECIFIED";
    case ExerciseMode::kLiberal:
      return "LIBERAL";
    case ExerciseMode::kSalaried:
      return "SALARIED";
    case ExerciseMode::kMixed:
      return "MIXED";
  }
  return "UNKNOWN";
}

inline absl::string_view MandateBodyName(MandateBody body) {
  switch (body) {
    case MandateBody::kUnspecified:
      return "UNSPECIFIED";
    case MandateBody::kBureau:
      return "BUREAU";
    case MandateBody::kBoard:
      return "BOARD";
    case MandateBody::kStaff:
      return "STAFF";
  }
  return "UNKNOWN";
}

inline absl::string_view MandateRoleName(MandateRole role) {
  switch (role) {
    case MandateRole::kUnspecified:
      return "UNSPECIFIED";
    case MandateRole::kPresident:
      return "PRESIDENT";
    case MandateRole::kVicePresident:
      return "VICE_PRESIDENT";
    case MandateRole::kTreasurer:
      return "TREASURER";
    case MandateRole::kDeputyTreasurer:
      return "DEPUTY_TREASURER";
    case MandateRole::kSecretary:
      return "SECRETARY";
    case MandateRole::kDeputySecretary:
      return "DEPUTY_SECRETARY";
    case MandateRole::kBoardMember:
      return "BOARD_MEMBER";
    case MandateRole::kCoordinator:
      return "COORDINATOR";
    case MandateRole::kAdministrativeSecretary:
      return "ADMINISTRATIVE_SECRETARY";
    case MandateRole::kCoordinationNurse:
      return "COORDINATION_NURSE";
  }
  return "UNKNOWN";
}

inline absl::string_view AuditActionName(AuditAction action) {
  switch (action) {
    case AuditAction::kUnspecified:
      return "UNSPECIFIED";
    case AuditAction::kCreated:
      return "CREATED";
    case AuditAction::kUpdated:
      return "UPDATED";
    case AuditAction::kAdhesionSubmitted:
      return "ADHESION_SUBMITTED";
    case AuditAction::kAdhesionApproved:
      return "ADHESION_APPROVED";
    case AuditAction::kAdhesionRejected:
      return "ADHESION_REJECTED";
    case AuditAction::kRenewed:
      return "RENEWED";
    case AuditAction::kSuspended:
      return "SUSPENDED";
    case AuditAction::kReinstated:
      return "REINSTATED";
    case AuditAction::kResigned:
      return "RESIGNED";
    case AuditAction::kCotisationRecorded:
      return "COTISATION_RECORDED";
    case AuditAction::kConventionCreated:
      return "CONVENTION_CREATED";
    case AuditAction::kConventionEnded:
      return "CONVENTION_ENDED";
    case AuditAction::kMandateCreated:
      return "MANDATE_CREATED";
    case AuditAction::kMandateEnded:
      return "MANDATE_ENDED";
  }
  return "UNKNOWN";
}

}  // namespace cpts::membership
