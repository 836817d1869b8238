#pragma once

// The MT request workflow as an explicit state machine. Pure functions: no I/O, no clock
// ("now" and "today" are parameters).
//
//   (new) --SUBMIT--> RECEIVED --TRIAGE--> TRIAGED --ASSIGN--> PROPOSED --ACCEPT--> ACCEPTED
//   ACCEPTED --MARK_PLACED--> PLACED
//   TRIAGED --TRIAGE--> TRIAGED                       (re-triage)
//   PROPOSED, ACCEPTED --DECLINE--> TRIAGED           (the GP is excluded from later proposals)
//   RECEIVED, TRIAGED, PROPOSED, ACCEPTED --MARK_UNREACHABLE--> UNREACHABLE
//                                         --WITHDRAW--> WITHDRAWN
//                                         --CLOSE--> CLOSED_OTHER
//   PLACED, UNREACHABLE, WITHDRAWN, CLOSED_OTHER are final.
//
// GP capacity: ACCEPT takes one place of the GP's capacity; leaving ACCEPTED other than to
// PLACED (DECLINE, MARK_UNREACHABLE, WITHDRAW, CLOSE) gives it back. ApplyMtStep reports the
// effect; the store applies it in the same transaction as the state change, guarded by the
// request's version so that it happens exactly once.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/access/mt_model.h"

namespace cpts::access {

// Whether the request still waits (kReceived, kTriaged, kProposed, kAccepted).
bool IsOpen(MtState state);

// kPlaced, kUnreachable, kWithdrawn, kClosedOther.
bool IsFinal(MtState state);

// The state `action` leads to from `from`, or nullopt when the table does not allow it.
std::optional<MtState> MtTargetState(MtState from, MtAction action);

bool IsMtActionAllowed(MtState from, MtAction action);

// OK, or FailedPrecondition naming the current state, the step and where the step is
// allowed from, e.g. "MT request is PLACED; TRIAGE is allowed only from one of RECEIVED,
// TRIAGED".
absl::Status CheckMtAction(MtState from, MtAction action);

// Who takes a step.
struct MtActor {
  std::string subject;    // the caller's subject
  std::string member_id;  // the caller's member id in the tenant, if any
};

// One step of the workflow, as the service layer builds it from an RPC.
struct MtStep {
  MtAction action = MtAction::kSubmit;
  MtActor actor;
  absl::Time now = absl::InfinitePast();
  // kSubmit and kTriage: the local day the priority class is computed on.
  absl::CivilDay today;
  // Why; recorded in the history and as the request's state_reason. Required (non-empty)
  // for kDecline and kClose.
  std::string reason;
  // kAssign: the GP to propose to (required).
  // kAccept, kDecline: the GP answering; empty when a coordinator answers on their behalf.
  std::string gp_member_id;
  // kTriage: the synthesis (required) and the class (kUnspecified = keep the computed one).
  std::string synthesis;
  PriorityClass priority_class = PriorityClass::kUnspecified;
};

// What the step does to the GP's capacity.
enum class CapacityEffect {
  kNone,
  kTake,     // decrement remaining_count of `gp_member_id` (refuse if it is 0)
  kGiveBack  // increment it again (at most to declared_count)
};

struct MtStepResult {
  MtTransition transition;  // also appended to request.history
  CapacityEffect capacity_effect = CapacityEffect::kNone;
  std::string capacity_gp_member_id;  // the GP whose capacity changes, when not kNone
};

// Applies `step` to `request`: checks the transition table, updates the state, state_time,
// update_time, state_reason, gp_member_id, declined_gp_member_ids, triage and priority
// fields, and appends the transition to the history. On error `request` is unchanged.
//
// kSubmit (request.state must be kUnspecified) also sets create_time, submitted_by, the
// default consent_time (`now`) and the priority (RefreshPriority on `today`). Every time
// recorded is `step.now` truncated to microseconds, the precision of the store's DATETIME(6)
// columns, so that the queue key read back equals the one computed here (mt_priority.h).
//
// Errors:
//   FailedPrecondition: the table does not allow the step from the current state (see
//     CheckMtAction); kAssign to a GP who already declined this request.
//   PermissionDenied: kAccept/kDecline by a GP other than the one the request is proposed to.
//   InvalidArgument: a required input of the step is missing ("gp_member_id", "reason",
//     "synthesis"). Field formats are checked before, by mt_validators.h.
absl::StatusOr<MtStepResult> ApplyMtStep(const MtStep& step, MtRequest& request);

}  // namespace cpts::access
