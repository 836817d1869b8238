#pragma once

// Payment batches: approved entitlements grouped by payee, each payee's line checked for a
// valid bank account, and the batch's workflow draft -> approved -> exported -> paid (a draft
// or approved batch may be cancelled). A payee without a valid IBAN blocks only their own
// line: a blocked line is shown in the batch, not exported nor paid, and its entitlements stay
// approved for a later batch.
//
// Netting. When a paid entitlement is reversed, its payee owes the amount back: a recovery
// (RecoveryOf, a negative entitlement, approved when recorded) is withheld from that payee's
// next payment. A batch line nets all of a payee's approved entitlements, recoveries included:
// a positive net is transferred; a net of zero or less is never a (negative) transfer, the
// line is blocked with the amounts as its reason and everything in it is carried to a later
// batch. The journal needs nothing more: the reversal already debited the payee's payable
// account, and paying the net clears it.

#include <map>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/finance/model.h"

namespace cpts::finance {

enum class BatchAction { kApprove, kExport, kMarkPaid, kCancel };

// The state after `action`, or FailedPrecondition naming the state and the action.
// Approve: draft -> approved. Export: approved or exported -> exported (re-export allowed).
// MarkPaid: exported -> paid. Cancel: draft or approved -> cancelled (an exported file may
// already be at the bank).
absl::StatusOr<BatchState> NextBatchState(BatchState from, BatchAction action);

// Groups entitlements into one line per payee (lines by payee member id, entitlement ids
// sorted), with the payee's name and bank account from `accounts` (keyed by member id) and
// end-to-end ids "L<n>-<batch id>" (at most 35 characters). A line's amount is the payee's net
// (positive amounts minus recoveries, recovered_cents); a net of zero or less blocks the line
// ("carried to a later batch: ..."), whatever the account. A payee without an account, or
// whose IBAN or BIC is invalid, gets a blocked line with the reason. Every entitlement must
// be approved, unbatched, with a non-zero amount and a payee (FailedPrecondition naming the
// first that is not); duplicates are InvalidArgument; none at all is FailedPrecondition.
absl::StatusOr<std::vector<BatchLine>> BuildBatchLines(
    absl::string_view batch_id, std::span<const Entitlement> entitlements,
    const std::map<std::string, PayeeBankAccount>& accounts);

// The recovery of `paid`, a paid entitlement being reversed: its negative (amount and rated
// amount), same payee, member, meeting and category, supersedes_id = paid.id, key
// "<paid key>/recovery", status kApproved (it only ever reduces a payment), nothing capped.
// Ids and times are left to the store. FailedPrecondition unless `paid` is kPaid with an
// amount due.
absl::StatusOr<Entitlement> RecoveryOf(const Entitlement& paid);

// Totals over payable (not blocked) lines.
Cents PayableTotal(const PaymentBatch& batch);
int PayableLineCount(const PaymentBatch& batch);
int BlockedLineCount(const PaymentBatch& batch);

// The entitlements the batch holds (those of payable lines), sorted.
std::vector<std::string> HeldEntitlementIds(const PaymentBatch& batch);

// Approval check beyond the state: FailedPrecondition when no line is payable.
absl::Status CheckApprovable(const PaymentBatch& batch);

// The accountant's CSV: a header, then one row per entitlement of every line, in line order:
// batch_id, payee_member_id, payee_name, iban, end_to_end_id, entitlement_id, meeting_id,
// meeting_date, member_id, action_id, amount_eur (negative for a recovery), line_status
// ("payable" or "blocked: ..."), category ("remuneration", "indemnity" or "recovery").
// InvalidArgument when a line names an entitlement missing from `entitlements`.
absl::StatusOr<std::string> BatchCsv(const PaymentBatch& batch,
                                     std::span<const Entitlement> entitlements);

}  // namespace cpts::finance
