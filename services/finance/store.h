#pragma once

// Repository interfaces of the finance domain: what the (coming) gRPC handlers need from
// storage. Each method's contract is stated here; the MySQL implementation and the in-memory
// fake for unit tests honour it (mysql_store.h).
//
// Common contracts:
// - Every method is scoped to `tenant_id`; a record of another tenant is NotFound.
// - Writes that move money append their ledger transaction(s) in the same database
//   transaction as the business change, so the journal and the records never disagree. The
//   store validates every transaction with ValidateTransaction before writing it and assigns
//   its id; it never updates or deletes a ledger row.
// - Idempotent writes (AIP-155) take `const IdempotencyKey* key` (nullptr: not idempotent):
//   key unseen for (tenant, scope, request_id) -> the write happens and the key is recorded
//   with the fingerprint and the result's id, in the same transaction; key seen with the same
//   fingerprint -> nothing is written and the first result is returned (`replayed` = true);
//   key seen with another fingerprint -> InvalidArgument("request_id: already used for a
//   different request").
// - Optimistic concurrency: `expected_row_version` (from the etag) mismatch -> Aborted.
// - Writes that decide who is paid what (policies, approvals, bank accounts, batches) append
//   a record to the platform's audit_log in the same transaction ("finance.<resource>.<verb>",
//   actor = the `actor` argument, or the approver); a replay appends nothing.
// - Unavailable when the database cannot be reached (retry), Aborted on deadlock after the
//   transaction helper's retries, Internal otherwise.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/finance/aci.h"
#include "services/finance/annual_cap.h"
#include "services/finance/ledger.h"
#include "services/finance/model.h"

namespace cpts::finance {

struct IdempotencyKey {
  std::string scope{};        // the RPC, e.g. "CreatePaymentBatch"
  std::string request_id{};   // chosen by the client (or the event's idempotency_key)
  std::string fingerprint{};  // hash of the request's payload
};

template <typename T>
struct WriteResult {
  T value{};
  bool replayed = false;  // the key had been seen: `value` is the first result
};

struct Page {
  int page_size = 100;
  std::string page_token{};  // opaque keyset token; empty for the first page
};

// ---------------------------------------------------------------------------------------

class PolicyRepository {
 public:
  virtual ~PolicyRepository() = default;

  // Inserts version 1 of a year's policy, in force. AlreadyExists when the year has one.
  virtual absl::StatusOr<WriteResult<IndemnityPolicy>> CreatePolicy(absl::string_view tenant_id,
                                                                    const IndemnityPolicy& policy,
                                                                    const IdempotencyKey* key,
                                                                    absl::string_view actor) = 0;

  // NotFound when missing.
  virtual absl::StatusOr<IndemnityPolicy> GetPolicy(absl::string_view tenant_id,
                                                    absl::string_view id) = 0;

  // The version in force for `year`, or nullopt (no policy: lines are rated kNoPolicy).
  virtual absl::StatusOr<std::optional<IndemnityPolicy>> PolicyInForce(absl::string_view tenant_id,
                                                                       int year) = 0;

  // Versions by (year, version); `year` 0 = every year.
  virtual absl::StatusOr<std::vector<IndemnityPolicy>> ListPolicies(
      absl::string_view tenant_id, int year, const Page& page, std::string* next_page_token) = 0;

  // Replaces the rating fields of a version. FailedPrecondition when it is frozen; Aborted on
  // a stale row version.
  virtual absl::StatusOr<IndemnityPolicy> UpdatePolicy(absl::string_view tenant_id,
                                                       const IndemnityPolicy& policy,
                                                       int64_t expected_row_version,
                                                       absl::string_view actor) = 0;

  // In one transaction: inserts `revised` as the next version in force (the previous one is
  // no longer in force), and for each re-rated pair reverses the old entitlement (status
  // kReversed, reversal transaction of its ledger transaction) and inserts the replacement
  // with its own transaction. Aborted when the version in force changed since
  // `expected_row_version` or an entitlement's status changed meanwhile.
  struct Rerated {
    std::string old_entitlement_id{};
    Entitlement replacement{};
  };
  virtual absl::StatusOr<WriteResult<IndemnityPolicy>> RevisePolicy(
      absl::string_view tenant_id, const IndemnityPolicy& revised, int64_t expected_row_version,
      const std::vector<Rerated>& rerated, absl::Time now, const IdempotencyKey* key,
      absl::string_view actor) = 0;
};

class CeilingRepository {
 public:
  virtual ~CeilingRepository() = default;
  // Platform-wide (not per tenant): sets or replaces the ceiling of a year.
  virtual absl::Status SetCeiling(int year, Cents ceiling_cents) = 0;
  // Every recorded year.
  virtual absl::StatusOr<AnnualCeilingTable> LoadCeilings() = 0;
};

struct EntitlementFilter {
  int year = 0;  // 0 = every year
  std::string group_id{};
  std::string member_id{};
  std::optional<EntitlementStatus> status{};
  std::optional<EntitlementCategory> category{};
};

class EntitlementRepository {
 public:
  virtual ~EntitlementRepository() = default;

  // Sum of amount_cents of the member's entitlements that count toward the cap
  // (CountsTowardCap) with a meeting date in `year`.
  virtual absl::StatusOr<Cents> YearTotalCents(absl::string_view tenant_id,
                                               absl::string_view member_id, int year) = 0;

  // The entitlement recorded for an attendance event's idempotency key, or nullopt.
  virtual absl::StatusOr<std::optional<Entitlement>> FindByEventKey(
      absl::string_view tenant_id, absl::string_view idempotency_key) = 0;

  // In one transaction, serialised per (tenant, member, year) so two meetings of the same
  // member cannot both use the last room under the cap: inserts the entitlement (unique on
  // (tenant, idempotency_key): a replay returns the first one with replayed = true and writes
  // nothing), appends its ledger transaction when something is due, and freezes the policy
  // that rated it. Aborted when `year_total_cents` used for the cap is no longer the member's
  // total (the caller re-reads and re-rates).
  virtual absl::StatusOr<WriteResult<Entitlement>> RecordEntitlement(absl::string_view tenant_id,
                                                                     const Entitlement& entitlement,
                                                                     Cents year_total_cents,
                                                                     absl::Time now) = 0;

  // As RecordEntitlement, for a governance indemnity recorded by `actor` with a request id:
  // `key` (required) is checked and remembered in the same transaction (a replay returns the
  // first entitlement, another payload under the same key is InvalidArgument), and the
  // record is audited ("finance.entitlement.governance").
  virtual absl::StatusOr<WriteResult<Entitlement>> RecordGovernanceEntitlement(
      absl::string_view tenant_id, const Entitlement& entitlement, Cents year_total_cents,
      absl::Time now, const IdempotencyKey& key, absl::string_view actor) = 0;

  // In one transaction: marks the entitlement kReversed and appends the reversal of its
  // ledger transaction (none when nothing was due); when it had been paid, also inserts its
  // recovery (RecoveryOf, approved, its ledger side being that reversal) for the next batch to
  // withhold. Idempotent by the reversal event's key. FailedPrecondition per CheckReversible;
  // NotFound when the reversed key is unknown.
  virtual absl::StatusOr<WriteResult<Entitlement>> ReverseEntitlement(
      absl::string_view tenant_id, absl::string_view reversed_event_key,
      absl::string_view reversal_event_key, absl::CivilDay value_date, absl::Time now) = 0;

  // Approves all the given pending entitlements or none: FailedPrecondition naming the first
  // that is not pending, NotFound for an unknown id.
  virtual absl::StatusOr<WriteResult<std::vector<Entitlement>>> ApproveEntitlements(
      absl::string_view tenant_id, const std::vector<std::string>& ids, absl::string_view approver,
      absl::Time now, const IdempotencyKey* key) = 0;

  // The entitlements of `ids`, in that order. NotFound naming the first unknown id.
  virtual absl::StatusOr<std::vector<Entitlement>> GetEntitlements(
      absl::string_view tenant_id, const std::vector<std::string>& ids) = 0;

  // Ordered by (meeting_date, id).
  virtual absl::StatusOr<std::vector<Entitlement>> ListEntitlements(
      absl::string_view tenant_id, const EntitlementFilter& filter, const Page& page,
      std::string* next_page_token) = 0;

  // Approved, unbatched, with an amount due, meetings on or before `meetings_until` (nullopt:
  // all), and every approved unbatched recovery whatever its date (a debt is netted at the
  // first chance). Ordered by (payee, id).
  virtual absl::StatusOr<std::vector<Entitlement>> ListPayable(
      absl::string_view tenant_id, std::optional<absl::CivilDay> meetings_until) = 0;
};

class LedgerRepository {
 public:
  virtual ~LedgerRepository() = default;
  // Transactions in the order recorded; `year` 0 = every year; `account` nullopt = all.
  virtual absl::StatusOr<std::vector<LedgerTransaction>> ListTransactions(
      absl::string_view tenant_id, int year, const std::optional<Account>& account,
      const Page& page, std::string* next_page_token) = 0;
  // Sum of entries per account (SUM ... GROUP BY), entries dated up to `as_of` (nullopt: all).
  virtual absl::StatusOr<Balances> GetBalances(absl::string_view tenant_id,
                                               std::optional<absl::CivilDay> as_of) = 0;
};

class PaymentRepository {
 public:
  virtual ~PaymentRepository() = default;

  virtual absl::Status SetBankAccount(absl::string_view tenant_id, const PayeeBankAccount& account,
                                      absl::string_view actor) = 0;
  // NotFound when none is recorded.
  virtual absl::StatusOr<PayeeBankAccount> GetBankAccount(absl::string_view tenant_id,
                                                          absl::string_view member_id) = 0;
  // Accounts of the given payees that have one.
  virtual absl::StatusOr<std::map<std::string, PayeeBankAccount>> GetBankAccounts(
      absl::string_view tenant_id, const std::vector<std::string>& member_ids) = 0;

  // Sets (or replaces) the tenant's own account, audited ("finance.debtor_account.set"), and
  // returns it as stored.
  virtual absl::StatusOr<DebtorAccount> SetDebtorAccount(absl::string_view tenant_id,
                                                         const DebtorAccount& account,
                                                         absl::string_view actor) = 0;
  // nullopt until it is set.
  virtual absl::StatusOr<std::optional<DebtorAccount>> GetDebtorAccount(
      absl::string_view tenant_id) = 0;

  // In one transaction: inserts the draft batch and marks the entitlements of its payable
  // lines kBatched with its id. Aborted when one of them is no longer approved and unbatched;
  // FailedPrecondition when the batch has no line (and the key is not a replay).
  virtual absl::StatusOr<WriteResult<PaymentBatch>> CreateBatch(absl::string_view tenant_id,
                                                                const PaymentBatch& batch,
                                                                const IdempotencyKey* key,
                                                                absl::string_view actor) = 0;

  virtual absl::StatusOr<PaymentBatch> GetBatch(absl::string_view tenant_id,
                                                absl::string_view id) = 0;
  // Newest first; `state` nullopt = all.
  virtual absl::StatusOr<std::vector<PaymentBatch>> ListBatches(absl::string_view tenant_id,
                                                                std::optional<BatchState> state,
                                                                const Page& page,
                                                                std::string* next_page_token) = 0;

  // Writes the batch's new state (approve, export, cancel) and, on cancel, returns the
  // entitlements it held to kApproved. Aborted on a stale row version.
  virtual absl::StatusOr<PaymentBatch> UpdateBatchState(absl::string_view tenant_id,
                                                        const PaymentBatch& batch,
                                                        int64_t expected_row_version,
                                                        absl::string_view actor) = 0;

  // In one transaction: the batch becomes kPaid on `paid_date`, the entitlements it holds
  // become kPaid, and `payment` (PaymentTransaction) is appended. FailedPrecondition when the
  // batch is not exported (after the key check: a replay answers the paid batch); Aborted when
  // its row version is not `batch.row_version`.
  virtual absl::StatusOr<WriteResult<PaymentBatch>> MarkBatchPaid(
      absl::string_view tenant_id, const PaymentBatch& batch, absl::CivilDay paid_date,
      const LedgerTransaction& payment, const IdempotencyKey* key, absl::string_view actor) = 0;
};

class AciRepository {
 public:
  virtual ~AciRepository() = default;

  // AlreadyExists when the tenant has a contract.
  virtual absl::StatusOr<WriteResult<AciContract>> CreateContract(absl::string_view tenant_id,
                                                                  const AciContract& contract,
                                                                  const IdempotencyKey* key) = 0;
  // NotFound when the tenant has none.
  virtual absl::StatusOr<AciContract> GetContract(absl::string_view tenant_id) = 0;

  // Replaces the envelope of (year, kind, mission) and its expected instalments that have
  // received nothing yet; appends kAciExpected transactions for the changes in expected
  // amounts (reversing the previous ones). FailedPrecondition when an instalment whose
  // amount would change was already received.
  virtual absl::Status SetEnvelope(absl::string_view tenant_id, const AciEnvelope& envelope,
                                   const std::vector<AciInstalment>& expected) = 0;
  virtual absl::StatusOr<std::vector<AciEnvelope>> ListEnvelopes(absl::string_view tenant_id,
                                                                 int year) = 0;
  virtual absl::StatusOr<std::vector<AciInstalment>> ListInstalments(absl::string_view tenant_id,
                                                                     int year) = 0;
  // Records money received and appends the kAciReceived transaction.
  virtual absl::StatusOr<WriteResult<AciInstalment>> RecordInstalmentReceived(
      absl::string_view tenant_id, absl::string_view instalment_id, Cents received_cents,
      absl::CivilDay received_date, const IdempotencyKey* key) = 0;

  virtual absl::Status SetAttainment(absl::string_view tenant_id,
                                     const IndicatorAttainment& attainment) = 0;
  virtual absl::StatusOr<std::vector<IndicatorAttainment>> ListAttainments(
      absl::string_view tenant_id, int year) = 0;

  // Creates or updates; Aborted on a stale row version (0 = create).
  virtual absl::StatusOr<ActionBudget> UpsertBudget(absl::string_view tenant_id,
                                                    const ActionBudget& budget,
                                                    int64_t expected_row_version) = 0;
  virtual absl::StatusOr<std::vector<ActionBudget>> ListBudgets(absl::string_view tenant_id,
                                                                int year) = 0;

  // Inserts the expense and appends its kExpense transaction.
  virtual absl::StatusOr<WriteResult<Expense>> RecordExpense(absl::string_view tenant_id,
                                                             const Expense& expense,
                                                             const IdempotencyKey* key) = 0;
  virtual absl::StatusOr<std::vector<Expense>> ListExpenses(absl::string_view tenant_id, int year,
                                                            absl::string_view action_id) = 0;
  // Paid entitlements with a meeting (or work) date in `year` and a positive amount, as report
  // input: what the bank paid for them is what their expense accounts hold once recoveries
  // are settled (a reversed entitlement and its recovery cancel out in the journal).
  virtual absl::StatusOr<std::vector<PaidIndemnity>> ListPaidIndemnities(
      absl::string_view tenant_id, int year) = 0;
};

}  // namespace cpts::finance
