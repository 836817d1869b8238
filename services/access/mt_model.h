#pragma once

// Plain C++ types of the MT part of the access domain (requests to find a médecin traitant,
// GP capacity). No gRPC, no SQL: the gRPC layer converts cpts.access.v1 messages to and from
// these, and the stores persist them.
//
// Calendar dates are absl::CivilDay (a day in the CPTS's local calendar); instants are
// absl::Time (UTC). The patient types (PatientIdentity, PatientContact, Sex) are shared with
// the SNP bookings.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cpts::access {

// ---------------------------------------------------------------------------------------
// Patients (health data: encrypted at rest, every read and write audited)
// ---------------------------------------------------------------------------------------

enum class Sex { kUnspecified, kFemale, kMale, kOther };

struct PatientIdentity {
  std::string given_name;
  std::string family_name;
  absl::CivilDay birth_date;
  Sex sex = Sex::kUnspecified;
  bool operator==(const PatientIdentity&) const = default;
};

struct PatientContact {
  std::string phone;  // E.164, e.g. "+33612345678"; empty = none
  std::string email;  // domain in lower case; empty = none
  bool operator==(const PatientContact&) const = default;
};

// ---------------------------------------------------------------------------------------
// MT requests
// ---------------------------------------------------------------------------------------

enum class MtOrigin {
  kUnspecified,
  kProfessional,
  kPartnerDac,
  kPartnerCpam,
  kHospitalDischarge,
  kPublicForm,
};

// See mt_workflow.h for the transitions. Open: kReceived, kTriaged, kProposed, kAccepted.
// Final: kPlaced, kUnreachable, kWithdrawn, kClosedOther. kUnspecified is the state of a
// request not yet submitted.
enum class MtState {
  kUnspecified,
  kReceived,
  kTriaged,
  kProposed,
  kAccepted,
  kPlaced,
  kUnreachable,
  kWithdrawn,
  kClosedOther,
};

// The steps of the workflow, one per workflow RPC.
enum class MtAction {
  kSubmit,
  kTriage,
  kAssign,
  kAccept,
  kDecline,
  kMarkPlaced,
  kMarkUnreachable,
  kWithdraw,
  kClose,
};

// Queue order: kP1Ald first ... kP4Other last (see mt_priority.h). kUnspecified only before
// the request is submitted, or in a triage step meaning "keep the computed class".
enum class PriorityClass { kUnspecified, kP1Ald, kP2Age, kP3Fragile, kP4Other };

struct Fragility {
  // Derived from the birth date by RefreshPriority (mt_priority.h) on the day the priority
  // was last computed; ignored on input.
  bool over_70 = false;  // 70 years old or more
  bool under_6 = false;  // not yet 6 years old
  // Declared.
  bool precarity = false;  // e.g. C2S beneficiary
  bool disability = false;
  bool pregnancy = false;
  std::string notes;  // free text, at most 2000 characters; encrypted at rest
};

struct MtConsent {
  bool granted = false;
  // When the patient consented; InfinitePast() = not given (the submission time is used).
  absl::Time consent_time = absl::InfinitePast();
};

struct MtTriage {
  std::string synthesis;                                       // encrypted at rest
  PriorityClass priority_class = PriorityClass::kUnspecified;  // as set at triage
  bool priority_overridden = false;  // differs from the computed class at triage time
  std::string triaged_by;            // caller's subject
  absl::Time triage_time = absl::InfinitePast();
};

// One step of a request's history: who, when, why. Appended by ApplyMtStep; never edited.
struct MtTransition {
  MtAction action = MtAction::kSubmit;
  MtState from_state = MtState::kUnspecified;
  MtState to_state = MtState::kUnspecified;
  std::string actor;            // caller's subject (a user account or "service:<name>")
  std::string actor_member_id;  // empty when the caller is not a member
  absl::Time time = absl::InfinitePast();
  std::string reason;
  std::string gp_member_id;  // kAssign, kAccept, kDecline and exits from kAccepted/kProposed
  PriorityClass priority_class = PriorityClass::kUnspecified;  // kSubmit: computed; kTriage: set
  bool operator==(const MtTransition&) const = default;
};

struct MtRequest {
  std::string id;
  std::string tenant_id;

  // Submitted.
  PatientIdentity patient;
  std::string commune_insee;
  PatientContact contact;
  bool ald = false;
  Fragility fragility;
  MtOrigin origin = MtOrigin::kUnspecified;
  std::string origin_detail;  // who referred the patient; never patient data
  MtConsent consent;

  // Workflow (maintained by mt_workflow and mt_priority).
  MtState state = MtState::kUnspecified;
  // The class ordering the queue: the triage's when set, else `computed_priority_class`.
  PriorityClass priority_class = PriorityClass::kUnspecified;
  PriorityClass computed_priority_class = PriorityClass::kUnspecified;
  std::optional<MtTriage> triage;
  std::string gp_member_id;  // kProposed, kAccepted, kPlaced: the GP; else empty
  std::vector<std::string> declined_gp_member_ids;  // in decline order, no duplicates
  std::vector<std::string> possible_duplicate_ids;  // set by the service at submission
  std::string state_reason;  // the reason given with the step into the current state
  std::string submitted_by;  // caller's subject
  absl::Time create_time = absl::InfinitePast();  // received; the wait counts from here
  absl::Time state_time = absl::InfinitePast();   // entered the current state
  absl::Time update_time = absl::InfinitePast();
  std::vector<MtTransition> history;  // oldest first

  int64_t version = 0;  // bumped by the store on every write; the etag derives from it
};

// ---------------------------------------------------------------------------------------
// GP capacity
// ---------------------------------------------------------------------------------------

// A GP's declaration: how many new patients, until when, where, which priorities. One per GP.
struct GpCapacity {
  std::string gp_member_id;
  int declared_count = 0;             // 0..500
  int remaining_count = 0;            // declared_count minus the places taken and not given back
  absl::CivilDay valid_until;         // inclusive
  std::vector<std::string> communes;  // INSEE codes, no duplicates
  std::vector<PriorityClass> priority_classes;  // no duplicates, never kUnspecified
  std::string declared_by;                      // caller's subject
  absl::Time declare_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  int64_t version = 0;

  bool ValidOn(absl::CivilDay day) const { return day <= valid_until; }
};

// ---------------------------------------------------------------------------------------
// Names for messages and logs (the enumerator names of the proto, without the prefix).
// ---------------------------------------------------------------------------------------

inline absl::string_view MtStateName(MtState state) {
  switch (state) {
    case MtState::kUnspecified:
      return "UNSPECIFIED";
    case MtState::kReceived:
      return "RECEIVED";
    case MtState::kTriaged:
      return "TRIAGED";
    case MtState::kProposed:
      return "PROPOSED";
    case MtState::kAccepted:
      return "ACCEPTED";
    case MtState::kPlaced:
      return "PLACED";
    case MtState::kUnreachable:
      return "UNREACHABLE";
    case MtState::kWithdrawn:
      return "WITHDRAWN";
    case MtState::kClosedOther:
      return "CLOSED_OTHER";
  }
  return "UNKNOWN";
}

inline absl::string_view MtActionName(MtAction action) {
  switch (action) {
    case MtAction::kSubmit:
      return "SUBMIT";
    case MtAction::kTriage:
      return "TRIAGE";
    case MtAction::kAssign:
      return "ASSIGN";
    case MtAction::kAccept:
      return "ACCEPT";
    case MtAction::kDecline:
      return "DECLINE";
    case MtAction::kMarkPlaced:
      return "MARK_PLACED";
    case MtAction::kMarkUnreachable:
      return "MARK_UNREACHABLE";
    case MtAction::kWithdraw:
      return "WITHDRAW";
    case MtAction::kClose:
      return "CLOSE";
  }
  return "UNKNOWN";
}

inline absl::string_view PriorityClassName(PriorityClass priority_class) {
  switch (priority_class) {
    case PriorityClass::kUnspecified:
      return "UNSPECIFIED";
    case PriorityClass::kP1Ald:
      return "P1_ALD";
    case PriorityClass::kP2Age:
      return "P2_AGE";
    case PriorityClass::kP3Fragile:
      return "P3_FRAGILE";
    case PriorityClass::kP4Other:
      return "P4_OTHER";
  }
  return "UNKNOWN";
}

inline absl::string_view MtOriginName(MtOrigin origin) {
  switch (origin) {
    case MtOrigin::kUnspecified:
      return "UNSPECIFIED";
    case MtOrigin::kProfessional:
      return "PROFESSIONAL";
    case MtOrigin::kPartnerDac:
      return "PARTNER_DAC";
    case MtOrigin::kPartnerCpam:
      return "PARTNER_CPAM";
    case MtOrigin::kHospitalDischarge:
      return "HOSPITAL_DISCHARGE";
    case MtOrigin::kPublicForm:
      return "PUBLIC_FORM";
  }
  return "UNKNOWN";
}

}  // namespace cpts::access
