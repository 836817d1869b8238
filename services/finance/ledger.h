#pragma once

// The double-entry journal. Every business event that moves money is one balanced
// transaction (entries sum to zero; debits positive, credits negative); the journal is
// append-only, a correction is a transaction that reverses an earlier one entry by entry, and
// every balance is derived from the entries, never stored on its own.
//
//   entitlement due     Dr indemnity expense (action)    Cr payable (payee)
//   batch paid          Dr payable (payee), per line     Cr bank
//                       (a line's net: its recoveries were debited by their reversal)
//   expense             Dr operating expense (action)    Cr bank
//   ACI expected        Dr ACI receivable (mission)      Cr ACI income (mission)
//   ACI received        Dr bank                          Cr ACI receivable (mission)

#include <map>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/finance/model.h"

namespace cpts::finance {

using Balances = std::map<Account, Cents>;

// Checks one transaction: a kind, at least two entries, no zero entry, every account of a
// known kind with a key when the kind needs one (expenses: action; payable: payee), |amount|
// <= 10^12 cents, and entries summing to zero. InvalidArgument naming what is wrong.
absl::Status ValidateTransaction(const LedgerTransaction& txn);

// Dr indemnity expense of the action / Cr payable of the payee, for the amount due, dated on
// the meeting day. InvalidArgument when nothing is due or no payee is named.
absl::StatusOr<LedgerTransaction> EntitlementTransaction(const Entitlement& entitlement);

// The exact opposite of `original` (same accounts, negated amounts), kind kReversal,
// reverses_id = original.id, dated `value_date`. InvalidArgument when `original` has no id
// or is itself invalid; FailedPrecondition when it is a reversal (reverse the reversed
// transaction's replacement instead).
absl::StatusOr<LedgerTransaction> ReversalOf(const LedgerTransaction& original,
                                             absl::CivilDay value_date);

// Dr payable of each payee of the batch's payable lines / Cr bank for their total, dated on
// the payment day. FailedPrecondition when no line is payable.
absl::StatusOr<LedgerTransaction> PaymentTransaction(const PaymentBatch& batch,
                                                     absl::CivilDay paid_date);

// Dr operating expense of the action / Cr bank.
absl::StatusOr<LedgerTransaction> ExpenseTransaction(const Expense& expense);

// ACI instalment expected (Dr receivable / Cr income) or received (Dr bank / Cr receivable).
absl::StatusOr<LedgerTransaction> AciExpectedTransaction(const AciInstalment& instalment);
absl::StatusOr<LedgerTransaction> AciReceivedTransaction(const AciInstalment& instalment,
                                                         Cents received_cents,
                                                         absl::CivilDay received_date);

// Balances of every account moved by `journal` (accounts that net to zero included).
Balances ComputeBalances(std::span<const LedgerTransaction> journal);

// Checks a whole journal: every transaction valid, ids present and unique, every reversal
// names an earlier transaction of the journal, is its exact opposite, and no transaction is
// reversed twice; the balances sum to zero. InvalidArgument / FailedPrecondition naming the
// first violation. Meant for tests and for an integrity check of a stored journal.
absl::Status VerifyJournal(std::span<const LedgerTransaction> journal);

}  // namespace cpts::finance
