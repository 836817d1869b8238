#pragma once

// Rating of attendance: an attendance line (from projects), the policy in force for the
// meeting's year and the member's facts on the meeting date (from membership) give an
// entitlement, or the reason nothing is due. Governance indemnities (an amount the treasurer
// records for bureau or board work) go through the same eligibility and annual cap. Pure
// functions: the caller reads the policy, the facts, the ceilings and the member's year total,
// and persists the result.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/finance/annual_cap.h"
#include "services/finance/model.h"

namespace cpts::finance {

// Who may be indemnified, and who is paid. Returns kUnspecified (eligible) and sets `payee`,
// or the first reason that applies, in this order: absent, guest, staff, not a member (no
// member id, not indemnifiable, or no facts), not up to date for the year, no employer
// convention (salaried without one, or membership saying so), no payee (legal entity,
// unknown exercise mode, inconsistent facts).
IneligibleReason CheckEligibility(const AttendanceLine& line, const MemberFacts* facts,
                                  PayeeRef* payee);

// A short English phrase for a reason, for messages ("not up to date for the year").
absl::string_view IneligibleReasonText(IneligibleReason reason);

// What `policy` gives for one meeting attended in `role` for `minutes` minutes. Per meeting:
// the référent amount for a référent, else the member amount. Per hour by points:
// millipoints_per_hour x minutes / 60 points at point_value_cents / 1000 each, rounded to the
// nearest cent (halves up). InvalidArgument when the policy is invalid or the role is neither
// référent nor member.
absl::StatusOr<Cents> RateMeeting(const IndemnityPolicy& policy, AttendanceRole role, int minutes);

// Builds the entitlement of a (non-reversal) attendance line: eligibility, rating under
// `policy` (nullptr: no policy in force, ineligible kNoPolicy), then the annual cap given the
// member's `year_total_cents` (see ApplyAnnualCap). An eligible line whose amount is fully
// capped is ineligible with kAnnualCapReached; a line with nothing due is kIneligible, else
// kPending. Ids, times and row versions are left to the store.
// InvalidArgument: invalid line, reversal line, policy of another year or tenant, facts of
// another member. FailedPrecondition: no ceiling for the year (and something to cap).
absl::StatusOr<Entitlement> BuildEntitlement(const AttendanceLine& line,
                                             const IndemnityPolicy* policy,
                                             const MemberFacts* facts,
                                             const AnnualCeilingTable& ceilings,
                                             Cents year_total_cents);

// The entitlement of a governance indemnity (category kIndemnity, charged to
// kGovernanceActionKey, event key GovernanceEventKey(request_id), no policy): the member must
// be eligible as an attendee would be (a member, up to date, paid themself or through their
// employer's convention on the work date; `facts` nullptr = not a member), else
// FailedPrecondition("member_id: ... cannot be indemnified ...: <reason>"). The claimed amount
// is then capped as an attendance line is (see ApplyAnnualCap; fully capped: kIneligible with
// kAnnualCapReached), else kPending. InvalidArgument for an invalid claim or facts of another
// member; FailedPrecondition when the year has no ceiling.
absl::StatusOr<Entitlement> BuildGovernanceEntitlement(const GovernanceClaim& claim,
                                                       const MemberFacts* facts,
                                                       const AnnualCeilingTable& ceilings,
                                                       Cents year_total_cents);

// The entitlement event key of a governance indemnity's request id.
std::string GovernanceEventKey(absl::string_view request_id);

// Whether `recorded` is what `claim` would record (same member, day, amount claimed, body and
// reason): a request_id reused for the same claim replays, for another one it is refused.
bool SameGovernanceClaim(const Entitlement& recorded, const GovernanceClaim& claim);

// Whether an indemnity policy rates the entitlement: attendance lines (kRemuneration), not
// governance indemnities nor recoveries.
bool RatedByPolicy(const Entitlement& entitlement);

// The idempotency key of the entitlement a reversal line cancels: the line's key without its
// "/reversal" suffix. InvalidArgument when the line is not a reversal or the key lacks the
// suffix.
absl::StatusOr<std::string> ReversedKey(const AttendanceLine& reversal);

// Whether an entitlement may be reversed now. FailedPrecondition when it is already reversed,
// or held by a payment batch not yet paid (the batch must be cancelled or paid first; the
// relay retries). A paid entitlement may be reversed: the payee then owes the amount back.
absl::Status CheckReversible(const Entitlement& entitlement);

// Re-rates `current` under a revised policy. Returns nullopt when nothing changes (same
// amounts, or the line was ineligible for a reason a policy cannot change); otherwise the
// replacement (status kPending or kIneligible, supersedes_id = current.id, policy_id =
// revised.id), which the caller records together with the reversal of `current`.
// `year_total_cents` excludes `current`; process a member's entitlements in meeting-date
// order so the cap falls on the latest ones. A governance indemnity keeps its claimed amount
// and only has the cap applied again (the policy's changes to earlier meetings may take its
// room); a recovery is never re-rated (nullopt). FailedPrecondition for a batched, paid or
// reversed entitlement.
absl::StatusOr<std::optional<Entitlement>> Rerate(const Entitlement& current,
                                                  const IndemnityPolicy& revised,
                                                  const AnnualCeilingTable& ceilings,
                                                  Cents year_total_cents);

// A policy version may be edited in place only until entitlements were computed under it:
// FailedPrecondition("... frozen ...; revise it") once frozen.
absl::Status CheckPolicyUpdatable(const IndemnityPolicy& current);

// The version that replaces `in_force` (same tenant and year): `revised` validated, with
// version = in_force.version + 1, in force, not frozen, id and times left to the store.
// InvalidArgument when invalid or of another year; FailedPrecondition when `in_force` is not
// the version in force.
absl::StatusOr<IndemnityPolicy> NextPolicyVersion(const IndemnityPolicy& in_force,
                                                  IndemnityPolicy revised);

// Whether an entitlement counts toward its member's year total for the cap.
bool CountsTowardCap(const Entitlement& entitlement);

// A member's statement for a year: the lines of `entitlements` (already the member's, any
// year; other years are skipped) by meeting date then id, with totals over current (not
// reversed) entitlements: due, paid, capped (recoveries count negatively in due and, once
// settled by a paid batch, in paid), and what is still to recover. Lines paid to an employer,
// governance indemnities and recoveries are flagged.
struct StatementLine {
  std::string entitlement_id{};
  absl::CivilDay meeting_date{};
  std::string group_id{};
  Cents amount_cents = 0;
  Cents capped_cents = 0;
  EntitlementStatus status = EntitlementStatus::kUnspecified;
  bool paid_to_employer = false;
  EntitlementCategory category = EntitlementCategory::kUnspecified;
  bool recovery = false;
};
struct Statement {
  std::string member_id{};
  int year = 0;
  std::vector<StatementLine> lines{};
  Cents total_due_cents = 0;
  Cents total_paid_cents = 0;
  Cents total_capped_cents = 0;
  Cents annual_ceiling_cents = 0;    // 0 when not recorded
  Cents total_to_recover_cents = 0;  // unsettled recoveries, positive
};
Statement BuildStatement(absl::string_view member_id, int year,
                         const std::vector<Entitlement>& entitlements,
                         const AnnualCeilingTable& ceilings);

}  // namespace cpts::finance
