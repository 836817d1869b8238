#pragma once

// Plain C++ types of the finance domain. No gRPC, no SQL: the gRPC layer converts
// cpts.finance.v1 messages (and the projects service's AttendanceEntitlementEvent) to and from
// these, and the stores persist them.
//
// Calendar dates are absl::CivilDay (a day in the CPTS's local calendar); instants are
// absl::Time (UTC). Money is int64 euro cents, never floating point.

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cpts::finance {

using Cents = int64_t;

// ---------------------------------------------------------------------------------------
// Indemnity policies and the annual ceiling
// ---------------------------------------------------------------------------------------

enum class PolicyKind { kUnspecified, kPerMeeting, kPerHourPoints };

// One version of a tenant's indemnity policy for a calendar year.
struct IndemnityPolicy {
  std::string id{};
  std::string tenant_id{};
  int year = 0;
  PolicyKind kind = PolicyKind::kUnspecified;
  // kPerMeeting.
  Cents member_amount_cents = 0;
  Cents referent_amount_cents = 0;
  // kPerHourPoints: thousandths of a point per hour, and the euro value of one point.
  int64_t member_millipoints_per_hour = 0;
  int64_t referent_millipoints_per_hour = 0;
  Cents point_value_cents = 0;
  std::string decision_reference{};
  int version = 0;        // 1, 2, ... within the year
  bool frozen = false;    // entitlements were computed under this version
  bool in_force = false;  // the version that rates the year's meetings
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  int64_t row_version = 0;  // bumped by the store on every write; the etag derives from it
};

// ---------------------------------------------------------------------------------------
// Attendance (input from projects) and eligibility facts (from membership)
// ---------------------------------------------------------------------------------------

enum class AttendanceRole { kUnspecified, kReferent, kMember, kGuest, kStaff };

// One attendance line, as carried by projects' AttendanceEntitlementEvent.
struct AttendanceLine {
  std::string tenant_id{};
  std::string idempotency_key{};  // "<meeting>/<participant>/v<n>" (+ "/reversal")
  std::string meeting_id{};
  std::string group_id{};
  std::string action_id{};
  std::string participant_id{};
  std::string member_id{};  // empty for a guest who is not a member
  AttendanceRole role = AttendanceRole::kUnspecified;
  bool present = false;
  int minutes_worked = 0;
  absl::CivilDay meeting_date{};
  int sheet_version = 0;
  bool correction = false;
  bool reversal = false;
  bool indemnifiable = false;
};

// Mirrors of the membership service's enums (cpts.membership.v1), so the domain does not
// depend on another service's library.
enum class ExerciseMode { kUnspecified, kLiberal, kSalaried, kMixed };
enum class MemberPayeeKind { kUnspecified, kSelf, kEmployer, kNone };
enum class PayeeNoneReason {
  kUnspecified,
  kMemberNotActive,
  kLegalEntity,
  kNoValidConvention,
  kNoExerciseMode,
};

// The body a governance indemnity is paid for (numbered as membership's MandateBody).
enum class GovernanceBody { kUnspecified, kBureau, kBoard };

// What membership's GetMemberProfile says about the member on the meeting date.
struct MemberFacts {
  std::string member_id{};
  bool up_to_date = false;  // up to date for the membership year of the meeting date
  ExerciseMode exercise_mode = ExerciseMode::kUnspecified;
  MemberPayeeKind payee_kind = MemberPayeeKind::kUnspecified;
  std::string employer_member_id{};  // kEmployer
  std::string convention_id{};       // kEmployer
  PayeeNoneReason none_reason = PayeeNoneReason::kUnspecified;
  // Bodies the member holds a mandate in on the day (staff mandates left out), in increasing
  // order: a governance indemnity is due only for one of them.
  std::vector<GovernanceBody> governance_bodies{};
};

// ---------------------------------------------------------------------------------------
// Entitlements
// ---------------------------------------------------------------------------------------

enum class EntitlementCategory { kUnspecified, kRemuneration, kIndemnity };

enum class EntitlementStatus {
  kUnspecified,
  kPending,
  kApproved,
  kBatched,
  kPaid,
  kIneligible,
  kReversed,
};

enum class IneligibleReason {
  kUnspecified,  // eligible
  kGuest,
  kStaff,
  kNotAMember,
  kNotUpToDate,
  kNoEmployerConvention,
  kNoPayee,
  kAbsent,
  kNoPolicy,
  kAnnualCapReached,
};

enum class PayeeType { kUnspecified, kSelf, kEmployer };

struct PayeeRef {
  PayeeType type = PayeeType::kUnspecified;
  std::string member_id{};      // who is paid
  std::string convention_id{};  // kEmployer
  bool operator==(const PayeeRef&) const = default;
};

// An attendance line rated under a policy (kRemuneration), a governance indemnity recorded by
// the treasurer (kIndemnity, no meeting), or a recovery: the negative of a paid entitlement
// that was reversed, withheld from the payee's next payment (IsRecovery).
struct Entitlement {
  std::string id{};
  std::string tenant_id{};
  // Of the attendance event that created it; "governance/<request_id>" for a governance
  // indemnity; "<reversed key>/recovery" for a recovery.
  std::string idempotency_key{};
  std::string meeting_id{};
  std::string group_id{};
  std::string action_id{};  // governance indemnities: kGovernanceActionKey
  std::string participant_id{};
  std::string member_id{};        // the professional who attended (the cap is theirs)
  absl::CivilDay meeting_date{};  // or the day of the governance work
  int sheet_version = 0;
  AttendanceRole role = AttendanceRole::kUnspecified;
  int minutes_worked = 0;
  EntitlementCategory category = EntitlementCategory::kRemuneration;
  std::string policy_id{};
  Cents rated_cents = 0;   // what the policy gives
  Cents capped_cents = 0;  // refused by the annual cap
  Cents amount_cents = 0;  // due: rated - capped; negative for a recovery
  IneligibleReason ineligible_reason = IneligibleReason::kUnspecified;
  std::string cap_reason{};
  PayeeRef payee{};
  EntitlementStatus status = EntitlementStatus::kPending;
  std::string supersedes_id{};
  std::string batch_id{};
  std::string approved_by{};
  absl::Time approve_time = absl::InfinitePast();
  absl::Time create_time = absl::InfinitePast();
  int64_t row_version = 0;
  GovernanceBody governance_body = GovernanceBody::kUnspecified;  // governance indemnities
  std::string reason{};  // governance: what it compensates; recovery: what it recovers
};

// A governance indemnity as the treasurer records it (RecordGovernanceIndemnity).
struct GovernanceClaim {
  std::string tenant_id{};
  std::string member_id{};
  absl::CivilDay work_date{};
  Cents amount_cents = 0;
  GovernanceBody body = GovernanceBody::kUnspecified;
  std::string reason{};
  std::string request_id{};
};

// The budget line governance indemnities are charged to (an action id no action has: with no
// budget of that id, the ACI report counts it as functioning).
inline constexpr char kGovernanceActionKey[] = "governance";

// A recovery is the only kind of entitlement with a negative amount.
inline bool IsRecovery(const Entitlement& e) { return e.amount_cents < 0; }

// ---------------------------------------------------------------------------------------
// Ledger
// ---------------------------------------------------------------------------------------

enum class AccountKind {
  kUnspecified,
  kIndemnityExpense,  // key = action id
  kPayable,           // key = payee member id
  kBank,              // key empty
  kOperatingExpense,  // key = action id
  kSupplierPayable,   // key empty
  kAciReceivable,     // key = mission id, empty for functioning
  kAciIncome,         // key = mission id, empty for functioning
};

struct Account {
  AccountKind kind = AccountKind::kUnspecified;
  std::string key{};
  bool operator==(const Account&) const = default;
  bool operator<(const Account& o) const { return std::tie(kind, key) < std::tie(o.kind, o.key); }
};

// Positive = debit, negative = credit.
struct LedgerEntry {
  Account account{};
  Cents amount_cents = 0;
  bool operator==(const LedgerEntry&) const = default;
};

enum class TransactionKind {
  kUnspecified,
  kEntitlement,
  kReversal,
  kPayment,
  kExpense,
  kAciExpected,
  kAciReceived,
};

struct LedgerTransaction {
  std::string id{};  // assigned by the store
  std::string tenant_id{};
  TransactionKind kind = TransactionKind::kUnspecified;
  absl::CivilDay value_date{};
  std::string description{};
  std::vector<LedgerEntry> entries{};
  std::string reverses_id{};  // kReversal
  std::string source_id{};    // entitlement, batch, expense or instalment id
  absl::Time create_time = absl::InfinitePast();
};

// ---------------------------------------------------------------------------------------
// Payment batches
// ---------------------------------------------------------------------------------------

enum class BatchState { kUnspecified, kDraft, kApproved, kExported, kPaid, kCancelled };

struct PayeeBankAccount {
  std::string member_id{};
  std::string holder_name{};
  std::string iban{};  // as recorded; validated again when a batch is built
  std::string bic{};
  absl::Time update_time = absl::InfinitePast();
};

// The CPTS's own account, debtor of its SEPA files (one per tenant).
struct DebtorAccount {
  std::string holder_name{};
  std::string iban{};  // normalised
  std::string bic{};   // normalised, optional
  absl::Time update_time = absl::InfinitePast();
  std::string updated_by{};
};

struct BatchLine {
  std::string payee_member_id{};
  std::string payee_name{};
  std::string iban{};
  std::string bic{};
  std::vector<std::string> entitlement_ids{};  // recoveries included
  Cents amount_cents = 0;                      // net: positives - recovered_cents
  bool blocked = false;  // blocked lines are not exported nor paid; their entitlements stay
                         // approved and go into a later batch
  std::string blocked_reason{};
  std::string end_to_end_id{};
  Cents recovered_cents = 0;  // the payee's recoveries netted here (positive)
};

struct PaymentBatch {
  std::string id{};
  std::string tenant_id{};
  std::string label{};
  BatchState state = BatchState::kDraft;
  absl::CivilDay execution_date{};
  std::vector<BatchLine> lines{};
  std::string approved_by{};
  absl::Time approve_time = absl::InfinitePast();
  absl::Time export_time = absl::InfinitePast();
  absl::CivilDay paid_date{};
  absl::Time create_time = absl::InfinitePast();
  int64_t row_version = 0;
};

// ---------------------------------------------------------------------------------------
// ACI funding
// ---------------------------------------------------------------------------------------

struct AciContract {
  std::string id{};
  std::string tenant_id{};
  absl::CivilDay signature_date{};
  int duration_years = 5;
  int size = 0;  // taille 1..4
  std::string reference{};
  absl::Time create_time = absl::InfinitePast();
  int64_t row_version = 0;
};

enum class EnvelopeKind { kUnspecified, kFunctioning, kMission };

// The money of one calendar year for one envelope. Amounts are configuration (contract and
// amendments), never constants in code.
struct AciEnvelope {
  int year = 0;
  EnvelopeKind kind = EnvelopeKind::kUnspecified;
  std::string mission_id{};  // kMission
  Cents fixed_cents = 0;
  Cents variable_cents = 0;         // at 100 % attainment; 0 for functioning
  int advance_basis_points = 7500;  // share of the fixed part advanced at the anniversary
};

enum class InstalmentKind { kUnspecified, kFixedAdvance, kFixedBalance, kVariable };

struct AciInstalment {
  std::string id{};
  int year = 0;
  EnvelopeKind envelope_kind = EnvelopeKind::kUnspecified;
  std::string mission_id{};
  InstalmentKind kind = InstalmentKind::kUnspecified;
  Cents expected_cents = 0;
  absl::CivilDay due_date{};
  Cents received_cents = 0;
  absl::CivilDay received_date{};  // meaningful when received_cents > 0
};

struct IndicatorAttainment {
  int year = 0;
  std::string mission_id{};
  std::string indicator_id{};
  std::string label{};
  int weight_basis_points = 0;  // a mission's weights sum to 10000
  int64_t target_milli = 0;
  int64_t achieved_milli = 0;
};

struct ActionBudget {
  std::string action_id{};
  std::string mission_id{};  // empty: the action is funded by the functioning envelope
  int year = 0;
  Cents allocated_cents = 0;
  Cents committed_cents = 0;
  int64_t row_version = 0;
};

enum class ExpenseCategory {
  kUnspecified,
  kStaff,
  kServices,
  kEquipment,
  kCommunication,
  kTravel,
  kOther,
};

struct Expense {
  std::string id{};
  std::string tenant_id{};
  std::string action_id{};
  ExpenseCategory category = ExpenseCategory::kUnspecified;
  Cents amount_cents = 0;
  absl::CivilDay expense_date{};
  std::string supplier{};
  std::string reference{};
  absl::Time create_time = absl::InfinitePast();
};

}  // namespace cpts::finance
