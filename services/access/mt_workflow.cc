#include "services/access/mt_workflow.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/access/mt_priority.h"

namespace cpts::access {
namespace {

// One row of the transition table: `action` is allowed from the first `from_count` states
// of `from` and leads to `to`.
struct Rule {
  MtAction action;
  std::array<MtState, 4> from;
  std::size_t from_count;
  MtState to;
};

constexpr std::array<MtState, 4> kOpenStates = {MtState::kReceived, MtState::kTriaged,
                                                MtState::kProposed, MtState::kAccepted};

// THE TABLE (see mt_workflow.h for the picture).
constexpr std::array<Rule, 9> kRules = {{
    {MtAction::kSubmit, {MtState::kUnspecified}, 1, MtState::kReceived},
    {MtAction::kTriage, {MtState::kReceived, MtState::kTriaged}, 2, MtState::kTriaged},
    {MtAction::kAssign, {MtState::kTriaged}, 1, MtState::kProposed},
    {MtAction::kAccept, {MtState::kProposed}, 1, MtState::kAccepted},
    {MtAction::kDecline, {MtState::kProposed, MtState::kAccepted}, 2, MtState::kTriaged},
    {MtAction::kMarkPlaced, {MtState::kAccepted}, 1, MtState::kPlaced},
    {MtAction::kMarkUnreachable, kOpenStates, 4, MtState::kUnreachable},
    {MtAction::kWithdraw, kOpenStates, 4, MtState::kWithdrawn},
    {MtAction::kClose, kOpenStates, 4, MtState::kClosedOther},
}};

const Rule* RuleFor(MtAction action) {
  for (const Rule& rule : kRules) {
    if (rule.action == action) return &rule;
  }
  return nullptr;
}

absl::Status MissingField(absl::string_view field) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
}

bool Contains(const std::vector<std::string>& values, absl::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Step-specific checks, before anything changes.
absl::Status CheckStepInputs(const MtStep& step, const MtRequest& request) {
  switch (step.action) {
    case MtAction::kTriage:
      if (step.synthesis.empty()) return MissingField("synthesis");
      return absl::OkStatus();
    case MtAction::kAssign:
      if (step.gp_member_id.empty()) return MissingField("gp_member_id");
      if (Contains(request.declined_gp_member_ids, step.gp_member_id)) {
        return absl::FailedPreconditionError(absl::StrCat("gp_member_id: GP ", step.gp_member_id,
                                                          " already declined this MT request"));
      }
      return absl::OkStatus();
    case MtAction::kAccept:
    case MtAction::kDecline:
      if (!step.gp_member_id.empty() && step.gp_member_id != request.gp_member_id) {
        return absl::PermissionDeniedError("the MT request is not proposed to this GP");
      }
      if (step.action == MtAction::kDecline && step.reason.empty()) return MissingField("reason");
      return absl::OkStatus();
    case MtAction::kClose:
      if (step.reason.empty()) return MissingField("reason");
      return absl::OkStatus();
    case MtAction::kSubmit:
    case MtAction::kMarkPlaced:
    case MtAction::kMarkUnreachable:
    case MtAction::kWithdraw:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Time TruncateToMicros(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }

}  // namespace

bool IsOpen(MtState state) {
  return std::find(kOpenStates.begin(), kOpenStates.end(), state) != kOpenStates.end();
}

bool IsFinal(MtState state) {
  return state == MtState::kPlaced || state == MtState::kUnreachable ||
         state == MtState::kWithdrawn || state == MtState::kClosedOther;
}

std::optional<MtState> MtTargetState(MtState from, MtAction action) {
  const Rule* rule = RuleFor(action);
  if (rule == nullptr) return std::nullopt;
  const auto end = rule->from.begin() + static_cast<std::ptrdiff_t>(rule->from_count);
  if (std::find(rule->from.begin(), end, from) == end) return std::nullopt;
  return rule->to;
}

bool IsMtActionAllowed(MtState from, MtAction action) {
  return MtTargetState(from, action).has_value();
}

absl::Status CheckMtAction(MtState from, MtAction action) {
  if (IsMtActionAllowed(from, action)) return absl::OkStatus();
  const Rule* rule = RuleFor(action);
  std::vector<absl::string_view> allowed;
  if (rule != nullptr) {
    for (std::size_t i = 0; i < rule->from_count; ++i) {
      allowed.push_back(rule->from[i] == MtState::kUnspecified ? "a new request"
                                                               : MtStateName(rule->from[i]));
    }
  }
  const absl::string_view current =
      from == MtState::kUnspecified ? "not submitted" : MtStateName(from);
  return absl::FailedPreconditionError(
      absl::StrCat("MT request is ", current, "; ", MtActionName(action),
                   allowed.size() == 1 ? " is allowed only from " : " is allowed only from one of ",
                   absl::StrJoin(allowed, ", ")));
}

absl::StatusOr<MtStepResult> ApplyMtStep(const MtStep& step, MtRequest& request) {
  const MtState from = request.state;
  if (absl::Status s = CheckMtAction(from, step.action); !s.ok()) return s;
  if (absl::Status s = CheckStepInputs(step, request); !s.ok()) return s;
  const MtState to = *MtTargetState(from, step.action);
  // Every time the store persists is DATETIME(6): keep microseconds only, so that what is
  // read back equals what was computed here.
  const absl::Time now = TruncateToMicros(step.now);

  MtStepResult result;
  MtTransition& t = result.transition;
  t.action = step.action;
  t.from_state = from;
  t.to_state = to;
  t.actor = step.actor.subject;
  t.actor_member_id = step.actor.member_id;
  t.time = now;
  t.reason = step.reason;

  // From here on nothing can fail: `request` changes only on success.
  switch (step.action) {
    case MtAction::kSubmit:
      request.create_time = now;
      request.submitted_by = step.actor.subject;
      if (request.consent.consent_time == absl::InfinitePast()) {
        request.consent.consent_time = now;
      }
      request.triage.reset();
      request.gp_member_id.clear();
      request.declined_gp_member_ids.clear();
      request.history.clear();
      RefreshPriority(request, step.today);
      t.priority_class = request.computed_priority_class;
      break;
    case MtAction::kTriage: {
      MtTriage triage;
      triage.synthesis = step.synthesis;
      triage.triaged_by = step.actor.subject;
      triage.triage_time = now;
      request.triage.reset();  // so that RefreshPriority yields the computed class
      RefreshPriority(request, step.today);
      triage.priority_class = step.priority_class == PriorityClass::kUnspecified
                                  ? request.computed_priority_class
                                  : step.priority_class;
      triage.priority_overridden = triage.priority_class != request.computed_priority_class;
      request.priority_class = triage.priority_class;
      t.priority_class = triage.priority_class;
      request.triage = std::move(triage);
      break;
    }
    case MtAction::kAssign:
      request.gp_member_id = step.gp_member_id;
      t.gp_member_id = step.gp_member_id;
      break;
    case MtAction::kAccept:
      t.gp_member_id = request.gp_member_id;
      result.capacity_effect = CapacityEffect::kTake;
      result.capacity_gp_member_id = request.gp_member_id;
      break;
    case MtAction::kDecline:
    case MtAction::kMarkUnreachable:
    case MtAction::kWithdraw:
    case MtAction::kClose:
      t.gp_member_id = request.gp_member_id;
      if (from == MtState::kAccepted) {
        result.capacity_effect = CapacityEffect::kGiveBack;
        result.capacity_gp_member_id = request.gp_member_id;
      }
      if (step.action == MtAction::kDecline && !request.gp_member_id.empty() &&
          !Contains(request.declined_gp_member_ids, request.gp_member_id)) {
        request.declined_gp_member_ids.push_back(request.gp_member_id);
      }
      request.gp_member_id.clear();
      break;
    case MtAction::kMarkPlaced:
      t.gp_member_id = request.gp_member_id;
      break;
  }

  request.state = to;
  if (to != from) request.state_time = now;
  request.update_time = now;
  request.state_reason = step.reason;
  request.history.push_back(t);
  return result;
}

}  // namespace cpts::access
