#pragma once

// The finance application: what every RPC of cpts.finance.v1.FinanceService does, in domain
// types, on the repositories of store.h, the membership directory (who is a member, up to
// date, paid directly or through an employer on a meeting's day), a clock and an id
// generator. The gRPC handlers (service.h) check the caller's roles before calling in; this
// class checks what the roles cannot express (the caller's tenant, the member's own data) and
// validates every input.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/finance/aci.h"
#include "services/finance/model.h"
#include "services/finance/rating.h"
#include "services/finance/store.h"
#include "services/membership/client/member_directory.h"
#include "services/platform/auth/principal.h"
#include "services/platform/core/clock.h"
#include "services/platform/core/ids.h"

namespace cpts::finance {

// `{}` defaults: designated initializers.
struct FinanceDeps {
  PolicyRepository& policies;
  CeilingRepository& ceilings;
  EntitlementRepository& entitlements;
  LedgerRepository& ledger;
  PaymentRepository& payments;
  AciRepository& aci;
  membership::client::MemberDirectory& directory;
  const platform::Clock& clock;
  platform::IdGenerator& ids;
};

// The etag of a row version, and back (empty = no check, 0).
std::string Etag(int64_t row_version);
absl::StatusOr<int64_t> ParseEtag(absl::string_view etag, absl::string_view field);

// Which policy fields an UpdateIndemnityPolicy sets (its update_mask).
struct PolicyMask {
  bool kind = false;
  bool member_amount_cents = false;
  bool referent_amount_cents = false;
  bool member_millipoints_per_hour = false;
  bool referent_millipoints_per_hour = false;
  bool point_value_cents = false;
  bool decision_reference = false;
};

struct RevisedPolicy {
  IndemnityPolicy policy{};
  int rerated_count = 0;
  int paid_skipped_count = 0;
};

struct EntitlementPage {
  std::vector<Entitlement> entitlements{};
  std::string next_page_token{};
};

struct TransactionPage {
  std::vector<LedgerTransaction> transactions{};
  std::string next_page_token{};
};

struct BatchPage {
  std::vector<PaymentBatch> batches{};
  std::string next_page_token{};
};

enum class ExportFormat { kUnspecified, kSepaPain001, kCsv, kJson };

struct ExportedFile {
  std::string file_name{};
  std::string content_type{};
  std::string content{};
};

struct EnvelopeResult {
  AciEnvelope envelope{};
  Cents variable_earned_cents = 0;
  std::vector<AciInstalment> instalments{};
};

// An action's budget with what was spent against it (expenses and paid indemnities).
struct BudgetView {
  ActionBudget budget{};
  Cents spent_cents = 0;        // expenses + paid indemnities
  Cents indemnities_cents = 0;  // paid indemnities
  Cents remaining_cents = 0;    // allocated - committed - spent
};

// Which budget fields an UpdateActionBudget sets.
struct BudgetMask {
  bool mission_id = false;
  bool allocated_cents = false;
  bool committed_cents = false;
};

class Finance {
 public:
  explicit Finance(FinanceDeps deps) : d_(deps) {}

  // --- policies and ceilings ---
  absl::StatusOr<IndemnityPolicy> CreatePolicy(const platform::auth::Principal& caller,
                                               IndemnityPolicy policy,
                                               absl::string_view request_id);
  absl::StatusOr<IndemnityPolicy> GetPolicy(const platform::auth::Principal& caller,
                                            absl::string_view id);
  absl::StatusOr<std::vector<IndemnityPolicy>> ListPolicies(const platform::auth::Principal& caller,
                                                            int year, const Page& page,
                                                            std::string* next_page_token);
  absl::StatusOr<IndemnityPolicy> UpdatePolicy(const platform::auth::Principal& caller,
                                               const IndemnityPolicy& changes,
                                               const PolicyMask& mask, absl::string_view etag);
  absl::StatusOr<RevisedPolicy> RevisePolicy(const platform::auth::Principal& caller,
                                             IndemnityPolicy revised, absl::string_view etag,
                                             absl::string_view request_id);
  absl::Status SetCeiling(int year, Cents ceiling_cents);
  absl::StatusOr<AnnualCeilingTable> ListCeilings();

  // --- attendance and entitlements ---
  struct Recorded {
    Entitlement entitlement{};
    bool replayed = false;
  };
  // Rates one attendance line of the caller's tenant (see the RPC's contract).
  absl::StatusOr<Recorded> RecordAttendance(const platform::auth::Principal& caller,
                                            const AttendanceLine& line);
  // The caller's own statement (the caller's member id, from the token).
  absl::StatusOr<Statement> GetMyStatement(const platform::auth::Principal& caller, int year);
  absl::StatusOr<EntitlementPage> ListEntitlements(const platform::auth::Principal& caller,
                                                   const EntitlementFilter& filter,
                                                   const Page& page);
  absl::StatusOr<std::vector<Entitlement>> ApproveEntitlements(
      const platform::auth::Principal& caller, const std::vector<std::string>& ids,
      absl::string_view request_id);
  // Records a governance indemnity (see the RPC's contract); the claim's tenant is the
  // caller's.
  absl::StatusOr<Recorded> RecordGovernanceIndemnity(const platform::auth::Principal& caller,
                                                     GovernanceClaim claim);

  // --- ledger ---
  absl::StatusOr<TransactionPage> ListTransactions(const platform::auth::Principal& caller,
                                                   int year, const std::optional<Account>& account,
                                                   const Page& page);
  absl::StatusOr<Balances> GetBalances(const platform::auth::Principal& caller,
                                       std::optional<absl::CivilDay> as_of, AccountKind kind);

  // --- bank accounts and batches ---
  // A payee's account; the tenant id is refused (the CPTS's own is its debtor account).
  absl::StatusOr<PayeeBankAccount> SetBankAccount(const platform::auth::Principal& caller,
                                                  PayeeBankAccount account);
  absl::StatusOr<PayeeBankAccount> GetBankAccount(const platform::auth::Principal& caller,
                                                  absl::string_view member_id);
  // The CPTS's own account, the debtor of its pain.001 files. Get: NotFound until set.
  absl::StatusOr<DebtorAccount> SetDebtorAccount(const platform::auth::Principal& caller,
                                                 DebtorAccount account);
  absl::StatusOr<DebtorAccount> GetDebtorAccount(const platform::auth::Principal& caller);
  absl::StatusOr<PaymentBatch> CreateBatch(const platform::auth::Principal& caller,
                                           const PaymentBatch& batch,
                                           std::optional<absl::CivilDay> meetings_until,
                                           absl::string_view request_id);
  absl::StatusOr<PaymentBatch> GetBatch(const platform::auth::Principal& caller,
                                        absl::string_view id);
  absl::StatusOr<BatchPage> ListBatches(const platform::auth::Principal& caller,
                                        std::optional<BatchState> state, const Page& page);
  absl::StatusOr<PaymentBatch> ApproveBatch(const platform::auth::Principal& caller,
                                            absl::string_view id, absl::string_view etag);
  absl::StatusOr<PaymentBatch> CancelBatch(const platform::auth::Principal& caller,
                                           absl::string_view id, absl::string_view etag);
  absl::StatusOr<ExportedFile> ExportBatch(const platform::auth::Principal& caller,
                                           absl::string_view id, ExportFormat format);
  absl::StatusOr<PaymentBatch> MarkBatchPaid(const platform::auth::Principal& caller,
                                             absl::string_view id, absl::CivilDay paid_date,
                                             absl::string_view request_id);

  // --- ACI ---
  absl::StatusOr<AciContract> CreateContract(const platform::auth::Principal& caller,
                                             AciContract contract, absl::string_view request_id);
  absl::StatusOr<AciContract> GetContract(const platform::auth::Principal& caller);
  absl::StatusOr<EnvelopeResult> SetEnvelope(const platform::auth::Principal& caller,
                                             const AciEnvelope& envelope);
  absl::StatusOr<std::vector<EnvelopeResult>> ListEnvelopes(const platform::auth::Principal& caller,
                                                            int year);
  absl::StatusOr<IndicatorAttainment> SetAttainment(const platform::auth::Principal& caller,
                                                    const IndicatorAttainment& attainment);
  absl::StatusOr<std::vector<AciInstalment>> ListInstalments(
      const platform::auth::Principal& caller, int year);
  absl::StatusOr<AciInstalment> RecordInstalmentReceived(const platform::auth::Principal& caller,
                                                         absl::string_view id, Cents received_cents,
                                                         absl::CivilDay received_date,
                                                         absl::string_view request_id);
  absl::StatusOr<BudgetView> UpdateBudget(const platform::auth::Principal& caller,
                                          const ActionBudget& changes, const BudgetMask& mask,
                                          absl::string_view etag);
  // Pages of these two read the year's rows (a few hundred at most) and cut them by keyset:
  // budgets after the token's action id, expenses after its (date, id).
  absl::StatusOr<std::vector<BudgetView>> ListBudgets(const platform::auth::Principal& caller,
                                                      int year, absl::string_view mission_id,
                                                      const Page& page,
                                                      std::string* next_page_token);
  absl::StatusOr<Expense> RecordExpense(const platform::auth::Principal& caller, Expense expense,
                                        absl::string_view request_id);
  absl::StatusOr<std::vector<Expense>> ListExpenses(const platform::auth::Principal& caller,
                                                    int year, absl::string_view action_id,
                                                    const Page& page, std::string* next_page_token);
  absl::StatusOr<AciReport> GetAciReport(const platform::auth::Principal& caller, int year);
  absl::StatusOr<ExportedFile> ExportAciReport(const platform::auth::Principal& caller, int year,
                                               ExportFormat format);

 private:
  absl::StatusOr<std::optional<MemberFacts>> FactsOn(absl::string_view tenant_id,
                                                     absl::string_view member_id,
                                                     absl::CivilDay day);
  absl::StatusOr<int> MissionAttainment(absl::string_view tenant_id, int year,
                                        absl::string_view mission_id);
  absl::StatusOr<std::vector<BudgetView>> BudgetViews(absl::string_view tenant_id, int year);

  FinanceDeps d_;
};

}  // namespace cpts::finance
