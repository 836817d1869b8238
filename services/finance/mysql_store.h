#pragma once

// The MySQL (MariaDB) implementation of the repositories of store.h, over the schema of
// migrations/ (embedded as cpts::finance::Migrations(), see migrations.h).
//
// How it keeps the contracts of store.h:
// - Every write runs in platform::db::RunInTransaction (retried on deadlock). Rows a write
//   depends on are read FOR UPDATE; updates are `row_version = row_version + 1 WHERE
//   row_version = ?`.
// - Journal transactions are validated (ValidateTransaction), numbered per tenant under the
//   lock of the tenant's `ledger_heads` row (gap-free, commit order) and inserted in the same
//   database transaction as the business change. The ledger tables have triggers that refuse
//   UPDATE and DELETE: nothing here ever updates or deletes a ledger row.
// - RecordEntitlement locks the (tenant, member, year) row of `cap_locks` before summing the
//   member's year total, so two meetings of one member are rated one after the other.
// - Idempotency keys live in `idempotency_keys`, written in the creating transaction; a
//   concurrent insert of the same key makes the loser run again once (it then replays).
// - Audit records (platform::db::AppendAudit) go to the shared audit_log on the same
//   connection: ids and amounts only; a bank account's record names its IBAN's last four
//   characters, never the whole IBAN.
// - Lock order: idempotency key, cap lock, entitlements / batch rows, ledger head.
// This header includes no connector header: only mysql_store.cc sees <cppconn/...>.

#include "services/finance/store.h"
#include "services/platform/core/clock.h"
#include "services/platform/core/ids.h"

namespace cpts::platform::db {
class ConnectionPool;
}  // namespace cpts::platform::db

namespace cpts::finance {

class MysqlFinanceStore final : public PolicyRepository,
                                public CeilingRepository,
                                public EntitlementRepository,
                                public LedgerRepository,
                                public PaymentRepository,
                                public AciRepository {
 public:
  // `pool` connects as the service's application user to a schema migrated with
  // {PlatformMigrations(), Migrations()}; the three must outlive the store. Thread-safe.
  MysqlFinanceStore(platform::db::ConnectionPool& pool, platform::IdGenerator& ids,
                    const platform::Clock& clock)
      : pool_(pool), ids_(ids), clock_(clock) {}
  MysqlFinanceStore(const MysqlFinanceStore&) = delete;
  MysqlFinanceStore& operator=(const MysqlFinanceStore&) = delete;

  // PolicyRepository
  absl::StatusOr<WriteResult<IndemnityPolicy>> CreatePolicy(absl::string_view tenant_id,
                                                            const IndemnityPolicy& policy,
                                                            const IdempotencyKey* key,
                                                            absl::string_view actor) override;
  absl::StatusOr<IndemnityPolicy> GetPolicy(absl::string_view tenant_id,
                                            absl::string_view id) override;
  absl::StatusOr<std::optional<IndemnityPolicy>> PolicyInForce(absl::string_view tenant_id,
                                                               int year) override;
  absl::StatusOr<std::vector<IndemnityPolicy>> ListPolicies(absl::string_view tenant_id, int year,
                                                            const Page& page,
                                                            std::string* next_page_token) override;
  absl::StatusOr<IndemnityPolicy> UpdatePolicy(absl::string_view tenant_id,
                                               const IndemnityPolicy& policy,
                                               int64_t expected_row_version,
                                               absl::string_view actor) override;
  absl::StatusOr<WriteResult<IndemnityPolicy>> RevisePolicy(
      absl::string_view tenant_id, const IndemnityPolicy& revised, int64_t expected_row_version,
      const std::vector<Rerated>& rerated, absl::Time now, const IdempotencyKey* key,
      absl::string_view actor) override;

  // CeilingRepository
  absl::Status SetCeiling(int year, Cents ceiling_cents) override;
  absl::StatusOr<AnnualCeilingTable> LoadCeilings() override;

  // EntitlementRepository
  absl::StatusOr<Cents> YearTotalCents(absl::string_view tenant_id, absl::string_view member_id,
                                       int year) override;
  absl::StatusOr<std::optional<Entitlement>> FindByEventKey(
      absl::string_view tenant_id, absl::string_view idempotency_key) override;
  absl::StatusOr<WriteResult<Entitlement>> RecordEntitlement(absl::string_view tenant_id,
                                                             const Entitlement& entitlement,
                                                             Cents year_total_cents,
                                                             absl::Time now) override;
  absl::StatusOr<WriteResult<Entitlement>> RecordGovernanceEntitlement(
      absl::string_view tenant_id, const Entitlement& entitlement, Cents year_total_cents,
      absl::Time now, const IdempotencyKey& key, absl::string_view actor) override;
  absl::StatusOr<WriteResult<Entitlement>> ReverseEntitlement(absl::string_view tenant_id,
                                                              absl::string_view reversed_event_key,
                                                              absl::string_view reversal_event_key,
                                                              absl::CivilDay value_date,
                                                              absl::Time now) override;
  absl::StatusOr<WriteResult<std::vector<Entitlement>>> ApproveEntitlements(
      absl::string_view tenant_id, const std::vector<std::string>& ids, absl::string_view approver,
      absl::Time now, const IdempotencyKey* key) override;
  absl::StatusOr<std::vector<Entitlement>> GetEntitlements(
      absl::string_view tenant_id, const std::vector<std::string>& ids) override;
  absl::StatusOr<std::vector<Entitlement>> ListEntitlements(absl::string_view tenant_id,
                                                            const EntitlementFilter& filter,
                                                            const Page& page,
                                                            std::string* next_page_token) override;
  absl::StatusOr<std::vector<Entitlement>> ListPayable(
      absl::string_view tenant_id, std::optional<absl::CivilDay> meetings_until) override;

  // LedgerRepository
  absl::StatusOr<std::vector<LedgerTransaction>> ListTransactions(
      absl::string_view tenant_id, int year, const std::optional<Account>& account,
      const Page& page, std::string* next_page_token) override;
  absl::StatusOr<Balances> GetBalances(absl::string_view tenant_id,
                                       std::optional<absl::CivilDay> as_of) override;

  // PaymentRepository
  absl::Status SetBankAccount(absl::string_view tenant_id, const PayeeBankAccount& account,
                              absl::string_view actor) override;
  absl::StatusOr<PayeeBankAccount> GetBankAccount(absl::string_view tenant_id,
                                                  absl::string_view member_id) override;
  absl::StatusOr<std::map<std::string, PayeeBankAccount>> GetBankAccounts(
      absl::string_view tenant_id, const std::vector<std::string>& member_ids) override;
  absl::StatusOr<DebtorAccount> SetDebtorAccount(absl::string_view tenant_id,
                                                 const DebtorAccount& account,
                                                 absl::string_view actor) override;
  absl::StatusOr<std::optional<DebtorAccount>> GetDebtorAccount(
      absl::string_view tenant_id) override;
  absl::StatusOr<WriteResult<PaymentBatch>> CreateBatch(absl::string_view tenant_id,
                                                        const PaymentBatch& batch,
                                                        const IdempotencyKey* key,
                                                        absl::string_view actor) override;
  absl::StatusOr<PaymentBatch> GetBatch(absl::string_view tenant_id, absl::string_view id) override;
  absl::StatusOr<std::vector<PaymentBatch>> ListBatches(absl::string_view tenant_id,
                                                        std::optional<BatchState> state,
                                                        const Page& page,
                                                        std::string* next_page_token) override;
  absl::StatusOr<PaymentBatch> UpdateBatchState(absl::string_view tenant_id,
                                                const PaymentBatch& batch,
                                                int64_t expected_row_version,
                                                absl::string_view actor) override;
  absl::StatusOr<WriteResult<PaymentBatch>> MarkBatchPaid(absl::string_view tenant_id,
                                                          const PaymentBatch& batch,
                                                          absl::CivilDay paid_date,
                                                          const LedgerTransaction& payment,
                                                          const IdempotencyKey* key,
                                                          absl::string_view actor) override;

  // AciRepository
  absl::StatusOr<WriteResult<AciContract>> CreateContract(absl::string_view tenant_id,
                                                          const AciContract& contract,
                                                          const IdempotencyKey* key) override;
  absl::StatusOr<AciContract> GetContract(absl::string_view tenant_id) override;
  absl::Status SetEnvelope(absl::string_view tenant_id, const AciEnvelope& envelope,
                           const std::vector<AciInstalment>& expected) override;
  absl::StatusOr<std::vector<AciEnvelope>> ListEnvelopes(absl::string_view tenant_id,
                                                         int year) override;
  absl::StatusOr<std::vector<AciInstalment>> ListInstalments(absl::string_view tenant_id,
                                                             int year) override;
  absl::StatusOr<WriteResult<AciInstalment>> RecordInstalmentReceived(
      absl::string_view tenant_id, absl::string_view instalment_id, Cents received_cents,
      absl::CivilDay received_date, const IdempotencyKey* key) override;
  absl::Status SetAttainment(absl::string_view tenant_id,
                             const IndicatorAttainment& attainment) override;
  absl::StatusOr<std::vector<IndicatorAttainment>> ListAttainments(absl::string_view tenant_id,
                                                                   int year) override;
  absl::StatusOr<ActionBudget> UpsertBudget(absl::string_view tenant_id, const ActionBudget& budget,
                                            int64_t expected_row_version) override;
  absl::StatusOr<std::vector<ActionBudget>> ListBudgets(absl::string_view tenant_id,
                                                        int year) override;
  absl::StatusOr<WriteResult<Expense>> RecordExpense(absl::string_view tenant_id,
                                                     const Expense& expense,
                                                     const IdempotencyKey* key) override;
  absl::StatusOr<std::vector<Expense>> ListExpenses(absl::string_view tenant_id, int year,
                                                    absl::string_view action_id) override;
  absl::StatusOr<std::vector<PaidIndemnity>> ListPaidIndemnities(absl::string_view tenant_id,
                                                                 int year) override;

 private:
  platform::db::ConnectionPool& pool_;
  platform::IdGenerator& ids_;
  const platform::Clock& clock_;
};

}  // namespace cpts::finance
