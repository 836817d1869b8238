#include "services/finance/mysql_store.h"

#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "services/finance/batch.h"
#include "services/finance/ledger.h"
#include "services/finance/rating.h"
#include "services/platform/core/status_macros.h"
#include "services/platform/db/audit_log.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/idempotency.h"
#include "services/platform/db/sql_errors.h"
#include "services/platform/db/sql_values.h"
#include "services/platform/db/transaction.h"

namespace cpts::finance {
namespace {

using platform::db::Binder;
using platform::db::IsFinite;
using platform::db::RowReader;

using platform::db::Connection;
using platform::db::ConnectionPool;
using platform::db::MapSqlException;
using platform::db::NotFound;
using platform::db::RunInTransaction;

// =========================================================================================
// SQL. Every statement is a named constant with `?` for every value. Optional criteria are
// written `(? = 0 OR ...)` / `(? IS NULL OR ...)` so that one text serves every request.
// =========================================================================================

// --- policies and ceilings -----------------------------------------------------------------

#define CPTS_POLICY_COLUMNS                                                         \
  "id, year, version, kind, member_amount_cents, referent_amount_cents, "           \
  "member_millipoints_per_hour, referent_millipoints_per_hour, point_value_cents, " \
  "decision_reference, frozen, in_force, create_time, update_time, row_version"

constexpr std::string_view kSelectPolicy =
    "SELECT " CPTS_POLICY_COLUMNS " FROM indemnity_policies WHERE tenant_id = ? AND id = ?";
constexpr std::string_view kSelectPolicyForUpdate = "SELECT " CPTS_POLICY_COLUMNS
                                                    " FROM indemnity_policies"
                                                    " WHERE tenant_id = ? AND id = ? FOR UPDATE";
constexpr std::string_view kSelectPolicyInForce = "SELECT " CPTS_POLICY_COLUMNS
                                                  " FROM indemnity_policies"
                                                  " WHERE tenant_id = ? AND year = ? AND in_force"
                                                  " ORDER BY version DESC LIMIT 1";
constexpr std::string_view kSelectPolicyInForceForUpdate =
    "SELECT " CPTS_POLICY_COLUMNS
    " FROM indemnity_policies WHERE tenant_id = ? AND year = ? AND in_force"
    " ORDER BY version DESC LIMIT 1 FOR UPDATE";
constexpr std::string_view kSelectAnyPolicyOfYearForUpdate = R"sql(
SELECT id FROM indemnity_policies WHERE tenant_id = ? AND year = ? LIMIT 1 FOR UPDATE)sql";
// Parameters: tenant, year twice (0 = every year), after (year, version) as year, year,
// version.
constexpr std::string_view kListPolicies =
    "SELECT " CPTS_POLICY_COLUMNS
    " FROM indemnity_policies WHERE tenant_id = ? AND (? = 0 OR year = ?)"
    " AND (year > ? OR (year = ? AND version > ?)) ORDER BY year, version LIMIT ?";
#undef CPTS_POLICY_COLUMNS

constexpr std::string_view kInsertPolicy = R"sql(
INSERT INTO indemnity_policies (tenant_id, id, year, version, kind, member_amount_cents,
                                referent_amount_cents, member_millipoints_per_hour,
                                referent_millipoints_per_hour, point_value_cents,
                                decision_reference, frozen, in_force, create_time, update_time,
                                row_version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1))sql";

constexpr std::string_view kUpdatePolicyFields = R"sql(
UPDATE indemnity_policies
SET kind = ?, member_amount_cents = ?, referent_amount_cents = ?,
    member_millipoints_per_hour = ?, referent_millipoints_per_hour = ?, point_value_cents = ?,
    decision_reference = ?, update_time = ?, row_version = row_version + 1
WHERE tenant_id = ? AND id = ? AND row_version = ?)sql";

constexpr std::string_view kRetirePolicy = R"sql(
UPDATE indemnity_policies SET in_force = FALSE, update_time = ?, row_version = row_version + 1
WHERE tenant_id = ? AND id = ?)sql";

constexpr std::string_view kFreezePolicy = R"sql(
UPDATE indemnity_policies SET frozen = TRUE, row_version = row_version + 1
WHERE tenant_id = ? AND id = ? AND NOT frozen)sql";

constexpr std::string_view kUpsertCeiling = R"sql(
INSERT INTO annual_ceilings (tenant_id, year, ceiling_cents, update_time) VALUES ('', ?, ?, ?)
ON DUPLICATE KEY UPDATE ceiling_cents = VALUES(ceiling_cents),
                        update_time = VALUES(update_time))sql";

constexpr std::string_view kListCeilings = R"sql(
SELECT year, ceiling_cents FROM annual_ceilings WHERE tenant_id = '' ORDER BY year)sql";

// --- entitlements ----------------------------------------------------------------------------

#define CPTS_ENTITLEMENT_COLUMNS                                                             \
  "id, idempotency_key, meeting_id, group_id, action_id, participant_id, member_id, "        \
  "meeting_date, sheet_version, role, minutes_worked, category, policy_id, rated_cents, "    \
  "capped_cents, amount_cents, ineligible_reason, cap_reason, payee_type, payee_member_id, " \
  "payee_convention_id, status, supersedes_id, batch_id, approved_by, approve_time, "        \
  "create_time, row_version, transaction_id, governance_body, reason"

constexpr std::string_view kSelectEntitlement =
    "SELECT " CPTS_ENTITLEMENT_COLUMNS " FROM entitlements WHERE tenant_id = ? AND id = ?";
constexpr std::string_view kSelectEntitlementForUpdate =
    "SELECT " CPTS_ENTITLEMENT_COLUMNS
    " FROM entitlements WHERE tenant_id = ? AND id = ? FOR UPDATE";
constexpr std::string_view kSelectEntitlementByKey =
    "SELECT " CPTS_ENTITLEMENT_COLUMNS
    " FROM entitlements WHERE tenant_id = ? AND idempotency_key = ?";
constexpr std::string_view kSelectEntitlementByKeyForUpdate =
    "SELECT " CPTS_ENTITLEMENT_COLUMNS
    " FROM entitlements WHERE tenant_id = ? AND idempotency_key = ? FOR UPDATE";
// The replacement of a re-rated entitlement (a recovery supersedes what it recovers, but is
// not its replacement).
constexpr std::string_view kSelectReplacementForUpdate =
    "SELECT " CPTS_ENTITLEMENT_COLUMNS
    " FROM entitlements WHERE tenant_id = ? AND supersedes_id = ? AND amount_cents >= 0"
    " FOR UPDATE";
// Parameters: tenant, year (0 = all), year start, year end, group twice ('' = all), member
// twice, status twice (0 = all), category twice (0 = all), after (meeting_date, id) as date,
// date, id, limit.
constexpr std::string_view kListEntitlements =
    "SELECT " CPTS_ENTITLEMENT_COLUMNS
    " FROM entitlements WHERE tenant_id = ?"
    " AND (? = 0 OR (meeting_date >= ? AND meeting_date < ?))"
    " AND (? = '' OR group_id = ?) AND (? = '' OR member_id = ?) AND (? = 0 OR status = ?)"
    " AND (? = 0 OR category = ?)"
    " AND (meeting_date > ? OR (meeting_date = ? AND id > ?))"
    " ORDER BY meeting_date, id LIMIT ?";
// Recoveries (negative) are listed whatever their date. Parameters: tenant, approved status,
// meetings_until twice (NULL = all).
constexpr std::string_view kListPayable =
    "SELECT " CPTS_ENTITLEMENT_COLUMNS
    " FROM entitlements WHERE tenant_id = ? AND status = ? AND batch_id = ''"
    " AND amount_cents <> 0 AND (amount_cents < 0 OR ? IS NULL OR meeting_date <= ?)"
    " ORDER BY payee_member_id, id";
#undef CPTS_ENTITLEMENT_COLUMNS

constexpr std::string_view kInsertEntitlement = R"sql(
INSERT INTO entitlements (tenant_id, id, idempotency_key, meeting_id, group_id, action_id,
                          participant_id, member_id, meeting_date, sheet_version, role,
                          minutes_worked, category, policy_id, rated_cents, capped_cents,
                          amount_cents, ineligible_reason, cap_reason, payee_type,
                          payee_member_id, payee_convention_id, status, supersedes_id,
                          batch_id, approved_by, approve_time, create_time, row_version,
                          transaction_id, governance_body, reason)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1,
        ?, ?, ?))sql";

constexpr std::string_view kSetEntitlementStatus = R"sql(
UPDATE entitlements SET status = ?, row_version = row_version + 1
WHERE tenant_id = ? AND id = ?)sql";

constexpr std::string_view kApproveEntitlement = R"sql(
UPDATE entitlements
SET status = ?, approved_by = ?, approve_time = ?, row_version = row_version + 1
WHERE tenant_id = ? AND id = ?)sql";

constexpr std::string_view kBatchEntitlement = R"sql(
UPDATE entitlements SET status = ?, batch_id = ?, row_version = row_version + 1
WHERE tenant_id = ? AND id = ?)sql";

// Parameters: new status, new batch id, tenant, batch id, current status.
constexpr std::string_view kMoveBatchEntitlements = R"sql(
UPDATE entitlements SET status = ?, batch_id = ?, row_version = row_version + 1
WHERE tenant_id = ? AND batch_id = ? AND status = ?)sql";

constexpr std::string_view kInsertCapLock = R"sql(
INSERT IGNORE INTO cap_locks (tenant_id, member_id, year) VALUES (?, ?, ?))sql";
constexpr std::string_view kLockCap = R"sql(
SELECT year FROM cap_locks WHERE tenant_id = ? AND member_id = ? AND year = ? FOR UPDATE)sql";

// What counts toward the cap (rating.h CountsTowardCap): not reversed, something due.
// Parameters: tenant, member, year start, year end, reversed status.
constexpr std::string_view kYearTotal = R"sql(
SELECT CAST(COALESCE(SUM(amount_cents), 0) AS SIGNED) FROM entitlements
WHERE tenant_id = ? AND member_id = ? AND meeting_date >= ? AND meeting_date < ?
  AND status <> ? AND amount_cents > 0)sql";

// Recoveries left out: see AciRepository::ListPaidIndemnities.
constexpr std::string_view kListPaidIndemnities = R"sql(
SELECT action_id, member_id, amount_cents FROM entitlements
WHERE tenant_id = ? AND status = ? AND meeting_date >= ? AND meeting_date < ?
  AND amount_cents > 0
ORDER BY action_id, member_id, id)sql";

// --- ledger ----------------------------------------------------------------------------------

constexpr std::string_view kInsertLedgerHead = R"sql(
INSERT IGNORE INTO ledger_heads (tenant_id, last_sequence) VALUES (?, 0))sql";
constexpr std::string_view kLockLedgerHead = R"sql(
SELECT last_sequence FROM ledger_heads WHERE tenant_id = ? FOR UPDATE)sql";
constexpr std::string_view kUpdateLedgerHead = R"sql(
UPDATE ledger_heads SET last_sequence = ? WHERE tenant_id = ?)sql";

constexpr std::string_view kInsertTransaction = R"sql(
INSERT INTO ledger_transactions (tenant_id, id, sequence, kind, value_date, description,
                                 reverses_id, source_id, create_time)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?))sql";

constexpr std::string_view kInsertEntry = R"sql(
INSERT INTO ledger_entries (tenant_id, transaction_id, line_no, sequence, value_date,
                            account_kind, account_key, amount_cents)
VALUES (?, ?, ?, ?, ?, ?, ?, ?))sql";

#define CPTS_TRANSACTION_COLUMNS                                                        \
  "t.id, t.sequence, t.kind, t.value_date, t.description, t.reverses_id, t.source_id, " \
  "t.create_time"

constexpr std::string_view kSelectTransaction = "SELECT " CPTS_TRANSACTION_COLUMNS
                                                " FROM ledger_transactions t"
                                                " WHERE t.tenant_id = ? AND t.id = ?";
// Parameters: tenant, year (0 = all), year start, year end, account kind (0 = all), account
// kind, account key, after sequence, limit.
constexpr std::string_view kListTransactions =
    "SELECT " CPTS_TRANSACTION_COLUMNS
    " FROM ledger_transactions t WHERE t.tenant_id = ?"
    " AND (? = 0 OR (t.value_date >= ? AND t.value_date < ?))"
    " AND (? = 0 OR EXISTS (SELECT 1 FROM ledger_entries e WHERE e.tenant_id = t.tenant_id"
    " AND e.transaction_id = t.id AND e.account_kind = ? AND e.account_key = ?))"
    " AND t.sequence > ? ORDER BY t.sequence LIMIT ?";
#undef CPTS_TRANSACTION_COLUMNS

constexpr std::string_view kEntriesOfTransaction = R"sql(
SELECT transaction_id, account_kind, account_key, amount_cents FROM ledger_entries
WHERE tenant_id = ? AND transaction_id = ? ORDER BY line_no)sql";
constexpr std::string_view kEntriesBySequence = R"sql(
SELECT transaction_id, account_kind, account_key, amount_cents FROM ledger_entries
WHERE tenant_id = ? AND sequence >= ? AND sequence <= ? ORDER BY sequence, line_no)sql";

// Parameters: tenant, as_of twice (NULL = everything).
constexpr std::string_view kBalances = R"sql(
SELECT account_kind, account_key, CAST(SUM(amount_cents) AS SIGNED) FROM ledger_entries
WHERE tenant_id = ? AND (? IS NULL OR value_date <= ?)
GROUP BY account_kind, account_key ORDER BY account_kind, account_key)sql";

// --- bank accounts and batches -------------------------------------------------------------

constexpr std::string_view kUpsertBankAccount = R"sql(
INSERT INTO bank_accounts (tenant_id, member_id, holder_name, iban, bic, update_time)
VALUES (?, ?, ?, ?, ?, ?)
ON DUPLICATE KEY UPDATE holder_name = VALUES(holder_name), iban = VALUES(iban),
                        bic = VALUES(bic), update_time = VALUES(update_time))sql";
constexpr std::string_view kSelectBankAccount = R"sql(
SELECT member_id, holder_name, iban, bic, update_time FROM bank_accounts
WHERE tenant_id = ? AND member_id = ?)sql";

constexpr std::string_view kUpsertDebtorAccount = R"sql(
INSERT INTO debtor_accounts (tenant_id, holder_name, iban, bic, update_time, updated_by)
VALUES (?, ?, ?, ?, ?, ?)
ON DUPLICATE KEY UPDATE holder_name = VALUES(holder_name), iban = VALUES(iban),
                        bic = VALUES(bic), update_time = VALUES(update_time),
                        updated_by = VALUES(updated_by))sql";
constexpr std::string_view kSelectDebtorAccount = R"sql(
SELECT holder_name, iban, bic, update_time, updated_by FROM debtor_accounts
WHERE tenant_id = ?)sql";

#define CPTS_BATCH_COLUMNS                                                                \
  "id, label, state, execution_date, approved_by, approve_time, export_time, paid_date, " \
  "create_time, row_version"
constexpr std::string_view kSelectBatch =
    "SELECT " CPTS_BATCH_COLUMNS " FROM payment_batches WHERE tenant_id = ? AND id = ?";
constexpr std::string_view kSelectBatchForUpdate =
    "SELECT " CPTS_BATCH_COLUMNS " FROM payment_batches WHERE tenant_id = ? AND id = ? FOR UPDATE";
// Newest first. Parameters: tenant, state twice (0 = all), first page flag, after
// (create_time, id) as time, time, id, limit.
constexpr std::string_view kListBatches =
    "SELECT " CPTS_BATCH_COLUMNS
    " FROM payment_batches WHERE tenant_id = ? AND (? = 0 OR state = ?)"
    " AND (? OR create_time < ? OR (create_time = ? AND id < ?))"
    " ORDER BY create_time DESC, id DESC LIMIT ?";
#undef CPTS_BATCH_COLUMNS

constexpr std::string_view kInsertBatch = R"sql(
INSERT INTO payment_batches (tenant_id, id, label, state, execution_date, approved_by,
                             approve_time, export_time, paid_date, create_time, row_version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1))sql";

constexpr std::string_view kUpdateBatch = R"sql(
UPDATE payment_batches
SET state = ?, approved_by = ?, approve_time = ?, export_time = ?, paid_date = ?,
    row_version = row_version + 1
WHERE tenant_id = ? AND id = ? AND row_version = ?)sql";

constexpr std::string_view kInsertBatchLine = R"sql(
INSERT INTO payment_batch_lines (tenant_id, batch_id, line_no, payee_member_id, payee_name,
                                 iban, bic, entitlement_ids, amount_cents, blocked,
                                 blocked_reason, end_to_end_id, recovered_cents)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?))sql";
constexpr std::string_view kSelectBatchLines = R"sql(
SELECT payee_member_id, payee_name, iban, bic, entitlement_ids, amount_cents, blocked,
       blocked_reason, end_to_end_id, recovered_cents
FROM payment_batch_lines WHERE tenant_id = ? AND batch_id = ? ORDER BY line_no)sql";

// --- ACI -------------------------------------------------------------------------------------

constexpr std::string_view kSelectContract = R"sql(
SELECT id, signature_date, duration_years, size, reference, create_time, row_version
FROM aci_contracts WHERE tenant_id = ?)sql";
constexpr std::string_view kSelectContractForUpdate = R"sql(
SELECT id FROM aci_contracts WHERE tenant_id = ? FOR UPDATE)sql";
constexpr std::string_view kInsertContract = R"sql(
INSERT INTO aci_contracts (tenant_id, id, signature_date, duration_years, size, reference,
                           create_time, row_version)
VALUES (?, ?, ?, ?, ?, ?, ?, 1))sql";

constexpr std::string_view kUpsertEnvelope = R"sql(
INSERT INTO aci_envelopes (tenant_id, year, kind, mission_id, fixed_cents, variable_cents,
                           advance_basis_points)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON DUPLICATE KEY UPDATE fixed_cents = VALUES(fixed_cents),
                        variable_cents = VALUES(variable_cents),
                        advance_basis_points = VALUES(advance_basis_points))sql";
constexpr std::string_view kListEnvelopes = R"sql(
SELECT year, kind, mission_id, fixed_cents, variable_cents, advance_basis_points
FROM aci_envelopes WHERE tenant_id = ? AND year = ? ORDER BY kind, mission_id)sql";

#define CPTS_INSTALMENT_COLUMNS                                                           \
  "id, year, envelope_kind, mission_id, kind, expected_cents, due_date, received_cents, " \
  "received_date, expected_transaction_id"
constexpr std::string_view kInstalmentsOfEnvelopeForUpdate =
    "SELECT " CPTS_INSTALMENT_COLUMNS
    " FROM aci_instalments WHERE tenant_id = ? AND year = ? AND envelope_kind = ?"
    " AND mission_id = ? ORDER BY kind FOR UPDATE";
constexpr std::string_view kSelectInstalmentForUpdate =
    "SELECT " CPTS_INSTALMENT_COLUMNS
    " FROM aci_instalments WHERE tenant_id = ? AND id = ? FOR UPDATE";
constexpr std::string_view kSelectInstalment =
    "SELECT " CPTS_INSTALMENT_COLUMNS " FROM aci_instalments WHERE tenant_id = ? AND id = ?";
constexpr std::string_view kListInstalments =
    "SELECT " CPTS_INSTALMENT_COLUMNS
    " FROM aci_instalments WHERE tenant_id = ? AND year = ? ORDER BY due_date, kind, id";
#undef CPTS_INSTALMENT_COLUMNS
constexpr std::string_view kInsertInstalment = R"sql(
INSERT INTO aci_instalments (tenant_id, id, year, envelope_kind, mission_id, kind,
                             expected_cents, due_date, received_cents, received_date,
                             expected_transaction_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?))sql";
constexpr std::string_view kUpdateInstalmentExpected = R"sql(
UPDATE aci_instalments SET expected_cents = ?, due_date = ?, expected_transaction_id = ?
WHERE tenant_id = ? AND id = ?)sql";
constexpr std::string_view kDeleteInstalment = R"sql(
DELETE FROM aci_instalments WHERE tenant_id = ? AND id = ?)sql";
constexpr std::string_view kUpdateInstalmentReceived = R"sql(
UPDATE aci_instalments SET received_cents = ?, received_date = ? WHERE tenant_id = ? AND id = ?)sql";

constexpr std::string_view kUpsertAttainment = R"sql(
INSERT INTO aci_attainments (tenant_id, year, indicator_id, mission_id, label,
                             weight_basis_points, target_milli, achieved_milli)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON DUPLICATE KEY UPDATE mission_id = VALUES(mission_id), label = VALUES(label),
                        weight_basis_points = VALUES(weight_basis_points),
                        target_milli = VALUES(target_milli),
                        achieved_milli = VALUES(achieved_milli))sql";
constexpr std::string_view kListAttainments = R"sql(
SELECT year, mission_id, indicator_id, label, weight_basis_points, target_milli, achieved_milli
FROM aci_attainments WHERE tenant_id = ? AND year = ? ORDER BY mission_id, indicator_id)sql";

constexpr std::string_view kSelectBudgetForUpdate = R"sql(
SELECT row_version FROM action_budgets WHERE tenant_id = ? AND year = ? AND action_id = ?
FOR UPDATE)sql";
constexpr std::string_view kInsertBudget = R"sql(
INSERT INTO action_budgets (tenant_id, year, action_id, mission_id, allocated_cents,
                            committed_cents, row_version)
VALUES (?, ?, ?, ?, ?, ?, 1))sql";
constexpr std::string_view kUpdateBudget = R"sql(
UPDATE action_budgets SET mission_id = ?, allocated_cents = ?, committed_cents = ?,
                          row_version = row_version + 1
WHERE tenant_id = ? AND year = ? AND action_id = ? AND row_version = ?)sql";
constexpr std::string_view kSelectBudget = R"sql(
SELECT action_id, mission_id, year, allocated_cents, committed_cents, row_version
FROM action_budgets WHERE tenant_id = ? AND year = ? AND action_id = ?)sql";
constexpr std::string_view kListBudgets = R"sql(
SELECT action_id, mission_id, year, allocated_cents, committed_cents, row_version
FROM action_budgets WHERE tenant_id = ? AND year = ? ORDER BY action_id)sql";

constexpr std::string_view kInsertExpense = R"sql(
INSERT INTO expenses (tenant_id, id, action_id, category, amount_cents, expense_date, supplier,
                      reference, create_time)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?))sql";
constexpr std::string_view kSelectExpense = R"sql(
SELECT id, action_id, category, amount_cents, expense_date, supplier, reference, create_time
FROM expenses WHERE tenant_id = ? AND id = ?)sql";
// Parameters: tenant, year (0 = all), year start, year end, action twice ('' = all).
constexpr std::string_view kListExpenses = R"sql(
SELECT id, action_id, category, amount_cents, expense_date, supplier, reference, create_time
FROM expenses WHERE tenant_id = ? AND (? = 0 OR (expense_date >= ? AND expense_date < ?))
  AND (? = '' OR action_id = ?)
ORDER BY expense_date, id)sql";

// =========================================================================================
// Binding and reading
// =========================================================================================

// The first day of `year` and of the next one, for `day >= start AND day < end`.
std::string YearStart(int year) { return absl::FormatCivilTime(absl::CivilDay(year, 1, 1)); }
std::string YearEnd(int year) { return absl::FormatCivilTime(absl::CivilDay(year + 1, 1, 1)); }

// Appends one audit record on `conn` (inside the caller's transaction). `details` is a JSON
// object of ids and numbers, or empty.
absl::Status Audit(Connection& conn, absl::string_view tenant_id, absl::string_view actor,
                   absl::string_view action, absl::string_view resource_type,
                   absl::string_view resource_id, std::string details, absl::Time now) {
  platform::db::AuditRecord r;
  r.tenant_id = std::string(tenant_id);
  r.actor_subject = std::string(actor);
  r.action = std::string(action);
  r.resource_type = std::string(resource_type);
  r.resource_id = std::string(resource_id);
  r.details = std::move(details);
  r.occurred_at = now;
  return platform::db::AppendAudit(conn, r);
}

// Runs `read` for every row of `ps`'s query; stops at the first unreadable row.
template <typename F>
absl::Status ForEachRow(sql::PreparedStatement& ps, F&& read) {
  std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
  while (rs->next()) {
    RowReader r(*rs);
    read(r);
    if (!r.status().ok()) return r.status();
  }
  return absl::OkStatus();
}

// Page sizes: the request's, defaulted and bounded.
int PageLimit(const Page& page, int default_size, int max_size) {
  if (page.page_size <= 0) return default_size;
  return std::min(page.page_size, max_size);
}

// Page tokens: web-safe base64 of fields joined by '\x1f'.
std::string EncodeToken(const std::vector<std::string>& fields) {
  return absl::WebSafeBase64Escape(absl::StrJoin(fields, "\x1f"));
}
absl::StatusOr<std::vector<std::string>> DecodeToken(absl::string_view token, size_t n) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  std::vector<std::string> fields = absl::StrSplit(raw, '\x1f');
  if (fields.size() != n) return absl::InvalidArgumentError("page_token: malformed");
  return fields;
}

// --- row readers -------------------------------------------------------------------------

IndemnityPolicy ReadPolicy(RowReader& r, absl::string_view tenant_id) {
  IndemnityPolicy p;
  p.tenant_id = std::string(tenant_id);
  p.id = r.Str();
  p.year = r.Int();
  p.version = r.Int();
  p.kind = r.Enum<PolicyKind>(static_cast<int>(PolicyKind::kPerHourPoints));
  p.member_amount_cents = r.Int64();
  p.referent_amount_cents = r.Int64();
  p.member_millipoints_per_hour = r.Int64();
  p.referent_millipoints_per_hour = r.Int64();
  p.point_value_cents = r.Int64();
  p.decision_reference = r.Str();
  p.frozen = r.Bool();
  p.in_force = r.Bool();
  p.create_time = r.Instant();
  p.update_time = r.Instant();
  p.row_version = r.Int64();
  return p;
}

struct StoredEntitlement {
  Entitlement e{};
  std::string transaction_id{};
};

StoredEntitlement ReadEntitlement(RowReader& r, absl::string_view tenant_id) {
  StoredEntitlement s;
  Entitlement& e = s.e;
  e.tenant_id = std::string(tenant_id);
  e.id = r.Str();
  e.idempotency_key = r.Str();
  e.meeting_id = r.Str();
  e.group_id = r.Str();
  e.action_id = r.Str();
  e.participant_id = r.Str();
  e.member_id = r.Str();
  e.meeting_date = r.Day();
  e.sheet_version = r.Int();
  e.role = r.Enum<AttendanceRole>(static_cast<int>(AttendanceRole::kStaff));
  e.minutes_worked = r.Int();
  e.category = r.Enum<EntitlementCategory>(static_cast<int>(EntitlementCategory::kIndemnity));
  e.policy_id = r.Str();
  e.rated_cents = r.Int64();
  e.capped_cents = r.Int64();
  e.amount_cents = r.Int64();
  e.ineligible_reason =
      r.Enum<IneligibleReason>(static_cast<int>(IneligibleReason::kAnnualCapReached));
  e.cap_reason = r.Str();
  e.payee.type = r.Enum<PayeeType>(static_cast<int>(PayeeType::kEmployer));
  e.payee.member_id = r.Str();
  e.payee.convention_id = r.Str();
  e.status = r.Enum<EntitlementStatus>(static_cast<int>(EntitlementStatus::kReversed));
  e.supersedes_id = r.Str();
  e.batch_id = r.Str();
  e.approved_by = r.Str();
  e.approve_time = r.NullableInstant();
  e.create_time = r.Instant();
  e.row_version = r.Int64();
  s.transaction_id = r.Str();
  e.governance_body = r.Enum<GovernanceBody>(static_cast<int>(GovernanceBody::kBoard));
  e.reason = r.Str();
  return s;
}

PaymentBatch ReadBatch(RowReader& r, absl::string_view tenant_id) {
  PaymentBatch b;
  b.tenant_id = std::string(tenant_id);
  b.id = r.Str();
  b.label = r.Str();
  b.state = r.Enum<BatchState>(static_cast<int>(BatchState::kCancelled));
  b.execution_date = r.Day();
  b.approved_by = r.Str();
  b.approve_time = r.NullableInstant();
  b.export_time = r.NullableInstant();
  b.paid_date = r.OptionalDay().value_or(absl::CivilDay());
  b.create_time = r.Instant();
  b.row_version = r.Int64();
  return b;
}

struct StoredInstalment {
  AciInstalment i{};
  std::string expected_transaction_id{};
};

StoredInstalment ReadInstalment(RowReader& r) {
  StoredInstalment s;
  AciInstalment& i = s.i;
  i.id = r.Str();
  i.year = r.Int();
  i.envelope_kind = r.Enum<EnvelopeKind>(static_cast<int>(EnvelopeKind::kMission));
  i.mission_id = r.Str();
  i.kind = r.Enum<InstalmentKind>(static_cast<int>(InstalmentKind::kVariable));
  i.expected_cents = r.Int64();
  i.due_date = r.Day();
  i.received_cents = r.Int64();
  i.received_date = r.OptionalDay().value_or(absl::CivilDay());
  s.expected_transaction_id = r.Str();
  return s;
}

Expense ReadExpense(RowReader& r, absl::string_view tenant_id) {
  Expense x;
  x.tenant_id = std::string(tenant_id);
  x.id = r.Str();
  x.action_id = r.Str();
  x.category = r.Enum<ExpenseCategory>(static_cast<int>(ExpenseCategory::kOther));
  x.amount_cents = r.Int64();
  x.expense_date = r.Day();
  x.supplier = r.Str();
  x.reference = r.Str();
  x.create_time = r.Instant();
  return x;
}

ActionBudget ReadBudget(RowReader& r) {
  ActionBudget b;
  b.action_id = r.Str();
  b.mission_id = r.Str();
  b.year = r.Int();
  b.allocated_cents = r.Int64();
  b.committed_cents = r.Int64();
  b.row_version = r.Int64();
  return b;
}

// =========================================================================================
// Idempotency keys
// =========================================================================================

absl::StatusOr<std::optional<std::string>> LookUpKey(Connection& conn, absl::string_view tenant_id,
                                                     const IdempotencyKey* key) {
  return platform::db::LookUpIdempotencyKey(conn, tenant_id, platform::db::IdempotencyKeyOf(key));
}

absl::Status RememberKey(Connection& conn, absl::string_view tenant_id, const IdempotencyKey* key,
                         absl::string_view resource_id, absl::Time now) {
  return platform::db::RememberIdempotencyKey(conn, tenant_id, platform::db::IdempotencyKeyOf(key),
                                              resource_id, now);
}

// Runs a read on a pooled connection, mapping connector exceptions.
absl::Status RunRead(ConnectionPool& pool, absl::string_view what,
                     absl::FunctionRef<absl::Status(Connection&)> body) {
  absl::StatusOr<ConnectionPool::Lease> lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    return body(**lease);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, std::string_view(what.data(), what.size()));
  }
}

// RunRead for a body that yields the value read.
template <typename T>
absl::StatusOr<T> ReadValue(ConnectionPool& pool, absl::string_view what,
                            absl::FunctionRef<absl::StatusOr<T>(Connection&)> body) {
  T out{};
  const absl::Status done = RunRead(pool, what, [&](Connection& conn) -> absl::Status {
    CPTS_ASSIGN_OR_RETURN(out, body(conn));
    return absl::OkStatus();
  });
  if (!done.ok()) return done;
  return out;
}

// Runs `body` in a transaction with a fresh result; when it loses the race for its
// idempotency key, once more (it then replays).
template <typename T>
absl::StatusOr<WriteResult<T>> RunWrite(
    ConnectionPool& pool, absl::FunctionRef<absl::Status(Connection&, WriteResult<T>&)> body) {
  WriteResult<T> result;
  const absl::Status status =
      platform::db::RunInTransactionRetryingKeyRace(pool, [&](Connection& conn) {
        result = {};
        return body(conn, result);
      });
  if (!status.ok()) return status;
  return result;
}

// =========================================================================================
// Ledger
// =========================================================================================

// Validates, numbers and inserts `txns` (ids and create times assigned here, written back).
// Locks the tenant's journal head until the commit.
absl::Status AppendTransactions(Connection& conn, absl::string_view tenant_id,
                                const std::vector<LedgerTransaction*>& txns,
                                platform::IdGenerator& ids, absl::Time now) {
  if (txns.empty()) return absl::OkStatus();
  for (LedgerTransaction* t : txns) {
    t->tenant_id = std::string(tenant_id);
    CPTS_RETURN_IF_ERROR(ValidateTransaction(*t));
  }
  {
    sql::PreparedStatement& ps = conn.Prepare(kInsertLedgerHead);
    Binder(ps).Str(tenant_id);
    ps.executeUpdate();
  }
  int64_t sequence = 0;
  {
    sql::PreparedStatement& ps = conn.Prepare(kLockLedgerHead);
    Binder(ps).Str(tenant_id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return absl::InternalError("ledger head missing");
    sequence = rs->getInt64(1);
  }
  for (LedgerTransaction* t : txns) {
    ++sequence;
    t->id = ids.NewId();
    t->create_time = now;
    sql::PreparedStatement& ps = conn.Prepare(kInsertTransaction);
    Binder(ps)
        .Str(tenant_id)
        .Str(t->id)
        .Int64(sequence)
        .Enum(t->kind)
        .Day(t->value_date)
        .Str(t->description)
        .StrOrNull(t->reverses_id)
        .Str(t->source_id)
        .Instant(now);
    ps.executeUpdate();
    for (size_t i = 0; i < t->entries.size(); ++i) {
      const LedgerEntry& entry = t->entries[i];
      sql::PreparedStatement& pe = conn.Prepare(kInsertEntry);
      Binder(pe)
          .Str(tenant_id)
          .Str(t->id)
          .Int(static_cast<int>(i))
          .Int64(sequence)
          .Day(t->value_date)
          .Enum(entry.account.kind)
          .Str(entry.account.key)
          .Int64(entry.amount_cents);
      pe.executeUpdate();
    }
  }
  sql::PreparedStatement& ps = conn.Prepare(kUpdateLedgerHead);
  Binder(ps).Int64(sequence).Str(tenant_id);
  ps.executeUpdate();
  return absl::OkStatus();
}

absl::Status AppendTransaction(Connection& conn, absl::string_view tenant_id,
                               LedgerTransaction& txn, platform::IdGenerator& ids, absl::Time now) {
  return AppendTransactions(conn, tenant_id, {&txn}, ids, now);
}

LedgerTransaction ReadTransactionRow(RowReader& r, absl::string_view tenant_id, int64_t* sequence) {
  LedgerTransaction t;
  t.tenant_id = std::string(tenant_id);
  t.id = r.Str();
  *sequence = r.Int64();
  t.kind = r.Enum<TransactionKind>(static_cast<int>(TransactionKind::kAciReceived));
  t.value_date = r.Day();
  t.description = r.Str();
  t.reverses_id = r.Str();
  t.source_id = r.Str();
  t.create_time = r.Instant();
  return t;
}

absl::StatusOr<LedgerTransaction> LoadTransaction(Connection& conn, absl::string_view tenant_id,
                                                  absl::string_view id) {
  std::optional<LedgerTransaction> txn;
  {
    sql::PreparedStatement& ps = conn.Prepare(kSelectTransaction);
    Binder(ps).Str(tenant_id).Str(id);
    CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) {
      int64_t sequence = 0;
      txn = ReadTransactionRow(r, tenant_id, &sequence);
    }));
  }
  if (!txn.has_value()) return NotFound("ledger transaction", id);
  sql::PreparedStatement& ps = conn.Prepare(kEntriesOfTransaction);
  Binder(ps).Str(tenant_id).Str(id);
  CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) {
    (void)r.Str();
    LedgerEntry e;
    e.account.kind = r.Enum<AccountKind>(static_cast<int>(AccountKind::kAciIncome));
    e.account.key = r.Str();
    e.amount_cents = r.Int64();
    txn->entries.push_back(std::move(e));
  }));
  return *std::move(txn);
}

// =========================================================================================
// Shared reads
// =========================================================================================

absl::StatusOr<IndemnityPolicy> LoadPolicy(Connection& conn, absl::string_view tenant_id,
                                           absl::string_view id, bool for_update) {
  sql::PreparedStatement& ps = conn.Prepare(for_update ? kSelectPolicyForUpdate : kSelectPolicy);
  Binder(ps).Str(tenant_id).Str(id);
  std::optional<IndemnityPolicy> out;
  CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) { out = ReadPolicy(r, tenant_id); }));
  if (!out.has_value()) return NotFound("indemnity policy", id);
  return *std::move(out);
}

absl::StatusOr<std::optional<StoredEntitlement>> LoadEntitlementByKey(Connection& conn,
                                                                      absl::string_view tenant_id,
                                                                      absl::string_view key,
                                                                      bool for_update) {
  sql::PreparedStatement& ps =
      conn.Prepare(for_update ? kSelectEntitlementByKeyForUpdate : kSelectEntitlementByKey);
  Binder(ps).Str(tenant_id).Str(key);
  std::optional<StoredEntitlement> out;
  CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) { out = ReadEntitlement(r, tenant_id); }));
  return out;
}

absl::StatusOr<StoredEntitlement> LoadEntitlement(Connection& conn, absl::string_view tenant_id,
                                                  absl::string_view id, bool for_update) {
  sql::PreparedStatement& ps =
      conn.Prepare(for_update ? kSelectEntitlementForUpdate : kSelectEntitlement);
  Binder(ps).Str(tenant_id).Str(id);
  std::optional<StoredEntitlement> out;
  CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) { out = ReadEntitlement(r, tenant_id); }));
  if (!out.has_value()) return NotFound("entitlement", id);
  return *std::move(out);
}

absl::StatusOr<Cents> SumYear(Connection& conn, absl::string_view tenant_id,
                              absl::string_view member_id, int year) {
  sql::PreparedStatement& ps = conn.Prepare(kYearTotal);
  Binder(ps)
      .Str(tenant_id)
      .Str(member_id)
      .Str(YearStart(year))
      .Str(YearEnd(year))
      .Enum(EntitlementStatus::kReversed);
  Cents total = 0;
  CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) { total = r.Int64(); }));
  return total;
}

absl::Status InsertEntitlement(Connection& conn, absl::string_view tenant_id, const Entitlement& e,
                               absl::string_view transaction_id) {
  sql::PreparedStatement& ps = conn.Prepare(kInsertEntitlement);
  Binder(ps)
      .Str(tenant_id)
      .Str(e.id)
      .Str(e.idempotency_key)
      .Str(e.meeting_id)
      .Str(e.group_id)
      .Str(e.action_id)
      .Str(e.participant_id)
      .Str(e.member_id)
      .Day(e.meeting_date)
      .Int(e.sheet_version)
      .Enum(e.role)
      .Int(e.minutes_worked)
      .Enum(e.category)
      .Str(e.policy_id)
      .Int64(e.rated_cents)
      .Int64(e.capped_cents)
      .Int64(e.amount_cents)
      .Enum(e.ineligible_reason)
      .Str(e.cap_reason)
      .Enum(e.payee.type)
      .Str(e.payee.member_id)
      .Str(e.payee.convention_id)
      .Enum(e.status)
      .Str(e.supersedes_id)
      .Str(e.batch_id)
      .Str(e.approved_by)
      .Instant(e.approve_time)
      .Instant(e.create_time)
      .Str(transaction_id)
      .Enum(e.governance_body)
      .Str(e.reason);
  ps.executeUpdate();
  return absl::OkStatus();
}

absl::Status SetStatus(Connection& conn, absl::string_view tenant_id, absl::string_view id,
                       EntitlementStatus status) {
  sql::PreparedStatement& ps = conn.Prepare(kSetEntitlementStatus);
  Binder(ps).Enum(status).Str(tenant_id).Str(id);
  ps.executeUpdate();
  return absl::OkStatus();
}

// Reverses the journal transaction of an entitlement and returns the reversal's id (none and
// "" when nothing was due).
absl::StatusOr<std::string> ReverseLedgerOf(Connection& conn, absl::string_view tenant_id,
                                            const StoredEntitlement& s, absl::CivilDay value_date,
                                            platform::IdGenerator& ids, absl::Time now) {
  if (s.transaction_id.empty()) return std::string();
  CPTS_ASSIGN_OR_RETURN(LedgerTransaction original,
                        LoadTransaction(conn, tenant_id, s.transaction_id));
  CPTS_ASSIGN_OR_RETURN(LedgerTransaction reversal, ReversalOf(original, value_date));
  reversal.source_id = s.e.id;
  CPTS_RETURN_IF_ERROR(AppendTransaction(conn, tenant_id, reversal, ids, now));
  return reversal.id;
}

absl::StatusOr<PaymentBatch> LoadBatch(Connection& conn, absl::string_view tenant_id,
                                       absl::string_view id, bool for_update) {
  std::optional<PaymentBatch> out;
  {
    sql::PreparedStatement& ps = conn.Prepare(for_update ? kSelectBatchForUpdate : kSelectBatch);
    Binder(ps).Str(tenant_id).Str(id);
    CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) { out = ReadBatch(r, tenant_id); }));
  }
  if (!out.has_value()) return NotFound("payment batch", id);
  sql::PreparedStatement& ps = conn.Prepare(kSelectBatchLines);
  Binder(ps).Str(tenant_id).Str(id);
  CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) {
    BatchLine l;
    l.payee_member_id = r.Str();
    l.payee_name = r.Str();
    l.iban = r.Str();
    l.bic = r.Str();
    const std::string ids = r.Str();
    if (!ids.empty()) l.entitlement_ids = absl::StrSplit(ids, ',');
    l.amount_cents = r.Int64();
    l.blocked = r.Bool();
    l.blocked_reason = r.Str();
    l.end_to_end_id = r.Str();
    l.recovered_cents = r.Int64();
    out->lines.push_back(std::move(l));
  }));
  return *std::move(out);
}

absl::StatusOr<StoredInstalment> LoadInstalment(Connection& conn, absl::string_view tenant_id,
                                                absl::string_view id, bool for_update) {
  sql::PreparedStatement& ps =
      conn.Prepare(for_update ? kSelectInstalmentForUpdate : kSelectInstalment);
  Binder(ps).Str(tenant_id).Str(id);
  std::optional<StoredInstalment> out;
  CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) { out = ReadInstalment(r); }));
  if (!out.has_value()) return NotFound("ACI instalment", id);
  return *std::move(out);
}

absl::StatusOr<AciContract> LoadContract(Connection& conn, absl::string_view tenant_id) {
  sql::PreparedStatement& ps = conn.Prepare(kSelectContract);
  Binder(ps).Str(tenant_id);
  std::optional<AciContract> out;
  CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) {
    AciContract c;
    c.tenant_id = std::string(tenant_id);
    c.id = r.Str();
    c.signature_date = r.Day();
    c.duration_years = r.Int();
    c.size = r.Int();
    c.reference = r.Str();
    c.create_time = r.Instant();
    c.row_version = r.Int64();
    out = std::move(c);
  }));
  if (!out.has_value()) return absl::NotFoundError("the tenant has no ACI contract");
  return *std::move(out);
}

absl::StatusOr<Expense> LoadExpense(Connection& conn, absl::string_view tenant_id,
                                    absl::string_view id) {
  sql::PreparedStatement& ps = conn.Prepare(kSelectExpense);
  Binder(ps).Str(tenant_id).Str(id);
  std::optional<Expense> out;
  CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) { out = ReadExpense(r, tenant_id); }));
  if (!out.has_value()) return NotFound("expense", id);
  return *std::move(out);
}

}  // namespace

// =========================================================================================
// Policies and ceilings
// =========================================================================================

namespace {

void BindPolicyInsert(sql::PreparedStatement& ps, absl::string_view tenant_id,
                      const IndemnityPolicy& p) {
  Binder(ps)
      .Str(tenant_id)
      .Str(p.id)
      .Int(p.year)
      .Int(p.version)
      .Enum(p.kind)
      .Int64(p.member_amount_cents)
      .Int64(p.referent_amount_cents)
      .Int64(p.member_millipoints_per_hour)
      .Int64(p.referent_millipoints_per_hour)
      .Int64(p.point_value_cents)
      .Str(p.decision_reference)
      .Bool(p.frozen)
      .Bool(p.in_force)
      .Instant(p.create_time)
      .Instant(p.update_time);
}

}  // namespace

namespace {

// finance.policy.create (version 1) or finance.policy.revise (later versions).
absl::Status AuditPolicy(Connection& conn, absl::string_view tenant_id, absl::string_view actor,
                         const IndemnityPolicy& p, absl::Time now) {
  return Audit(conn, tenant_id, actor,
               p.version == 1 ? "finance.policy.create" : "finance.policy.revise",
               "indemnity_policy", p.id,
               absl::StrCat("{\"year\":", p.year, ",\"version\":", p.version, "}"), now);
}

}  // namespace

absl::StatusOr<WriteResult<IndemnityPolicy>> MysqlFinanceStore::CreatePolicy(
    absl::string_view tenant_id, const IndemnityPolicy& policy, const IdempotencyKey* key,
    absl::string_view actor) {
  return RunWrite<IndemnityPolicy>(
      pool_, [&](Connection& conn, WriteResult<IndemnityPolicy>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, key));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(result.value, LoadPolicy(conn, tenant_id, *replay, false));
          result.replayed = true;
          return absl::OkStatus();
        }
        {
          sql::PreparedStatement& ps = conn.Prepare(kSelectAnyPolicyOfYearForUpdate);
          Binder(ps).Str(tenant_id).Int(policy.year);
          std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
          if (rs->next()) {
            return absl::AlreadyExistsError(
                absl::StrCat("policy.year: ", policy.year, " already has a policy; revise it"));
          }
        }
        const absl::Time now = clock_.Now();
        IndemnityPolicy p = policy;
        p.tenant_id = std::string(tenant_id);
        p.id = ids_.NewId();
        p.version = 1;
        p.frozen = false;
        p.in_force = true;
        p.create_time = now;
        p.update_time = now;
        p.row_version = 1;
        try {
          sql::PreparedStatement& ps = conn.Prepare(kInsertPolicy);
          BindPolicyInsert(ps, tenant_id, p);
          ps.executeUpdate();
        } catch (const sql::SQLException& e) {
          absl::Status s = MapSqlException(e, "insert policy");
          if (absl::IsAlreadyExists(s)) {
            return absl::AlreadyExistsError(
                absl::StrCat("policy.year: ", policy.year, " already has a policy; revise it"));
          }
          return s;
        }
        CPTS_RETURN_IF_ERROR(AuditPolicy(conn, tenant_id, actor, p, now));
        CPTS_RETURN_IF_ERROR(RememberKey(conn, tenant_id, key, p.id, now));
        result.value = std::move(p);
        return absl::OkStatus();
      });
}

absl::StatusOr<IndemnityPolicy> MysqlFinanceStore::GetPolicy(absl::string_view tenant_id,
                                                             absl::string_view id) {
  return ReadValue<IndemnityPolicy>(pool_, "get policy", [&](Connection& conn) {
    return LoadPolicy(conn, tenant_id, id, false);
  });
}

absl::StatusOr<std::optional<IndemnityPolicy>> MysqlFinanceStore::PolicyInForce(
    absl::string_view tenant_id, int year) {
  std::optional<IndemnityPolicy> out;
  const absl::Status done = RunRead(pool_, "policy in force", [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kSelectPolicyInForce);
    Binder(ps).Str(tenant_id).Int(year);
    return ForEachRow(ps, [&](RowReader& r) { out = ReadPolicy(r, tenant_id); });
  });
  if (!done.ok()) return done;
  return out;
}

absl::StatusOr<std::vector<IndemnityPolicy>> MysqlFinanceStore::ListPolicies(
    absl::string_view tenant_id, int year, const Page& page, std::string* next_page_token) {
  const int limit = PageLimit(page, 50, 500);
  int after_year = 0;
  int after_version = 0;
  if (!page.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(std::vector<std::string> f, DecodeToken(page.page_token, 2));
    if (!absl::SimpleAtoi(f[0], &after_year) || !absl::SimpleAtoi(f[1], &after_version)) {
      return absl::InvalidArgumentError("page_token: malformed");
    }
  }
  std::vector<IndemnityPolicy> out;
  const absl::Status done = RunRead(pool_, "list policies", [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kListPolicies);
    Binder(ps)
        .Str(tenant_id)
        .Int(year)
        .Int(year)
        .Int(after_year)
        .Int(after_year)
        .Int(after_version)
        .Int(limit + 1);
    return ForEachRow(ps, [&](RowReader& r) { out.push_back(ReadPolicy(r, tenant_id)); });
  });
  if (!done.ok()) return done;
  next_page_token->clear();
  if (static_cast<int>(out.size()) > limit) {
    out.resize(limit);
    *next_page_token =
        EncodeToken({absl::StrCat(out.back().year), absl::StrCat(out.back().version)});
  }
  return out;
}

absl::StatusOr<IndemnityPolicy> MysqlFinanceStore::UpdatePolicy(absl::string_view tenant_id,
                                                                const IndemnityPolicy& policy,
                                                                int64_t expected_row_version,
                                                                absl::string_view actor) {
  IndemnityPolicy out;
  const absl::Status done = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    CPTS_ASSIGN_OR_RETURN(IndemnityPolicy current, LoadPolicy(conn, tenant_id, policy.id, true));
    if (expected_row_version != 0 && current.row_version != expected_row_version) {
      return absl::AbortedError("policy.etag: the policy changed since it was read");
    }
    CPTS_RETURN_IF_ERROR(CheckPolicyUpdatable(current));
    const absl::Time now = clock_.Now();
    sql::PreparedStatement& ps = conn.Prepare(kUpdatePolicyFields);
    Binder(ps)
        .Enum(policy.kind)
        .Int64(policy.member_amount_cents)
        .Int64(policy.referent_amount_cents)
        .Int64(policy.member_millipoints_per_hour)
        .Int64(policy.referent_millipoints_per_hour)
        .Int64(policy.point_value_cents)
        .Str(policy.decision_reference)
        .Instant(now)
        .Str(tenant_id)
        .Str(policy.id)
        .Int64(current.row_version);
    if (ps.executeUpdate() != 1) return absl::AbortedError("policy changed meanwhile");
    CPTS_RETURN_IF_ERROR(Audit(conn, tenant_id, actor, "finance.policy.update", "indemnity_policy",
                               policy.id, "", now));
    CPTS_ASSIGN_OR_RETURN(out, LoadPolicy(conn, tenant_id, policy.id, false));
    return absl::OkStatus();
  });
  if (!done.ok()) return done;
  return out;
}

absl::StatusOr<WriteResult<IndemnityPolicy>> MysqlFinanceStore::RevisePolicy(
    absl::string_view tenant_id, const IndemnityPolicy& revised, int64_t expected_row_version,
    const std::vector<Rerated>& rerated, absl::Time now, const IdempotencyKey* key,
    absl::string_view actor) {
  return RunWrite<IndemnityPolicy>(
      pool_, [&](Connection& conn, WriteResult<IndemnityPolicy>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, key));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(result.value, LoadPolicy(conn, tenant_id, *replay, false));
          result.replayed = true;
          return absl::OkStatus();
        }
        std::optional<IndemnityPolicy> current;
        {
          sql::PreparedStatement& ps = conn.Prepare(kSelectPolicyInForceForUpdate);
          Binder(ps).Str(tenant_id).Int(revised.year);
          CPTS_RETURN_IF_ERROR(
              ForEachRow(ps, [&](RowReader& r) { current = ReadPolicy(r, tenant_id); }));
        }
        if (!current.has_value()) {
          return absl::NotFoundError(absl::StrCat("no policy in force for ", revised.year));
        }
        if (current->row_version != expected_row_version) {
          return absl::AbortedError("current_etag: the policy in force changed since it was read");
        }
        IndemnityPolicy p = revised;
        p.tenant_id = std::string(tenant_id);
        p.id = ids_.NewId();
        p.version = current->version + 1;
        p.in_force = true;
        p.frozen = !rerated.empty();
        p.create_time = now;
        p.update_time = now;
        p.row_version = 1;
        {
          sql::PreparedStatement& ps = conn.Prepare(kRetirePolicy);
          Binder(ps).Instant(now).Str(tenant_id).Str(current->id);
          ps.executeUpdate();
        }
        {
          sql::PreparedStatement& ps = conn.Prepare(kInsertPolicy);
          BindPolicyInsert(ps, tenant_id, p);
          ps.executeUpdate();
        }
        std::vector<LedgerTransaction> txns;
        txns.reserve(rerated.size() * 2);
        struct Pending {
          Entitlement replacement;
          size_t txn = SIZE_MAX;
        };
        std::vector<Pending> inserts;
        for (const Rerated& rr : rerated) {
          CPTS_ASSIGN_OR_RETURN(StoredEntitlement old,
                                LoadEntitlement(conn, tenant_id, rr.old_entitlement_id, true));
          if (old.e.status != EntitlementStatus::kPending &&
              old.e.status != EntitlementStatus::kApproved &&
              old.e.status != EntitlementStatus::kIneligible) {
            return absl::AbortedError(
                absl::StrCat("entitlement ", old.e.id, " changed meanwhile; revise again"));
          }
          CPTS_RETURN_IF_ERROR(SetStatus(conn, tenant_id, old.e.id, EntitlementStatus::kReversed));
          if (!old.transaction_id.empty()) {
            CPTS_ASSIGN_OR_RETURN(LedgerTransaction original,
                                  LoadTransaction(conn, tenant_id, old.transaction_id));
            CPTS_ASSIGN_OR_RETURN(LedgerTransaction reversal,
                                  ReversalOf(original, absl::ToCivilDay(now, absl::UTCTimeZone())));
            reversal.source_id = old.e.id;
            txns.push_back(std::move(reversal));
          }
          Pending pending{.replacement = rr.replacement};
          Entitlement& e = pending.replacement;
          e.tenant_id = std::string(tenant_id);
          e.id = ids_.NewId();
          if (RatedByPolicy(e)) e.policy_id = p.id;
          e.supersedes_id = old.e.id;
          // The event key stays with the first entitlement; the replacement's is derived.
          e.idempotency_key = absl::StrCat(old.e.idempotency_key, "/rerated-v", p.version);
          e.create_time = now;
          if (e.amount_cents > 0) {
            CPTS_ASSIGN_OR_RETURN(LedgerTransaction t, EntitlementTransaction(e));
            pending.txn = txns.size();
            txns.push_back(std::move(t));
          }
          inserts.push_back(std::move(pending));
        }
        std::vector<LedgerTransaction*> ptrs;
        ptrs.reserve(txns.size());
        for (LedgerTransaction& t : txns) ptrs.push_back(&t);
        CPTS_RETURN_IF_ERROR(AppendTransactions(conn, tenant_id, ptrs, ids_, now));
        for (const Pending& pending : inserts) {
          CPTS_RETURN_IF_ERROR(
              InsertEntitlement(conn, tenant_id, pending.replacement,
                                pending.txn == SIZE_MAX ? std::string() : txns[pending.txn].id));
        }
        CPTS_RETURN_IF_ERROR(AuditPolicy(conn, tenant_id, actor, p, now));
        CPTS_RETURN_IF_ERROR(RememberKey(conn, tenant_id, key, p.id, now));
        result.value = std::move(p);
        return absl::OkStatus();
      });
}

absl::Status MysqlFinanceStore::SetCeiling(int year, Cents ceiling_cents) {
  return RunInTransaction(pool_, [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kUpsertCeiling);
    Binder(ps).Int(year).Int64(ceiling_cents).Instant(clock_.Now());
    ps.executeUpdate();
    return absl::OkStatus();
  });
}

absl::StatusOr<AnnualCeilingTable> MysqlFinanceStore::LoadCeilings() {
  AnnualCeilingTable table;
  absl::Status bad;
  const absl::Status done = RunRead(pool_, "load ceilings", [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kListCeilings);
    return ForEachRow(ps, [&](RowReader& r) {
      const int year = r.Int();
      const Cents cents = r.Int64();
      if (absl::Status s = table.Set(year, cents); !s.ok() && bad.ok()) bad = s;
    });
  });
  if (!done.ok()) return done;
  if (!bad.ok()) return absl::InternalError(absl::StrCat("stored ceiling: ", bad.message()));
  return table;
}

// =========================================================================================
// Entitlements
// =========================================================================================

absl::StatusOr<Cents> MysqlFinanceStore::YearTotalCents(absl::string_view tenant_id,
                                                        absl::string_view member_id, int year) {
  return ReadValue<Cents>(pool_, "year total", [&](Connection& conn) {
    return SumYear(conn, tenant_id, member_id, year);
  });
}

absl::StatusOr<std::optional<Entitlement>> MysqlFinanceStore::FindByEventKey(
    absl::string_view tenant_id, absl::string_view idempotency_key) {
  std::optional<Entitlement> out;
  const absl::Status done =
      RunRead(pool_, "find entitlement", [&](Connection& conn) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<StoredEntitlement> s,
                              LoadEntitlementByKey(conn, tenant_id, idempotency_key, false));
        if (s.has_value()) out = std::move(s->e);
        return absl::OkStatus();
      });
  if (!done.ok()) return done;
  return out;
}

namespace {

// The body of RecordEntitlement after its replay check: locks the member's cap row, checks
// the year total the entitlement was rated against, appends its ledger transaction, inserts
// it and freezes its policy. Returns the inserted entitlement.
absl::StatusOr<Entitlement> InsertRatedEntitlement(Connection& conn, absl::string_view tenant_id,
                                                   const Entitlement& entitlement,
                                                   Cents year_total_cents, absl::Time now,
                                                   platform::IdGenerator& ids) {
  if (!entitlement.member_id.empty()) {
    const int year = static_cast<int>(entitlement.meeting_date.year());
    {
      sql::PreparedStatement& ps = conn.Prepare(kInsertCapLock);
      Binder(ps).Str(tenant_id).Str(entitlement.member_id).Int(year);
      ps.executeUpdate();
    }
    {
      sql::PreparedStatement& ps = conn.Prepare(kLockCap);
      Binder(ps).Str(tenant_id).Str(entitlement.member_id).Int(year);
      std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    }
    CPTS_ASSIGN_OR_RETURN(Cents total, SumYear(conn, tenant_id, entitlement.member_id, year));
    if (total != year_total_cents) {
      return absl::AbortedError(absl::StrCat("the member's year total changed (", total,
                                             " cents, rated against ", year_total_cents,
                                             "); rate again"));
    }
  }
  Entitlement e = entitlement;
  e.tenant_id = std::string(tenant_id);
  e.id = ids.NewId();
  e.create_time = now;
  e.row_version = 1;
  std::string transaction_id;
  if (e.amount_cents > 0) {
    CPTS_ASSIGN_OR_RETURN(LedgerTransaction txn, EntitlementTransaction(e));
    CPTS_RETURN_IF_ERROR(AppendTransaction(conn, tenant_id, txn, ids, now));
    transaction_id = txn.id;
  }
  try {
    CPTS_RETURN_IF_ERROR(InsertEntitlement(conn, tenant_id, e, transaction_id));
  } catch (const sql::SQLException& ex) {
    absl::Status s = MapSqlException(ex, "insert entitlement");
    // A concurrent delivery of the same event committed first: replay it.
    if (absl::IsAlreadyExists(s)) {
      return platform::db::IdempotencyKeyRaceError("event applied concurrently");
    }
    return s;
  }
  if (!e.policy_id.empty()) {
    sql::PreparedStatement& ps = conn.Prepare(kFreezePolicy);
    Binder(ps).Str(tenant_id).Str(e.policy_id);
    ps.executeUpdate();
  }
  return e;
}

}  // namespace

absl::StatusOr<WriteResult<Entitlement>> MysqlFinanceStore::RecordEntitlement(
    absl::string_view tenant_id, const Entitlement& entitlement, Cents year_total_cents,
    absl::Time now) {
  return RunWrite<Entitlement>(
      pool_, [&](Connection& conn, WriteResult<Entitlement>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(
            std::optional<StoredEntitlement> existing,
            LoadEntitlementByKey(conn, tenant_id, entitlement.idempotency_key, false));
        if (existing.has_value()) {
          result.value = std::move(existing->e);
          result.replayed = true;
          return absl::OkStatus();
        }
        CPTS_ASSIGN_OR_RETURN(result.value, InsertRatedEntitlement(conn, tenant_id, entitlement,
                                                                   year_total_cents, now, ids_));
        return absl::OkStatus();
      });
}

absl::StatusOr<WriteResult<Entitlement>> MysqlFinanceStore::RecordGovernanceEntitlement(
    absl::string_view tenant_id, const Entitlement& entitlement, Cents year_total_cents,
    absl::Time now, const IdempotencyKey& key, absl::string_view actor) {
  return RunWrite<Entitlement>(
      pool_, [&](Connection& conn, WriteResult<Entitlement>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, &key));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(StoredEntitlement s,
                                LoadEntitlement(conn, tenant_id, *replay, false));
          result.value = std::move(s.e);
          result.replayed = true;
          return absl::OkStatus();
        }
        CPTS_ASSIGN_OR_RETURN(Entitlement e, InsertRatedEntitlement(conn, tenant_id, entitlement,
                                                                    year_total_cents, now, ids_));
        CPTS_RETURN_IF_ERROR(Audit(conn, tenant_id, actor, "finance.entitlement.governance",
                                   "entitlement", e.id,
                                   absl::StrCat("{\"rated_cents\":", e.rated_cents,
                                                ",\"capped_cents\":", e.capped_cents, "}"),
                                   now));
        CPTS_RETURN_IF_ERROR(RememberKey(conn, tenant_id, &key, e.id, now));
        result.value = std::move(e);
        return absl::OkStatus();
      });
}

absl::StatusOr<WriteResult<Entitlement>> MysqlFinanceStore::ReverseEntitlement(
    absl::string_view tenant_id, absl::string_view reversed_event_key,
    absl::string_view reversal_event_key, absl::CivilDay value_date, absl::Time now) {
  const IdempotencyKey key{.scope = "ReverseEntitlement",
                           .request_id = std::string(reversal_event_key),
                           .fingerprint = std::string(reversed_event_key)};
  return RunWrite<Entitlement>(
      pool_, [&](Connection& conn, WriteResult<Entitlement>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, &key));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(StoredEntitlement s,
                                LoadEntitlement(conn, tenant_id, *replay, false));
          result.value = std::move(s.e);
          result.replayed = true;
          return absl::OkStatus();
        }
        CPTS_ASSIGN_OR_RETURN(std::optional<StoredEntitlement> found,
                              LoadEntitlementByKey(conn, tenant_id, reversed_event_key, true));
        if (!found.has_value()) {
          return absl::NotFoundError(
              absl::StrCat("no entitlement for event ", reversed_event_key, " to reverse"));
        }
        // A re-rated entitlement was reversed by its revision: the event now cancels the current
        // replacement, at the end of the chain.
        for (int hops = 0; found->e.status == EntitlementStatus::kReversed && hops < 100; ++hops) {
          sql::PreparedStatement& ps = conn.Prepare(kSelectReplacementForUpdate);
          Binder(ps).Str(tenant_id).Str(found->e.id);
          std::optional<StoredEntitlement> next;
          CPTS_RETURN_IF_ERROR(
              ForEachRow(ps, [&](RowReader& r) { next = ReadEntitlement(r, tenant_id); }));
          if (!next.has_value()) break;
          found = std::move(next);
        }
        CPTS_RETURN_IF_ERROR(CheckReversible(found->e));
        CPTS_RETURN_IF_ERROR(SetStatus(conn, tenant_id, found->e.id, EntitlementStatus::kReversed));
        CPTS_ASSIGN_OR_RETURN(const std::string reversal_id,
                              ReverseLedgerOf(conn, tenant_id, *found, value_date, ids_, now));
        if (found->e.status == EntitlementStatus::kPaid) {
          // The payee was paid what is now reversed: the reversal debited their payable
          // account, the recovery is what the next batch withholds to clear it.
          CPTS_ASSIGN_OR_RETURN(Entitlement recovery, RecoveryOf(found->e));
          recovery.tenant_id = std::string(tenant_id);
          recovery.id = ids_.NewId();
          recovery.approve_time = now;
          recovery.create_time = now;
          CPTS_RETURN_IF_ERROR(InsertEntitlement(conn, tenant_id, recovery, reversal_id));
        }
        CPTS_RETURN_IF_ERROR(RememberKey(conn, tenant_id, &key, found->e.id, now));
        found->e.status = EntitlementStatus::kReversed;
        ++found->e.row_version;
        result.value = std::move(found->e);
        return absl::OkStatus();
      });
}

absl::StatusOr<WriteResult<std::vector<Entitlement>>> MysqlFinanceStore::ApproveEntitlements(
    absl::string_view tenant_id, const std::vector<std::string>& ids, absl::string_view approver,
    absl::Time now, const IdempotencyKey* key) {
  return RunWrite<std::vector<Entitlement>>(
      pool_, [&](Connection& conn, WriteResult<std::vector<Entitlement>>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, key));
        if (replay.has_value()) {
          // Same fingerprint: the same ids. Return them as they are now.
          for (const std::string& id : ids) {
            CPTS_ASSIGN_OR_RETURN(StoredEntitlement s, LoadEntitlement(conn, tenant_id, id, false));
            result.value.push_back(std::move(s.e));
          }
          result.replayed = true;
          return absl::OkStatus();
        }
        // Lock in id order (no deadlock between two approvals of overlapping sets).
        std::vector<std::string> sorted = ids;
        std::sort(sorted.begin(), sorted.end());
        for (const std::string& id : sorted) {
          CPTS_ASSIGN_OR_RETURN(StoredEntitlement s, LoadEntitlement(conn, tenant_id, id, true));
          if (s.e.status != EntitlementStatus::kPending) {
            return absl::FailedPreconditionError(
                absl::StrCat("entitlement_ids: ", id, " is not pending approval"));
          }
        }
        for (const std::string& id : sorted) {
          sql::PreparedStatement& ps = conn.Prepare(kApproveEntitlement);
          Binder(ps)
              .Enum(EntitlementStatus::kApproved)
              .Str(approver)
              .Instant(now)
              .Str(tenant_id)
              .Str(id);
          ps.executeUpdate();
          CPTS_RETURN_IF_ERROR(Audit(conn, tenant_id, approver, "finance.entitlement.approve",
                                     "entitlement", id, "", now));
        }
        for (const std::string& id : ids) {
          CPTS_ASSIGN_OR_RETURN(StoredEntitlement s, LoadEntitlement(conn, tenant_id, id, false));
          result.value.push_back(std::move(s.e));
        }
        return RememberKey(conn, tenant_id, key, "", now);
      });
}

absl::StatusOr<std::vector<Entitlement>> MysqlFinanceStore::GetEntitlements(
    absl::string_view tenant_id, const std::vector<std::string>& ids) {
  std::vector<Entitlement> out;
  const absl::Status done =
      RunRead(pool_, "get entitlements", [&](Connection& conn) -> absl::Status {
        for (const std::string& id : ids) {
          CPTS_ASSIGN_OR_RETURN(StoredEntitlement s, LoadEntitlement(conn, tenant_id, id, false));
          out.push_back(std::move(s.e));
        }
        return absl::OkStatus();
      });
  if (!done.ok()) return done;
  return out;
}

absl::StatusOr<std::vector<Entitlement>> MysqlFinanceStore::ListEntitlements(
    absl::string_view tenant_id, const EntitlementFilter& filter, const Page& page,
    std::string* next_page_token) {
  const int limit = PageLimit(page, 100, 1000);
  std::string after_date = "0001-01-01";
  std::string after_id;
  if (!page.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(std::vector<std::string> f, DecodeToken(page.page_token, 2));
    absl::CivilDay day;
    if (!absl::ParseCivilTime(f[0], &day)) return absl::InvalidArgumentError("page_token");
    after_date = f[0];
    after_id = f[1];
  }
  const int status = filter.status.has_value() ? static_cast<int>(*filter.status) : 0;
  const int category = filter.category.has_value() ? static_cast<int>(*filter.category) : 0;
  const int year = filter.year;
  std::vector<Entitlement> out;
  const absl::Status done = RunRead(pool_, "list entitlements", [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kListEntitlements);
    Binder(ps)
        .Str(tenant_id)
        .Int(year)
        .Str(YearStart(year == 0 ? 2000 : year))
        .Str(YearEnd(year == 0 ? 2000 : year))
        .Str(filter.group_id)
        .Str(filter.group_id)
        .Str(filter.member_id)
        .Str(filter.member_id)
        .Int(status)
        .Int(status)
        .Int(category)
        .Int(category)
        .Str(after_date)
        .Str(after_date)
        .Str(after_id)
        .Int(limit + 1);
    return ForEachRow(ps, [&](RowReader& r) { out.push_back(ReadEntitlement(r, tenant_id).e); });
  });
  if (!done.ok()) return done;
  next_page_token->clear();
  if (static_cast<int>(out.size()) > limit) {
    out.resize(limit);
    *next_page_token = EncodeToken({absl::FormatCivilTime(out.back().meeting_date), out.back().id});
  }
  return out;
}

absl::StatusOr<std::vector<Entitlement>> MysqlFinanceStore::ListPayable(
    absl::string_view tenant_id, std::optional<absl::CivilDay> meetings_until) {
  std::vector<Entitlement> out;
  const absl::Status done = RunRead(pool_, "list payable", [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kListPayable);
    Binder(ps)
        .Str(tenant_id)
        .Enum(EntitlementStatus::kApproved)
        .Day(meetings_until)
        .Day(meetings_until);
    return ForEachRow(ps, [&](RowReader& r) { out.push_back(ReadEntitlement(r, tenant_id).e); });
  });
  if (!done.ok()) return done;
  return out;
}

// =========================================================================================
// Ledger
// =========================================================================================

absl::StatusOr<std::vector<LedgerTransaction>> MysqlFinanceStore::ListTransactions(
    absl::string_view tenant_id, int year, const std::optional<Account>& account, const Page& page,
    std::string* next_page_token) {
  const int limit = PageLimit(page, 100, 1000);
  int64_t after = 0;
  if (!page.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(std::vector<std::string> f, DecodeToken(page.page_token, 1));
    if (!absl::SimpleAtoi(f[0], &after)) return absl::InvalidArgumentError("page_token");
  }
  std::vector<LedgerTransaction> out;
  std::vector<int64_t> sequences;
  bool more = false;
  const absl::Status done =
      RunRead(pool_, "list transactions", [&](Connection& conn) -> absl::Status {
        {
          sql::PreparedStatement& ps = conn.Prepare(kListTransactions);
          const int kind = account.has_value() ? static_cast<int>(account->kind) : 0;
          Binder(ps)
              .Str(tenant_id)
              .Int(year)
              .Str(YearStart(year == 0 ? 2000 : year))
              .Str(YearEnd(year == 0 ? 2000 : year))
              .Int(kind)
              .Int(kind)
              .Str(account.has_value() ? account->key : std::string())
              .Int64(after)
              .Int(limit + 1);
          CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) {
            int64_t sequence = 0;
            out.push_back(ReadTransactionRow(r, tenant_id, &sequence));
            sequences.push_back(sequence);
          }));
        }
        if (static_cast<int>(out.size()) > limit) {
          more = true;
          out.resize(limit);
          sequences.resize(limit);
        }
        if (out.empty()) return absl::OkStatus();
        absl::flat_hash_map<std::string, size_t> index;
        for (size_t i = 0; i < out.size(); ++i) index.emplace(out[i].id, i);
        sql::PreparedStatement& ps = conn.Prepare(kEntriesBySequence);
        Binder(ps).Str(tenant_id).Int64(sequences.front()).Int64(sequences.back());
        return ForEachRow(ps, [&](RowReader& r) {
          const std::string id = r.Str();
          LedgerEntry e;
          e.account.kind = r.Enum<AccountKind>(static_cast<int>(AccountKind::kAciIncome));
          e.account.key = r.Str();
          e.amount_cents = r.Int64();
          auto it = index.find(id);
          if (it != index.end()) out[it->second].entries.push_back(std::move(e));
        });
      });
  if (!done.ok()) return done;
  next_page_token->clear();
  if (more) {
    *next_page_token = EncodeToken({absl::StrCat(sequences.back())});
  }
  return out;
}

absl::StatusOr<Balances> MysqlFinanceStore::GetBalances(absl::string_view tenant_id,
                                                        std::optional<absl::CivilDay> as_of) {
  Balances out;
  const absl::Status done = RunRead(pool_, "balances", [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kBalances);
    Binder(ps).Str(tenant_id).Day(as_of).Day(as_of);
    return ForEachRow(ps, [&](RowReader& r) {
      Account a;
      a.kind = r.Enum<AccountKind>(static_cast<int>(AccountKind::kAciIncome));
      a.key = r.Str();
      out[a] = r.Int64();
    });
  });
  if (!done.ok()) return done;
  return out;
}

// =========================================================================================
// Bank accounts and payment batches
// =========================================================================================

absl::Status MysqlFinanceStore::SetBankAccount(absl::string_view tenant_id,
                                               const PayeeBankAccount& account,
                                               absl::string_view actor) {
  return RunInTransaction(pool_, [&](Connection& conn) {
    const absl::Time now = IsFinite(account.update_time) ? account.update_time : clock_.Now();
    sql::PreparedStatement& ps = conn.Prepare(kUpsertBankAccount);
    Binder(ps)
        .Str(tenant_id)
        .Str(account.member_id)
        .Str(account.holder_name)
        .Str(account.iban)
        .Str(account.bic)
        .Instant(now);
    ps.executeUpdate();
    // An IBAN change decides where money goes: who made it is kept, the IBAN is not.
    const absl::string_view iban = account.iban;
    const absl::string_view last4 = iban.size() > 4 ? iban.substr(iban.size() - 4) : iban;
    return Audit(conn, tenant_id, actor, "finance.bank_account.set", "payee", account.member_id,
                 absl::StrCat("{\"iban_last4\":\"", last4, "\"}"), now);
  });
}

namespace {

absl::StatusOr<std::optional<PayeeBankAccount>> LoadBankAccount(Connection& conn,
                                                                absl::string_view tenant_id,
                                                                absl::string_view member_id) {
  sql::PreparedStatement& ps = conn.Prepare(kSelectBankAccount);
  Binder(ps).Str(tenant_id).Str(member_id);
  std::optional<PayeeBankAccount> out;
  CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) {
    PayeeBankAccount a;
    a.member_id = r.Str();
    a.holder_name = r.Str();
    a.iban = r.Str();
    a.bic = r.Str();
    a.update_time = r.Instant();
    out = std::move(a);
  }));
  return out;
}

void InsertBatchRows(Connection& conn, absl::string_view tenant_id, const PaymentBatch& b) {
  {
    sql::PreparedStatement& ps = conn.Prepare(kInsertBatch);
    Binder(ps)
        .Str(tenant_id)
        .Str(b.id)
        .Str(b.label)
        .Enum(b.state)
        .Day(b.execution_date)
        .Str(b.approved_by)
        .Instant(b.approve_time)
        .Instant(b.export_time)
        .Day(std::optional<absl::CivilDay>())
        .Instant(b.create_time);
    ps.executeUpdate();
  }
  for (size_t i = 0; i < b.lines.size(); ++i) {
    const BatchLine& l = b.lines[i];
    sql::PreparedStatement& ps = conn.Prepare(kInsertBatchLine);
    Binder(ps)
        .Str(tenant_id)
        .Str(b.id)
        .Int(static_cast<int>(i))
        .Str(l.payee_member_id)
        .Str(l.payee_name)
        .Str(l.iban)
        .Str(l.bic)
        .Str(absl::StrJoin(l.entitlement_ids, ","))
        .Int64(l.amount_cents)
        .Bool(l.blocked)
        .Str(l.blocked_reason)
        .Str(l.end_to_end_id)
        .Int64(l.recovered_cents);
    ps.executeUpdate();
  }
}

}  // namespace

absl::StatusOr<PayeeBankAccount> MysqlFinanceStore::GetBankAccount(absl::string_view tenant_id,
                                                                   absl::string_view member_id) {
  CPTS_ASSIGN_OR_RETURN(
      std::optional<PayeeBankAccount> out,
      ReadValue<std::optional<PayeeBankAccount>>(pool_, "get bank account", [&](Connection& conn) {
        return LoadBankAccount(conn, tenant_id, member_id);
      }));
  if (!out.has_value()) return NotFound("bank account of", member_id);
  return *std::move(out);
}

absl::StatusOr<std::map<std::string, PayeeBankAccount>> MysqlFinanceStore::GetBankAccounts(
    absl::string_view tenant_id, const std::vector<std::string>& member_ids) {
  std::map<std::string, PayeeBankAccount> out;
  const absl::Status done =
      RunRead(pool_, "get bank accounts", [&](Connection& conn) -> absl::Status {
        for (const std::string& id : member_ids) {
          CPTS_ASSIGN_OR_RETURN(std::optional<PayeeBankAccount> a,
                                LoadBankAccount(conn, tenant_id, id));
          if (a.has_value()) out[id] = *std::move(a);
        }
        return absl::OkStatus();
      });
  if (!done.ok()) return done;
  return out;
}

namespace {

absl::StatusOr<std::optional<DebtorAccount>> LoadDebtorAccount(Connection& conn,
                                                               absl::string_view tenant_id) {
  sql::PreparedStatement& ps = conn.Prepare(kSelectDebtorAccount);
  Binder(ps).Str(tenant_id);
  std::optional<DebtorAccount> out;
  CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) {
    DebtorAccount a;
    a.holder_name = r.Str();
    a.iban = r.Str();
    a.bic = r.Str();
    a.update_time = r.Instant();
    a.updated_by = r.Str();
    out = std::move(a);
  }));
  return out;
}

}  // namespace

absl::StatusOr<DebtorAccount> MysqlFinanceStore::SetDebtorAccount(absl::string_view tenant_id,
                                                                  const DebtorAccount& account,
                                                                  absl::string_view actor) {
  DebtorAccount out;
  const absl::Status done = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    const absl::Time now = IsFinite(account.update_time) ? account.update_time : clock_.Now();
    sql::PreparedStatement& ps = conn.Prepare(kUpsertDebtorAccount);
    Binder(ps)
        .Str(tenant_id)
        .Str(account.holder_name)
        .Str(account.iban)
        .Str(account.bic)
        .Instant(now)
        .Str(actor);
    ps.executeUpdate();
    // Where the CPTS's money leaves from: who changed it is kept, the IBAN is not.
    const absl::string_view iban = account.iban;
    const absl::string_view last4 = iban.size() > 4 ? iban.substr(iban.size() - 4) : iban;
    CPTS_RETURN_IF_ERROR(Audit(conn, tenant_id, actor, "finance.debtor_account.set",
                               "debtor_account", tenant_id,
                               absl::StrCat("{\"iban_last4\":\"", last4, "\"}"), now));
    CPTS_ASSIGN_OR_RETURN(std::optional<DebtorAccount> stored, LoadDebtorAccount(conn, tenant_id));
    if (!stored.has_value()) return absl::InternalError("debtor account vanished after its write");
    out = *std::move(stored);
    return absl::OkStatus();
  });
  if (!done.ok()) return done;
  return out;
}

absl::StatusOr<std::optional<DebtorAccount>> MysqlFinanceStore::GetDebtorAccount(
    absl::string_view tenant_id) {
  return ReadValue<std::optional<DebtorAccount>>(
      pool_, "get debtor account",
      [&](Connection& conn) { return LoadDebtorAccount(conn, tenant_id); });
}

absl::StatusOr<WriteResult<PaymentBatch>> MysqlFinanceStore::CreateBatch(
    absl::string_view tenant_id, const PaymentBatch& batch, const IdempotencyKey* key,
    absl::string_view actor) {
  return RunWrite<PaymentBatch>(
      pool_, [&](Connection& conn, WriteResult<PaymentBatch>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, key));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(result.value, LoadBatch(conn, tenant_id, *replay, false));
          result.replayed = true;
          return absl::OkStatus();
        }
        if (batch.lines.empty()) {
          return absl::FailedPreconditionError("no entitlement is approved and unbatched");
        }
        PaymentBatch b = batch;
        b.tenant_id = std::string(tenant_id);
        if (b.id.empty()) b.id = ids_.NewId();
        b.state = BatchState::kDraft;
        if (!IsFinite(b.create_time)) b.create_time = clock_.Now();
        b.row_version = 1;
        for (const std::string& id : HeldEntitlementIds(b)) {
          CPTS_ASSIGN_OR_RETURN(StoredEntitlement s, LoadEntitlement(conn, tenant_id, id, true));
          if (s.e.status != EntitlementStatus::kApproved || !s.e.batch_id.empty()) {
            return absl::AbortedError(absl::StrCat(
                "entitlement ", id, " is no longer approved and unbatched; build again"));
          }
          sql::PreparedStatement& ps = conn.Prepare(kBatchEntitlement);
          Binder(ps).Enum(EntitlementStatus::kBatched).Str(b.id).Str(tenant_id).Str(id);
          ps.executeUpdate();
        }
        InsertBatchRows(conn, tenant_id, b);
        CPTS_RETURN_IF_ERROR(Audit(conn, tenant_id, actor, "finance.batch.create", "payment_batch",
                                   b.id, absl::StrCat("{\"total_cents\":", PayableTotal(b), "}"),
                                   b.create_time));
        CPTS_RETURN_IF_ERROR(RememberKey(conn, tenant_id, key, b.id, b.create_time));
        result.value = std::move(b);
        return absl::OkStatus();
      });
}

absl::StatusOr<PaymentBatch> MysqlFinanceStore::GetBatch(absl::string_view tenant_id,
                                                         absl::string_view id) {
  return ReadValue<PaymentBatch>(
      pool_, "get batch", [&](Connection& conn) { return LoadBatch(conn, tenant_id, id, false); });
}

absl::StatusOr<std::vector<PaymentBatch>> MysqlFinanceStore::ListBatches(
    absl::string_view tenant_id, std::optional<BatchState> state, const Page& page,
    std::string* next_page_token) {
  const int limit = PageLimit(page, 50, 500);
  bool first = true;
  absl::Time after_time = absl::UnixEpoch();
  std::string after_id;
  if (!page.page_token.empty()) {
    CPTS_ASSIGN_OR_RETURN(std::vector<std::string> f, DecodeToken(page.page_token, 2));
    int64_t micros = 0;
    if (!absl::SimpleAtoi(f[0], &micros)) return absl::InvalidArgumentError("page_token");
    after_time = absl::FromUnixMicros(micros);
    after_id = f[1];
    first = false;
  }
  const int s = state.has_value() ? static_cast<int>(*state) : 0;
  std::vector<PaymentBatch> out;
  const absl::Status done = RunRead(pool_, "list batches", [&](Connection& conn) -> absl::Status {
    std::vector<std::string> ids;
    {
      sql::PreparedStatement& ps = conn.Prepare(kListBatches);
      Binder(ps)
          .Str(tenant_id)
          .Int(s)
          .Int(s)
          .Bool(first)
          .Instant(after_time)
          .Instant(after_time)
          .Str(after_id)
          .Int(limit + 1);
      CPTS_RETURN_IF_ERROR(
          ForEachRow(ps, [&](RowReader& r) { ids.push_back(ReadBatch(r, tenant_id).id); }));
    }
    for (const std::string& id : ids) {
      CPTS_ASSIGN_OR_RETURN(PaymentBatch b, LoadBatch(conn, tenant_id, id, false));
      out.push_back(std::move(b));
    }
    return absl::OkStatus();
  });
  if (!done.ok()) return done;
  next_page_token->clear();
  if (static_cast<int>(out.size()) > limit) {
    out.resize(limit);
    *next_page_token =
        EncodeToken({absl::StrCat(absl::ToUnixMicros(out.back().create_time)), out.back().id});
  }
  return out;
}

absl::StatusOr<PaymentBatch> MysqlFinanceStore::UpdateBatchState(absl::string_view tenant_id,
                                                                 const PaymentBatch& batch,
                                                                 int64_t expected_row_version,
                                                                 absl::string_view actor) {
  PaymentBatch out;
  const absl::Status done = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    CPTS_ASSIGN_OR_RETURN(PaymentBatch current, LoadBatch(conn, tenant_id, batch.id, true));
    if (current.row_version != expected_row_version) {
      return absl::AbortedError("etag: the batch changed since it was read");
    }
    {
      sql::PreparedStatement& ps = conn.Prepare(kUpdateBatch);
      Binder(ps)
          .Enum(batch.state)
          .Str(batch.approved_by)
          .Instant(batch.approve_time)
          .Instant(batch.export_time)
          .Day(current.state == BatchState::kPaid ? std::optional<absl::CivilDay>(current.paid_date)
                                                  : std::nullopt)
          .Str(tenant_id)
          .Str(batch.id)
          .Int64(expected_row_version);
      if (ps.executeUpdate() != 1) return absl::AbortedError("etag: the batch changed");
    }
    if (batch.state == BatchState::kCancelled) {
      sql::PreparedStatement& ps = conn.Prepare(kMoveBatchEntitlements);
      Binder(ps)
          .Enum(EntitlementStatus::kApproved)
          .Str("")
          .Str(tenant_id)
          .Str(batch.id)
          .Enum(EntitlementStatus::kBatched);
      ps.executeUpdate();
    }
    absl::string_view verb = "update";
    if (batch.state == BatchState::kApproved) verb = "approve";
    if (batch.state == BatchState::kExported) verb = "export";
    if (batch.state == BatchState::kCancelled) verb = "cancel";
    CPTS_RETURN_IF_ERROR(Audit(conn, tenant_id, actor, absl::StrCat("finance.batch.", verb),
                               "payment_batch", batch.id, "", clock_.Now()));
    CPTS_ASSIGN_OR_RETURN(out, LoadBatch(conn, tenant_id, batch.id, false));
    return absl::OkStatus();
  });
  if (!done.ok()) return done;
  return out;
}

absl::StatusOr<WriteResult<PaymentBatch>> MysqlFinanceStore::MarkBatchPaid(
    absl::string_view tenant_id, const PaymentBatch& batch, absl::CivilDay paid_date,
    const LedgerTransaction& payment, const IdempotencyKey* key, absl::string_view actor) {
  return RunWrite<PaymentBatch>(
      pool_, [&](Connection& conn, WriteResult<PaymentBatch>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, key));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(result.value, LoadBatch(conn, tenant_id, *replay, false));
          result.replayed = true;
          return absl::OkStatus();
        }
        CPTS_ASSIGN_OR_RETURN(PaymentBatch current, LoadBatch(conn, tenant_id, batch.id, true));
        if (current.state != BatchState::kExported) {
          return absl::FailedPreconditionError(
              absl::StrCat("batch ", batch.id, " is not exported; only an exported batch is paid"));
        }
        if (current.row_version != batch.row_version) {
          return absl::AbortedError("the batch changed since it was read");
        }
        const absl::Time now = clock_.Now();
        {
          sql::PreparedStatement& ps = conn.Prepare(kUpdateBatch);
          Binder(ps)
              .Enum(BatchState::kPaid)
              .Str(current.approved_by)
              .Instant(current.approve_time)
              .Instant(current.export_time)
              .Day(paid_date)
              .Str(tenant_id)
              .Str(batch.id)
              .Int64(current.row_version);
          if (ps.executeUpdate() != 1) return absl::AbortedError("the batch changed");
        }
        {
          sql::PreparedStatement& ps = conn.Prepare(kMoveBatchEntitlements);
          Binder(ps)
              .Enum(EntitlementStatus::kPaid)
              .Str(batch.id)
              .Str(tenant_id)
              .Str(batch.id)
              .Enum(EntitlementStatus::kBatched);
          ps.executeUpdate();
        }
        LedgerTransaction txn = payment;
        CPTS_RETURN_IF_ERROR(AppendTransaction(conn, tenant_id, txn, ids_, now));
        CPTS_RETURN_IF_ERROR(Audit(conn, tenant_id, actor, "finance.batch.paid", "payment_batch",
                                   batch.id, absl::StrCat("{\"transaction\":\"", txn.id, "\"}"),
                                   now));
        CPTS_RETURN_IF_ERROR(RememberKey(conn, tenant_id, key, batch.id, now));
        CPTS_ASSIGN_OR_RETURN(result.value, LoadBatch(conn, tenant_id, batch.id, false));
        return absl::OkStatus();
      });
}

// =========================================================================================
// ACI
// =========================================================================================

absl::StatusOr<WriteResult<AciContract>> MysqlFinanceStore::CreateContract(
    absl::string_view tenant_id, const AciContract& contract, const IdempotencyKey* key) {
  return RunWrite<AciContract>(
      pool_, [&](Connection& conn, WriteResult<AciContract>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, key));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(result.value, LoadContract(conn, tenant_id));
          result.replayed = true;
          return absl::OkStatus();
        }
        {
          sql::PreparedStatement& ps = conn.Prepare(kSelectContractForUpdate);
          Binder(ps).Str(tenant_id);
          std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
          if (rs->next()) return absl::AlreadyExistsError("the tenant already has an ACI contract");
        }
        AciContract c = contract;
        c.tenant_id = std::string(tenant_id);
        c.id = ids_.NewId();
        c.create_time = clock_.Now();
        c.row_version = 1;
        try {
          sql::PreparedStatement& ps = conn.Prepare(kInsertContract);
          Binder(ps)
              .Str(tenant_id)
              .Str(c.id)
              .Day(c.signature_date)
              .Int(c.duration_years)
              .Int(c.size)
              .Str(c.reference)
              .Instant(c.create_time);
          ps.executeUpdate();
        } catch (const sql::SQLException& e) {
          absl::Status s = MapSqlException(e, "insert contract");
          if (absl::IsAlreadyExists(s)) {
            return absl::AlreadyExistsError("the tenant already has an ACI contract");
          }
          return s;
        }
        CPTS_RETURN_IF_ERROR(RememberKey(conn, tenant_id, key, c.id, c.create_time));
        result.value = std::move(c);
        return absl::OkStatus();
      });
}

absl::StatusOr<AciContract> MysqlFinanceStore::GetContract(absl::string_view tenant_id) {
  return ReadValue<AciContract>(pool_, "get contract",
                                [&](Connection& conn) { return LoadContract(conn, tenant_id); });
}

absl::Status MysqlFinanceStore::SetEnvelope(absl::string_view tenant_id,
                                            const AciEnvelope& envelope,
                                            const std::vector<AciInstalment>& expected) {
  return RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    const absl::Time now = clock_.Now();
    std::vector<StoredInstalment> current;
    {
      sql::PreparedStatement& ps = conn.Prepare(kInstalmentsOfEnvelopeForUpdate);
      Binder(ps).Str(tenant_id).Int(envelope.year).Enum(envelope.kind).Str(envelope.mission_id);
      CPTS_RETURN_IF_ERROR(
          ForEachRow(ps, [&](RowReader& r) { current.push_back(ReadInstalment(r)); }));
    }
    {
      sql::PreparedStatement& ps = conn.Prepare(kUpsertEnvelope);
      Binder(ps)
          .Str(tenant_id)
          .Int(envelope.year)
          .Enum(envelope.kind)
          .Str(envelope.mission_id)
          .Int64(envelope.fixed_cents)
          .Int64(envelope.variable_cents)
          .Int(envelope.advance_basis_points);
      ps.executeUpdate();
    }
    auto find_expected = [&](InstalmentKind kind) -> const AciInstalment* {
      for (const AciInstalment& i : expected) {
        if (i.kind == kind) return &i;
      }
      return nullptr;
    };
    // Existing instalments: unchanged, replaced (expected transaction reversed, new one
    // appended) or removed.
    for (const StoredInstalment& s : current) {
      const AciInstalment* want = find_expected(s.i.kind);
      const Cents new_cents = want == nullptr ? 0 : want->expected_cents;
      const bool same =
          want != nullptr && new_cents == s.i.expected_cents && want->due_date == s.i.due_date;
      if (same) continue;
      if (s.i.received_cents > 0 && new_cents != s.i.expected_cents) {
        return absl::FailedPreconditionError(absl::StrCat(
            "envelope: instalment ", s.i.id, " already received money; its amount cannot change"));
      }
      std::string txn_id = s.expected_transaction_id;
      if (new_cents != s.i.expected_cents) {
        if (!s.expected_transaction_id.empty()) {
          CPTS_ASSIGN_OR_RETURN(LedgerTransaction original,
                                LoadTransaction(conn, tenant_id, s.expected_transaction_id));
          CPTS_ASSIGN_OR_RETURN(LedgerTransaction reversal,
                                ReversalOf(original, absl::ToCivilDay(now, absl::UTCTimeZone())));
          reversal.source_id = s.i.id;
          CPTS_RETURN_IF_ERROR(AppendTransaction(conn, tenant_id, reversal, ids_, now));
        }
        txn_id.clear();
        if (new_cents > 0) {
          AciInstalment i = *want;
          i.id = s.i.id;
          CPTS_ASSIGN_OR_RETURN(LedgerTransaction t, AciExpectedTransaction(i));
          t.source_id = s.i.id;
          CPTS_RETURN_IF_ERROR(AppendTransaction(conn, tenant_id, t, ids_, now));
          txn_id = t.id;
        }
      }
      if (want == nullptr) {
        sql::PreparedStatement& ps = conn.Prepare(kDeleteInstalment);
        Binder(ps).Str(tenant_id).Str(s.i.id);
        ps.executeUpdate();
        continue;
      }
      sql::PreparedStatement& ps = conn.Prepare(kUpdateInstalmentExpected);
      Binder(ps).Int64(new_cents).Day(want->due_date).Str(txn_id).Str(tenant_id).Str(s.i.id);
      ps.executeUpdate();
    }
    for (const AciInstalment& want : expected) {
      const bool exists = std::any_of(current.begin(), current.end(),
                                      [&](const auto& s) { return s.i.kind == want.kind; });
      if (exists || want.expected_cents <= 0) continue;
      AciInstalment i = want;
      i.id = ids_.NewId();
      i.year = envelope.year;
      i.envelope_kind = envelope.kind;
      i.mission_id = envelope.mission_id;
      CPTS_ASSIGN_OR_RETURN(LedgerTransaction t, AciExpectedTransaction(i));
      t.source_id = i.id;
      CPTS_RETURN_IF_ERROR(AppendTransaction(conn, tenant_id, t, ids_, now));
      sql::PreparedStatement& ps = conn.Prepare(kInsertInstalment);
      Binder(ps)
          .Str(tenant_id)
          .Str(i.id)
          .Int(i.year)
          .Enum(i.envelope_kind)
          .Str(i.mission_id)
          .Enum(i.kind)
          .Int64(i.expected_cents)
          .Day(i.due_date)
          .Str(t.id);
      ps.executeUpdate();
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<AciEnvelope>> MysqlFinanceStore::ListEnvelopes(
    absl::string_view tenant_id, int year) {
  std::vector<AciEnvelope> out;
  const absl::Status done = RunRead(pool_, "list envelopes", [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kListEnvelopes);
    Binder(ps).Str(tenant_id).Int(year);
    return ForEachRow(ps, [&](RowReader& r) {
      AciEnvelope e;
      e.year = r.Int();
      e.kind = r.Enum<EnvelopeKind>(static_cast<int>(EnvelopeKind::kMission));
      e.mission_id = r.Str();
      e.fixed_cents = r.Int64();
      e.variable_cents = r.Int64();
      e.advance_basis_points = r.Int();
      out.push_back(std::move(e));
    });
  });
  if (!done.ok()) return done;
  return out;
}

absl::StatusOr<std::vector<AciInstalment>> MysqlFinanceStore::ListInstalments(
    absl::string_view tenant_id, int year) {
  std::vector<AciInstalment> out;
  const absl::Status done = RunRead(pool_, "list instalments", [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kListInstalments);
    Binder(ps).Str(tenant_id).Int(year);
    return ForEachRow(ps, [&](RowReader& r) { out.push_back(ReadInstalment(r).i); });
  });
  if (!done.ok()) return done;
  return out;
}

absl::StatusOr<WriteResult<AciInstalment>> MysqlFinanceStore::RecordInstalmentReceived(
    absl::string_view tenant_id, absl::string_view instalment_id, Cents received_cents,
    absl::CivilDay received_date, const IdempotencyKey* key) {
  return RunWrite<AciInstalment>(
      pool_, [&](Connection& conn, WriteResult<AciInstalment>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, key));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(StoredInstalment s,
                                LoadInstalment(conn, tenant_id, *replay, false));
          result.value = std::move(s.i);
          result.replayed = true;
          return absl::OkStatus();
        }
        CPTS_ASSIGN_OR_RETURN(StoredInstalment s,
                              LoadInstalment(conn, tenant_id, instalment_id, true));
        const absl::Time now = clock_.Now();
        CPTS_ASSIGN_OR_RETURN(LedgerTransaction t,
                              AciReceivedTransaction(s.i, received_cents, received_date));
        t.source_id = s.i.id;
        CPTS_RETURN_IF_ERROR(AppendTransaction(conn, tenant_id, t, ids_, now));
        s.i.received_cents += received_cents;
        s.i.received_date = received_date;
        sql::PreparedStatement& ps = conn.Prepare(kUpdateInstalmentReceived);
        Binder(ps).Int64(s.i.received_cents).Day(received_date).Str(tenant_id).Str(s.i.id);
        ps.executeUpdate();
        CPTS_RETURN_IF_ERROR(RememberKey(conn, tenant_id, key, s.i.id, now));
        result.value = std::move(s.i);
        return absl::OkStatus();
      });
}

absl::Status MysqlFinanceStore::SetAttainment(absl::string_view tenant_id,
                                              const IndicatorAttainment& a) {
  return RunInTransaction(pool_, [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kUpsertAttainment);
    Binder(ps)
        .Str(tenant_id)
        .Int(a.year)
        .Str(a.indicator_id)
        .Str(a.mission_id)
        .Str(a.label)
        .Int(a.weight_basis_points)
        .Int64(a.target_milli)
        .Int64(a.achieved_milli);
    ps.executeUpdate();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<IndicatorAttainment>> MysqlFinanceStore::ListAttainments(
    absl::string_view tenant_id, int year) {
  std::vector<IndicatorAttainment> out;
  const absl::Status done = RunRead(pool_, "list attainments", [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kListAttainments);
    Binder(ps).Str(tenant_id).Int(year);
    return ForEachRow(ps, [&](RowReader& r) {
      IndicatorAttainment a;
      a.year = r.Int();
      a.mission_id = r.Str();
      a.indicator_id = r.Str();
      a.label = r.Str();
      a.weight_basis_points = r.Int();
      a.target_milli = r.Int64();
      a.achieved_milli = r.Int64();
      out.push_back(std::move(a));
    });
  });
  if (!done.ok()) return done;
  return out;
}

absl::StatusOr<ActionBudget> MysqlFinanceStore::UpsertBudget(absl::string_view tenant_id,
                                                             const ActionBudget& budget,
                                                             int64_t expected_row_version) {
  ActionBudget out;
  const absl::Status done = RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    std::optional<int64_t> current;
    {
      sql::PreparedStatement& ps = conn.Prepare(kSelectBudgetForUpdate);
      Binder(ps).Str(tenant_id).Int(budget.year).Str(budget.action_id);
      CPTS_RETURN_IF_ERROR(ForEachRow(ps, [&](RowReader& r) { current = r.Int64(); }));
    }
    if (!current.has_value()) {
      if (expected_row_version != 0) return absl::AbortedError("etag: the budget does not exist");
      try {
        sql::PreparedStatement& ps = conn.Prepare(kInsertBudget);
        Binder(ps)
            .Str(tenant_id)
            .Int(budget.year)
            .Str(budget.action_id)
            .Str(budget.mission_id)
            .Int64(budget.allocated_cents)
            .Int64(budget.committed_cents);
        ps.executeUpdate();
      } catch (const sql::SQLException& e) {
        absl::Status s = MapSqlException(e, "insert budget");
        if (absl::IsAlreadyExists(s)) return absl::AbortedError("budget created concurrently");
        return s;
      }
    } else {
      if (expected_row_version != 0 && *current != expected_row_version) {
        return absl::AbortedError("etag: the budget changed since it was read");
      }
      sql::PreparedStatement& ps = conn.Prepare(kUpdateBudget);
      Binder(ps)
          .Str(budget.mission_id)
          .Int64(budget.allocated_cents)
          .Int64(budget.committed_cents)
          .Str(tenant_id)
          .Int(budget.year)
          .Str(budget.action_id)
          .Int64(*current);
      ps.executeUpdate();
    }
    sql::PreparedStatement& ps = conn.Prepare(kSelectBudget);
    Binder(ps).Str(tenant_id).Int(budget.year).Str(budget.action_id);
    return ForEachRow(ps, [&](RowReader& r) { out = ReadBudget(r); });
  });
  if (!done.ok()) return done;
  return out;
}

absl::StatusOr<std::vector<ActionBudget>> MysqlFinanceStore::ListBudgets(
    absl::string_view tenant_id, int year) {
  std::vector<ActionBudget> out;
  const absl::Status done = RunRead(pool_, "list budgets", [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kListBudgets);
    Binder(ps).Str(tenant_id).Int(year);
    return ForEachRow(ps, [&](RowReader& r) { out.push_back(ReadBudget(r)); });
  });
  if (!done.ok()) return done;
  return out;
}

absl::StatusOr<WriteResult<Expense>> MysqlFinanceStore::RecordExpense(absl::string_view tenant_id,
                                                                      const Expense& expense,
                                                                      const IdempotencyKey* key) {
  return RunWrite<Expense>(
      pool_, [&](Connection& conn, WriteResult<Expense>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, key));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(result.value, LoadExpense(conn, tenant_id, *replay));
          result.replayed = true;
          return absl::OkStatus();
        }
        const absl::Time now = clock_.Now();
        Expense x = expense;
        x.tenant_id = std::string(tenant_id);
        x.id = ids_.NewId();
        x.create_time = now;
        CPTS_ASSIGN_OR_RETURN(LedgerTransaction t, ExpenseTransaction(x));
        t.source_id = x.id;
        CPTS_RETURN_IF_ERROR(AppendTransaction(conn, tenant_id, t, ids_, now));
        sql::PreparedStatement& ps = conn.Prepare(kInsertExpense);
        Binder(ps)
            .Str(tenant_id)
            .Str(x.id)
            .Str(x.action_id)
            .Enum(x.category)
            .Int64(x.amount_cents)
            .Day(x.expense_date)
            .Str(x.supplier)
            .Str(x.reference)
            .Instant(now);
        ps.executeUpdate();
        CPTS_RETURN_IF_ERROR(RememberKey(conn, tenant_id, key, x.id, now));
        result.value = std::move(x);
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<Expense>> MysqlFinanceStore::ListExpenses(absl::string_view tenant_id,
                                                                     int year,
                                                                     absl::string_view action_id) {
  std::vector<Expense> out;
  const absl::Status done = RunRead(pool_, "list expenses", [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kListExpenses);
    Binder(ps)
        .Str(tenant_id)
        .Int(year)
        .Str(YearStart(year == 0 ? 2000 : year))
        .Str(YearEnd(year == 0 ? 2000 : year))
        .Str(action_id)
        .Str(action_id);
    return ForEachRow(ps, [&](RowReader& r) { out.push_back(ReadExpense(r, tenant_id)); });
  });
  if (!done.ok()) return done;
  return out;
}

absl::StatusOr<std::vector<PaidIndemnity>> MysqlFinanceStore::ListPaidIndemnities(
    absl::string_view tenant_id, int year) {
  std::vector<PaidIndemnity> out;
  const absl::Status done = RunRead(pool_, "list paid indemnities", [&](Connection& conn) {
    sql::PreparedStatement& ps = conn.Prepare(kListPaidIndemnities);
    Binder(ps)
        .Str(tenant_id)
        .Enum(EntitlementStatus::kPaid)
        .Str(YearStart(year))
        .Str(YearEnd(year));
    return ForEachRow(ps, [&](RowReader& r) {
      PaidIndemnity p;
      p.action_id = r.Str();
      p.member_id = r.Str();
      p.amount_cents = r.Int64();
      out.push_back(std::move(p));
    });
  });
  if (!done.ok()) return done;
  return out;
}

}  // namespace cpts::finance
