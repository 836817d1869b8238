#pragma once

// The membership lifecycle as pure functions: which step is allowed from which status, what
// each step does to a member, and the derived answers other services rely on ("is M up to
// date for year Y", "who is paid for M on day D"). No I/O, no clock: "today" is a parameter.
//
//   SubmitAdhesion / CreateMember -> PENDING
//   PENDING   --approve--> ACTIVE (for a membership year)    PENDING --reject--> REJECTED
//   ACTIVE    --(the current year is not a membership year)--> reported as LAPSED
//   ACTIVE, LAPSED, RESIGNED --renew--> ACTIVE (adds a year)
//   ACTIVE, LAPSED --suspend--> SUSPENDED --reinstate--> ACTIVE (or LAPSED)
//   ACTIVE, LAPSED, SUSPENDED --resign--> RESIGNED
//   REJECTED is final.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/membership/model.h"

namespace cpts::membership {

enum class Transition { kApprove, kReject, kRenew, kSuspend, kReinstate, kResign };

absl::string_view TransitionName(Transition transition);

// The membership year `day` falls in (calendar model: the day's year).
int MembershipYearOf(const Tenant& tenant, absl::CivilDay day);

// The member's status on `day`: the stored status from `status_since` on, the previous one
// before; an ACTIVE member whose membership years do not include the year of `day` is
// reported LAPSED. Never returns kUnspecified.
MemberStatus StatusOn(const Member& member, const Tenant& tenant, absl::CivilDay day);

// Whether `transition` may be applied to a member whose status (as reported by StatusOn) is
// `from`.
bool IsTransitionAllowed(MemberStatus from, Transition transition);

// OK, or FailedPrecondition naming the current status and the statuses the step is allowed
// from, e.g. "member is SUSPENDED; APPROVE is allowed only from PENDING".
absl::Status CheckTransition(MemberStatus from, Transition transition);

struct TransitionInput {
  Transition transition = Transition::kApprove;
  absl::CivilDay today;
  // kApprove and kRenew: the membership year to add (validated for range by the caller).
  int year = 0;
  // kResign: the day it takes effect; nullopt means today.
  std::optional<absl::CivilDay> effective_date;
  // kReject, kSuspend, kReinstate, kResign: recorded as the member's status_reason.
  std::string reason;
};

// Applies a lifecycle step to `member` (status, previous_status, status_since, status_reason,
// membership_years). On error `member` is unchanged. Errors: FailedPrecondition when the step
// is not allowed from the member's status today, when renewing for a year that is already a
// membership year, or when a resignation would take effect before the current status began.
absl::Status ApplyTransition(const Tenant& tenant, const TransitionInput& input, Member& member);

// True when, for the membership year of `day`: the member is ACTIVE on `day`, that year is
// one of their membership years, and the tenant charges no fee or the cotisations recorded for
// that year add up to at least the fee.
bool IsUpToDate(const Member& member, const Tenant& tenant, absl::CivilDay day);

// The convention of `member_id` valid on `day`, or nullptr. At most one is valid on a day.
const EmployerConvention* ConventionValidOn(const std::vector<EmployerConvention>& conventions,
                                            absl::string_view member_id, absl::CivilDay day);

// Who receives payments due to `member` for work done on `day`:
//   legal entity -> none (kLegalEntity); not ACTIVE on `day` -> none (kMemberNotActive);
//   LIBERAL -> self; SALARIED -> the employer of a convention valid on `day`, else none
//   (kNoValidConvention); MIXED -> the employer if a convention is valid on `day`, else self;
//   no exercise mode -> none (kNoExerciseMode).
Payee PayeeOn(const Member& member, const Tenant& tenant, absl::CivilDay day,
              const std::vector<EmployerConvention>& conventions);

}  // namespace cpts::membership
