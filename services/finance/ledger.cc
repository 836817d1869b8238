#include "services/finance/ledger.h"

#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "services/finance/validators.h"

namespace cpts::finance {
namespace {

constexpr Cents kMaxEntryCents = 1'000'000'000'000;

bool KeyRequired(AccountKind kind) {
  return kind == AccountKind::kIndemnityExpense || kind == AccountKind::kPayable ||
         kind == AccountKind::kOperatingExpense;
}

bool KeyForbidden(AccountKind kind) {
  return kind == AccountKind::kBank || kind == AccountKind::kSupplierPayable;
}

LedgerTransaction Simple(TransactionKind kind, absl::CivilDay day, std::string description,
                         Account debit, Account credit, Cents cents, std::string source_id,
                         std::string tenant_id) {
  LedgerTransaction t;
  t.tenant_id = std::move(tenant_id);
  t.kind = kind;
  t.value_date = day;
  t.description = std::move(description);
  t.entries = {LedgerEntry{.account = std::move(debit), .amount_cents = cents},
               LedgerEntry{.account = std::move(credit), .amount_cents = -cents}};
  t.source_id = std::move(source_id);
  return t;
}

std::string MissionKey(const AciInstalment& i) {
  return i.envelope_kind == EnvelopeKind::kMission ? i.mission_id : std::string();
}

}  // namespace

absl::Status ValidateTransaction(const LedgerTransaction& txn) {
  if (txn.kind == TransactionKind::kUnspecified) return FieldError("transaction.kind", "required");
  if (txn.entries.size() < 2) {
    return FieldError("transaction.entries", "a transaction has at least two entries");
  }
  Cents sum = 0;
  for (std::size_t i = 0; i < txn.entries.size(); ++i) {
    const LedgerEntry& e = txn.entries[i];
    const std::string field = absl::StrCat("transaction.entries[", i, "]");
    if (e.account.kind == AccountKind::kUnspecified) {
      return FieldError(field, "account kind required");
    }
    if (KeyRequired(e.account.kind) && e.account.key.empty()) {
      return FieldError(field, "account key required for this kind");
    }
    if (KeyForbidden(e.account.kind) && !e.account.key.empty()) {
      return FieldError(field, "this account kind takes no key");
    }
    if (e.amount_cents == 0) return FieldError(field, "zero entry");
    if (e.amount_cents > kMaxEntryCents || e.amount_cents < -kMaxEntryCents) {
      return FieldError(field, "amount out of range");
    }
    sum += e.amount_cents;  // bounded: at most size x 10^12
  }
  if (sum != 0) {
    return FieldError("transaction.entries",
                      absl::StrCat("entries sum to ", sum, " cents, not zero"));
  }
  return absl::OkStatus();
}

absl::StatusOr<LedgerTransaction> EntitlementTransaction(const Entitlement& e) {
  if (e.amount_cents <= 0) return FieldError("entitlement.amount_cents", "nothing is due");
  if (e.payee.member_id.empty()) return FieldError("entitlement.payee", "no payee");
  if (e.action_id.empty()) return FieldError("entitlement.action_id", "required");
  LedgerTransaction t =
      Simple(TransactionKind::kEntitlement, e.meeting_date,
             e.category == EntitlementCategory::kIndemnity
                 ? absl::StrCat("Governance indemnity member ", e.member_id)
                 : absl::StrCat("Indemnity meeting ", e.meeting_id, " member ", e.member_id),
             Account{.kind = AccountKind::kIndemnityExpense, .key = e.action_id},
             Account{.kind = AccountKind::kPayable, .key = e.payee.member_id}, e.amount_cents, e.id,
             e.tenant_id);
  if (auto s = ValidateTransaction(t); !s.ok()) return s;
  return t;
}

absl::StatusOr<LedgerTransaction> ReversalOf(const LedgerTransaction& original,
                                             absl::CivilDay value_date) {
  if (original.id.empty()) return FieldError("transaction.id", "required");
  if (original.kind == TransactionKind::kReversal) {
    return absl::FailedPreconditionError(
        absl::StrCat("transaction ", original.id, " is a reversal; it is not reversed again"));
  }
  if (auto s = ValidateTransaction(original); !s.ok()) return s;
  LedgerTransaction t;
  t.tenant_id = original.tenant_id;
  t.kind = TransactionKind::kReversal;
  t.value_date = value_date;
  t.description = absl::StrCat("Reversal of ", original.id);
  t.reverses_id = original.id;
  t.source_id = original.source_id;
  t.entries.reserve(original.entries.size());
  for (const LedgerEntry& e : original.entries) {
    t.entries.push_back(LedgerEntry{.account = e.account, .amount_cents = -e.amount_cents});
  }
  return t;
}

absl::StatusOr<LedgerTransaction> PaymentTransaction(const PaymentBatch& batch,
                                                     absl::CivilDay paid_date) {
  LedgerTransaction t;
  t.tenant_id = batch.tenant_id;
  t.kind = TransactionKind::kPayment;
  t.value_date = paid_date;
  t.description = absl::StrCat("Payment batch ", batch.id);
  t.source_id = batch.id;
  Cents total = 0;
  for (const BatchLine& line : batch.lines) {
    if (line.blocked) continue;
    if (line.amount_cents <= 0) {
      return FieldError("batch.lines",
                        absl::StrCat("payee ", line.payee_member_id, ": amount must be positive"));
    }
    t.entries.push_back(
        LedgerEntry{.account = Account{.kind = AccountKind::kPayable, .key = line.payee_member_id},
                    .amount_cents = line.amount_cents});
    total += line.amount_cents;
  }
  if (total == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("payment batch ", batch.id, " has no payable line"));
  }
  t.entries.push_back(
      LedgerEntry{.account = Account{.kind = AccountKind::kBank}, .amount_cents = -total});
  if (auto s = ValidateTransaction(t); !s.ok()) return s;
  return t;
}

absl::StatusOr<LedgerTransaction> ExpenseTransaction(const Expense& expense) {
  if (auto s = ValidateExpense(expense); !s.ok()) return s;
  return Simple(TransactionKind::kExpense, expense.expense_date,
                absl::StrCat("Expense ", expense.supplier, " ", expense.reference),
                Account{.kind = AccountKind::kOperatingExpense, .key = expense.action_id},
                Account{.kind = AccountKind::kBank}, expense.amount_cents, expense.id,
                expense.tenant_id);
}

absl::StatusOr<LedgerTransaction> AciExpectedTransaction(const AciInstalment& i) {
  if (i.expected_cents <= 0) return FieldError("instalment.expected_cents", "nothing expected");
  return Simple(TransactionKind::kAciExpected, i.due_date,
                absl::StrCat("ACI ", i.year, " expected"),
                Account{.kind = AccountKind::kAciReceivable, .key = MissionKey(i)},
                Account{.kind = AccountKind::kAciIncome, .key = MissionKey(i)}, i.expected_cents,
                i.id, std::string());
}

absl::StatusOr<LedgerTransaction> AciReceivedTransaction(const AciInstalment& i,
                                                         Cents received_cents,
                                                         absl::CivilDay received_date) {
  if (auto s = ValidateAmount(received_cents, "received_cents", true); !s.ok()) return s;
  return Simple(TransactionKind::kAciReceived, received_date,
                absl::StrCat("ACI ", i.year, " received"), Account{.kind = AccountKind::kBank},
                Account{.kind = AccountKind::kAciReceivable, .key = MissionKey(i)}, received_cents,
                i.id, std::string());
}

Balances ComputeBalances(std::span<const LedgerTransaction> journal) {
  Balances balances;
  for (const LedgerTransaction& t : journal) {
    for (const LedgerEntry& e : t.entries) balances[e.account] += e.amount_cents;
  }
  return balances;
}

absl::Status VerifyJournal(std::span<const LedgerTransaction> journal) {
  absl::flat_hash_map<std::string, const LedgerTransaction*> by_id;
  absl::flat_hash_set<std::string> reversed;
  for (const LedgerTransaction& t : journal) {
    if (t.id.empty()) return FieldError("transaction.id", "required");
    if (auto s = ValidateTransaction(t); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("transaction ", t.id, ": ", s.message()));
    }
    if (t.kind == TransactionKind::kReversal) {
      auto it = by_id.find(t.reverses_id);
      if (it == by_id.end()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "transaction ", t.id, " reverses ", t.reverses_id, ", not an earlier transaction"));
      }
      if (!reversed.insert(t.reverses_id).second) {
        return absl::FailedPreconditionError(
            absl::StrCat("transaction ", t.reverses_id, " is reversed twice"));
      }
      const LedgerTransaction& orig = *it->second;
      bool opposite = orig.entries.size() == t.entries.size();
      for (std::size_t i = 0; opposite && i < t.entries.size(); ++i) {
        opposite = t.entries[i].account == orig.entries[i].account &&
                   t.entries[i].amount_cents == -orig.entries[i].amount_cents;
      }
      if (!opposite) {
        return absl::FailedPreconditionError(
            absl::StrCat("transaction ", t.id, " is not the exact opposite of ", t.reverses_id));
      }
    }
    if (!by_id.emplace(t.id, &t).second) {
      return absl::FailedPreconditionError(absl::StrCat("duplicate transaction id ", t.id));
    }
  }
  Cents total = 0;
  for (const auto& [account, cents] : ComputeBalances(journal)) total += cents;
  if (total != 0) {
    return absl::FailedPreconditionError(absl::StrCat("balances sum to ", total, " cents"));
  }
  return absl::OkStatus();
}

}  // namespace cpts::finance
