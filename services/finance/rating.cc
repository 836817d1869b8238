#include "services/finance/rating.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/finance/validators.h"
#include "services/platform/core/status_macros.h"

namespace cpts::finance {
namespace {

constexpr absl::string_view kReversalSuffix = "/reversal";

// The proto enumerator names, without the prefix.
absl::string_view GovernanceBodyName(GovernanceBody body) {
  switch (body) {
    case GovernanceBody::kBureau:
      return "BUREAU";
    case GovernanceBody::kBoard:
      return "BOARD";
    case GovernanceBody::kUnspecified:
      break;
  }
  return "UNSPECIFIED";
}

// Rounds num / den to the nearest integer, halves up; num >= 0, den > 0.
int64_t DivRoundHalfUp(int64_t num, int64_t den) { return (num + den / 2) / den; }

// Applies the cap to a rated amount and fills the amount fields and status of `e`.
absl::Status ApplyCapTo(Entitlement& e, Cents rated, const AnnualCeilingTable& ceilings,
                        Cents year_total_cents) {
  e.rated_cents = rated;
  e.capped_cents = 0;
  e.amount_cents = 0;
  e.cap_reason.clear();
  if (rated == 0) {  // e.g. no minutes recorded under a per-hour policy
    e.ineligible_reason = IneligibleReason::kUnspecified;
    e.status = EntitlementStatus::kIneligible;
    return absl::OkStatus();
  }
  const int year = static_cast<int>(e.meeting_date.year());
  CPTS_ASSIGN_OR_RETURN(const Cents ceiling, ceilings.CeilingFor(year));
  CPTS_ASSIGN_OR_RETURN(const CapResult cap,
                        ApplyAnnualCap(year, rated, year_total_cents, ceiling));
  e.capped_cents = cap.capped_cents;
  e.amount_cents = cap.allowed_cents;
  e.cap_reason = cap.reason;
  if (e.amount_cents == 0) {
    e.ineligible_reason = IneligibleReason::kAnnualCapReached;
    e.status = EntitlementStatus::kIneligible;
  } else {
    e.ineligible_reason = IneligibleReason::kUnspecified;
    e.status = EntitlementStatus::kPending;
  }
  return absl::OkStatus();
}

// Reasons a new policy cannot change.
bool PolicyIndependent(IneligibleReason r) {
  return r != IneligibleReason::kUnspecified && r != IneligibleReason::kNoPolicy &&
         r != IneligibleReason::kAnnualCapReached;
}

}  // namespace

namespace {

constexpr absl::string_view kGovernanceKeyPrefix = "governance/";

// The member's side of eligibility, shared by attendance and governance work: a member, up to
// date, and someone to pay.
IneligibleReason CheckMemberPayee(absl::string_view member_id, const MemberFacts* facts,
                                  PayeeRef* payee) {
  *payee = PayeeRef{};
  if (member_id.empty() || facts == nullptr) return IneligibleReason::kNotAMember;
  if (!facts->up_to_date) return IneligibleReason::kNotUpToDate;
  switch (facts->payee_kind) {
    case MemberPayeeKind::kSelf:
      // Membership never names a salaried member as their own payee; refuse it anyway: a
      // salaried professional is paid only through their employer's convention.
      if (facts->exercise_mode == ExerciseMode::kSalaried) {
        return IneligibleReason::kNoEmployerConvention;
      }
      if (facts->exercise_mode == ExerciseMode::kUnspecified) return IneligibleReason::kNoPayee;
      *payee = PayeeRef{.type = PayeeType::kSelf, .member_id = std::string(member_id)};
      return IneligibleReason::kUnspecified;
    case MemberPayeeKind::kEmployer:
      if (facts->employer_member_id.empty() || facts->convention_id.empty()) {
        return IneligibleReason::kNoEmployerConvention;
      }
      if (facts->exercise_mode == ExerciseMode::kLiberal) return IneligibleReason::kNoPayee;
      *payee = PayeeRef{.type = PayeeType::kEmployer,
                        .member_id = facts->employer_member_id,
                        .convention_id = facts->convention_id};
      return IneligibleReason::kUnspecified;
    case MemberPayeeKind::kNone:
      if (facts->none_reason == PayeeNoneReason::kNoValidConvention) {
        return IneligibleReason::kNoEmployerConvention;
      }
      if (facts->none_reason == PayeeNoneReason::kMemberNotActive) {
        return IneligibleReason::kNotUpToDate;
      }
      return IneligibleReason::kNoPayee;
    case MemberPayeeKind::kUnspecified:
      break;
  }
  return IneligibleReason::kNoPayee;
}

}  // namespace

IneligibleReason CheckEligibility(const AttendanceLine& line, const MemberFacts* facts,
                                  PayeeRef* payee) {
  *payee = PayeeRef{};
  if (!line.present) return IneligibleReason::kAbsent;
  if (line.role == AttendanceRole::kGuest) return IneligibleReason::kGuest;
  if (line.role == AttendanceRole::kStaff) return IneligibleReason::kStaff;
  if (!line.indemnifiable) return IneligibleReason::kNotAMember;
  return CheckMemberPayee(line.member_id, facts, payee);
}

absl::string_view IneligibleReasonText(IneligibleReason reason) {
  switch (reason) {
    case IneligibleReason::kUnspecified:
      return "eligible";
    case IneligibleReason::kGuest:
      return "a guest";
    case IneligibleReason::kStaff:
      return "staff of the CPTS";
    case IneligibleReason::kNotAMember:
      return "not a member";
    case IneligibleReason::kNotUpToDate:
      return "not up to date with their membership for the year";
    case IneligibleReason::kNoEmployerConvention:
      return "salaried without an employer convention valid on that day";
    case IneligibleReason::kNoPayee:
      return "nobody can be paid (legal entity or exercise mode unknown)";
    case IneligibleReason::kAbsent:
      return "absent";
    case IneligibleReason::kNoPolicy:
      return "no indemnity policy in force";
    case IneligibleReason::kAnnualCapReached:
      return "annual cap reached";
  }
  return "ineligible";
}

absl::StatusOr<Cents> RateMeeting(const IndemnityPolicy& policy, AttendanceRole role, int minutes) {
  CPTS_RETURN_IF_ERROR(ValidatePolicy(policy));
  if (role != AttendanceRole::kReferent && role != AttendanceRole::kMember) {
    return FieldError("role", "only référents and members are rated");
  }
  if (minutes < 0 || minutes > 24 * 60) {
    return FieldError("minutes_worked", "must be between 0 and 1440");
  }
  const bool referent = role == AttendanceRole::kReferent;
  if (policy.kind == PolicyKind::kPerMeeting) {
    return referent ? policy.referent_amount_cents : policy.member_amount_cents;
  }
  const int64_t millipoints_per_hour =
      referent ? policy.referent_millipoints_per_hour : policy.member_millipoints_per_hour;
  // At most 10^6 x 1440 x 10^8 = 1.44e17: no overflow in int64.
  constexpr int64_t kMinutesTimesMillipoints = int64_t{60} * 1000;
  return DivRoundHalfUp(millipoints_per_hour * minutes * policy.point_value_cents,
                        kMinutesTimesMillipoints);
}

absl::StatusOr<Entitlement> BuildEntitlement(const AttendanceLine& line,
                                             const IndemnityPolicy* policy,
                                             const MemberFacts* facts,
                                             const AnnualCeilingTable& ceilings,
                                             Cents year_total_cents) {
  CPTS_RETURN_IF_ERROR(ValidateAttendanceLine(line));
  if (line.reversal) return FieldError("event.reversal", "a reversal gives no entitlement");
  const int year = static_cast<int>(line.meeting_date.year());
  if (policy != nullptr) {
    if (policy->year != year) {
      return FieldError("policy.year", absl::StrCat("policy of ", policy->year,
                                                    " cannot rate a meeting of ", year));
    }
    if (policy->tenant_id != line.tenant_id) {
      return FieldError("policy.tenant_id", "policy of another tenant");
    }
  }
  if (facts != nullptr && facts->member_id != line.member_id) {
    return FieldError("facts.member_id", "facts of another member");
  }

  Entitlement e;
  e.tenant_id = line.tenant_id;
  e.idempotency_key = line.idempotency_key;
  e.meeting_id = line.meeting_id;
  e.group_id = line.group_id;
  e.action_id = line.action_id;
  e.participant_id = line.participant_id;
  e.member_id = line.member_id;
  e.meeting_date = line.meeting_date;
  e.sheet_version = line.sheet_version;
  e.role = line.role;
  e.minutes_worked = line.minutes_worked;
  e.category = EntitlementCategory::kRemuneration;  // working groups are mission work
  e.status = EntitlementStatus::kIneligible;

  e.ineligible_reason = CheckEligibility(line, facts, &e.payee);
  if (e.ineligible_reason != IneligibleReason::kUnspecified) return e;
  if (policy == nullptr) {
    e.ineligible_reason = IneligibleReason::kNoPolicy;
    return e;
  }
  e.policy_id = policy->id;
  CPTS_ASSIGN_OR_RETURN(const Cents rated, RateMeeting(*policy, line.role, line.minutes_worked));
  CPTS_RETURN_IF_ERROR(ApplyCapTo(e, rated, ceilings, year_total_cents));
  return e;
}

std::string GovernanceEventKey(absl::string_view request_id) {
  return absl::StrCat(kGovernanceKeyPrefix, request_id);
}

absl::StatusOr<Entitlement> BuildGovernanceEntitlement(const GovernanceClaim& claim,
                                                       const MemberFacts* facts,
                                                       const AnnualCeilingTable& ceilings,
                                                       Cents year_total_cents) {
  CPTS_RETURN_IF_ERROR(ValidateGovernanceClaim(claim));
  if (facts != nullptr && facts->member_id != claim.member_id) {
    return FieldError("facts.member_id", "facts of another member");
  }
  Entitlement e;
  const IneligibleReason why = CheckMemberPayee(claim.member_id, facts, &e.payee);
  if (why != IneligibleReason::kUnspecified) {
    // Unlike an attendance line, nothing is recorded: the treasurer typed this one in.
    return absl::FailedPreconditionError(
        absl::StrCat("member_id: ", claim.member_id, " cannot be indemnified on ",
                     absl::FormatCivilTime(claim.work_date), ": ", IneligibleReasonText(why)));
  }
  // Decree 2022-375 indemnifies the work of those who sit in the body, on the days they do.
  if (std::find(facts->governance_bodies.begin(), facts->governance_bodies.end(), claim.body) ==
      facts->governance_bodies.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("member_id: ", claim.member_id, " holds no ", GovernanceBodyName(claim.body),
                     " mandate on ", absl::FormatCivilTime(claim.work_date), " (the work date)"));
  }
  e.tenant_id = claim.tenant_id;
  e.idempotency_key = GovernanceEventKey(claim.request_id);
  e.action_id = kGovernanceActionKey;
  e.member_id = claim.member_id;
  e.meeting_date = claim.work_date;
  e.category = EntitlementCategory::kIndemnity;
  e.governance_body = claim.body;
  e.reason = claim.reason;
  CPTS_RETURN_IF_ERROR(ApplyCapTo(e, claim.amount_cents, ceilings, year_total_cents));
  return e;
}

bool SameGovernanceClaim(const Entitlement& recorded, const GovernanceClaim& claim) {
  return recorded.category == EntitlementCategory::kIndemnity &&
         recorded.member_id == claim.member_id && recorded.meeting_date == claim.work_date &&
         recorded.rated_cents == claim.amount_cents && recorded.governance_body == claim.body &&
         recorded.reason == claim.reason;
}

bool RatedByPolicy(const Entitlement& e) {
  return e.category == EntitlementCategory::kRemuneration && !IsRecovery(e);
}

absl::StatusOr<std::string> ReversedKey(const AttendanceLine& reversal) {
  if (!reversal.reversal) return FieldError("event.reversal", "not a reversal");
  absl::string_view key = reversal.idempotency_key;
  if (!absl::EndsWith(key, kReversalSuffix) || key.size() == kReversalSuffix.size()) {
    return FieldError("event.idempotency_key",
                      absl::StrCat("a reversal key ends with \"", kReversalSuffix, "\""));
  }
  key.remove_suffix(kReversalSuffix.size());
  return std::string(key);
}

absl::Status CheckReversible(const Entitlement& e) {
  switch (e.status) {
    case EntitlementStatus::kReversed:
      return absl::FailedPreconditionError(
          absl::StrCat("entitlement ", e.id, " is already reversed"));
    case EntitlementStatus::kBatched:
      return absl::FailedPreconditionError(absl::StrCat("entitlement ", e.id,
                                                        " is in payment batch ", e.batch_id,
                                                        "; cancel or pay the batch first"));
    default:
      return absl::OkStatus();
  }
}

absl::StatusOr<std::optional<Entitlement>> Rerate(const Entitlement& current,
                                                  const IndemnityPolicy& revised,
                                                  const AnnualCeilingTable& ceilings,
                                                  Cents year_total_cents) {
  if (current.status == EntitlementStatus::kBatched || current.status == EntitlementStatus::kPaid ||
      current.status == EntitlementStatus::kReversed) {
    return absl::FailedPreconditionError(absl::StrCat("entitlement ", current.id,
                                                      " cannot be re-rated once batched, paid or "
                                                      "reversed"));
  }
  if (IsRecovery(current)) return std::optional<Entitlement>();
  const int year = static_cast<int>(current.meeting_date.year());
  if (revised.year != year) {
    return FieldError("policy.year",
                      absl::StrCat("policy of ", revised.year, " cannot rate a meeting of ", year));
  }
  if (PolicyIndependent(current.ineligible_reason)) return std::optional<Entitlement>();
  const bool by_policy = RatedByPolicy(current);
  Cents rated = current.rated_cents;  // a governance indemnity keeps its claim, capped again
  if (by_policy) {
    CPTS_ASSIGN_OR_RETURN(rated, RateMeeting(revised, current.role, current.minutes_worked));
  }
  Entitlement next = current;
  next.id.clear();
  next.supersedes_id = current.id;
  if (by_policy) next.policy_id = revised.id;
  next.approved_by.clear();
  next.approve_time = absl::InfinitePast();
  next.batch_id.clear();
  next.row_version = 0;
  CPTS_RETURN_IF_ERROR(ApplyCapTo(next, rated, ceilings, year_total_cents));
  if (next.rated_cents == current.rated_cents && next.amount_cents == current.amount_cents &&
      next.capped_cents == current.capped_cents) {
    return std::optional<Entitlement>();
  }
  return std::optional<Entitlement>(std::move(next));
}

absl::Status CheckPolicyUpdatable(const IndemnityPolicy& current) {
  if (current.frozen) {
    return absl::FailedPreconditionError(
        absl::StrCat("policy ", current.id,
                     " is frozen: entitlements were computed under it; "
                     "revise it with a new version"));
  }
  return absl::OkStatus();
}

absl::StatusOr<IndemnityPolicy> NextPolicyVersion(const IndemnityPolicy& in_force,
                                                  IndemnityPolicy revised) {
  if (!in_force.in_force) {
    return absl::FailedPreconditionError(
        absl::StrCat("policy ", in_force.id, " is not the version in force"));
  }
  if (revised.year != in_force.year) {
    return FieldError("policy.year", absl::StrCat("must be ", in_force.year));
  }
  CPTS_RETURN_IF_ERROR(ValidatePolicy(revised));
  revised.id.clear();
  revised.tenant_id = in_force.tenant_id;
  revised.version = in_force.version + 1;
  revised.in_force = true;
  revised.frozen = false;
  revised.create_time = absl::InfinitePast();
  revised.update_time = absl::InfinitePast();
  revised.row_version = 0;
  return revised;
}

Statement BuildStatement(absl::string_view member_id, int year,
                         const std::vector<Entitlement>& entitlements,
                         const AnnualCeilingTable& ceilings) {
  Statement st;
  st.member_id = std::string(member_id);
  st.year = year;
  if (auto c = ceilings.CeilingFor(year); c.ok()) st.annual_ceiling_cents = *c;
  for (const Entitlement& e : entitlements) {
    if (e.member_id != member_id || e.meeting_date.year() != year) continue;
    st.lines.push_back(StatementLine{.entitlement_id = e.id,
                                     .meeting_date = e.meeting_date,
                                     .group_id = e.group_id,
                                     .amount_cents = e.amount_cents,
                                     .capped_cents = e.capped_cents,
                                     .status = e.status,
                                     .paid_to_employer = e.payee.type == PayeeType::kEmployer,
                                     .category = e.category,
                                     .recovery = IsRecovery(e)});
    if (e.status == EntitlementStatus::kReversed) continue;
    st.total_due_cents += e.amount_cents;
    st.total_capped_cents += e.capped_cents;
    if (e.status == EntitlementStatus::kPaid) {
      st.total_paid_cents += e.amount_cents;
    } else if (IsRecovery(e)) {
      st.total_to_recover_cents -= e.amount_cents;
    }
  }
  std::sort(st.lines.begin(), st.lines.end(), [](const StatementLine& a, const StatementLine& b) {
    return std::tie(a.meeting_date, a.entitlement_id) < std::tie(b.meeting_date, b.entitlement_id);
  });
  return st;
}

bool CountsTowardCap(const Entitlement& e) {
  return e.status != EntitlementStatus::kReversed && e.amount_cents > 0;
}

}  // namespace cpts::finance
