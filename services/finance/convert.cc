#include "services/finance/convert.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "services/finance/batch.h"
#include "services/finance/validators.h"
#include "services/platform/core/status_macros.h"

namespace cpts::finance {
namespace {

// The domain enum of a proto enum value in [0, max]; InvalidArgument otherwise.
template <typename E>
absl::StatusOr<E> EnumFromProto(int value, int max, absl::string_view field) {
  if (value < 0 || value > max) return FieldError(field, "unknown value");
  return static_cast<E>(value);
}

}  // namespace

void ToProto(absl::CivilDay day, common::v1::Date* out) {
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
}

absl::StatusOr<std::optional<absl::CivilDay>> OptionalDay(const common::v1::Date& date,
                                                          absl::string_view field) {
  if (date.year() == 0 && date.month() == 0 && date.day() == 0) return std::nullopt;
  const absl::CivilDay day(date.year(), date.month(), date.day());
  if (day.year() != date.year() || day.month() != date.month() || day.day() != date.day() ||
      date.year() < kMinYear || date.year() > kMaxYear) {
    return FieldError(field, "not a valid date");
  }
  return day;
}

absl::StatusOr<absl::CivilDay> RequiredDay(const common::v1::Date& date, absl::string_view field) {
  CPTS_ASSIGN_OR_RETURN(std::optional<absl::CivilDay> day, OptionalDay(date, field));
  if (!day.has_value()) return FieldError(field, "required");
  return *day;
}

void ToProto(absl::Time time, google::protobuf::Timestamp* out) {
  if (time == absl::InfinitePast() || time == absl::InfiniteFuture()) return;
  const int64_t micros = absl::ToUnixMicros(time);
  int64_t seconds = micros / 1'000'000;
  int64_t rest = micros % 1'000'000;
  if (rest < 0) {
    rest += 1'000'000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rest * 1000));
}

absl::StatusOr<AttendanceLine> FromProto(const projects::v1::AttendanceEntitlementEvent& in) {
  AttendanceLine l;
  l.tenant_id = in.tenant_id();
  l.idempotency_key = in.idempotency_key();
  l.meeting_id = in.meeting_id();
  l.group_id = in.group_id();
  l.action_id = in.action_id();
  l.participant_id = in.participant_id();
  l.member_id = in.member_id();
  CPTS_ASSIGN_OR_RETURN(l.role, EnumFromProto<AttendanceRole>(
                                    in.role(), projects::v1::EntitlementRole_MAX, "event.role"));
  l.present = in.present();
  l.minutes_worked = in.minutes_worked();
  CPTS_ASSIGN_OR_RETURN(l.meeting_date, RequiredDay(in.meeting_date(), "event.meeting_date"));
  l.sheet_version = in.sheet_version();
  l.correction = in.correction();
  l.reversal = in.reversal();
  l.indemnifiable = in.indemnifiable();
  return l;
}

absl::StatusOr<IndemnityPolicy> FromProto(const v1::IndemnityPolicy& in) {
  IndemnityPolicy p;
  p.id = in.id();
  p.year = in.year();
  CPTS_ASSIGN_OR_RETURN(p.kind,
                        EnumFromProto<PolicyKind>(in.kind(), v1::PolicyKind_MAX, "policy.kind"));
  p.member_amount_cents = in.member_amount_cents();
  p.referent_amount_cents = in.referent_amount_cents();
  p.member_millipoints_per_hour = in.member_millipoints_per_hour();
  p.referent_millipoints_per_hour = in.referent_millipoints_per_hour();
  p.point_value_cents = in.point_value_cents();
  p.decision_reference = in.decision_reference();
  return p;
}

void ToProto(const IndemnityPolicy& in, v1::IndemnityPolicy* out) {
  out->set_id(in.id);
  out->set_year(in.year);
  out->set_kind(static_cast<v1::PolicyKind>(in.kind));
  out->set_member_amount_cents(in.member_amount_cents);
  out->set_referent_amount_cents(in.referent_amount_cents);
  out->set_member_millipoints_per_hour(in.member_millipoints_per_hour);
  out->set_referent_millipoints_per_hour(in.referent_millipoints_per_hour);
  out->set_point_value_cents(in.point_value_cents);
  out->set_decision_reference(in.decision_reference);
  out->set_version(in.version);
  out->set_frozen(in.frozen);
  out->set_in_force(in.in_force);
  ToProto(in.create_time, out->mutable_create_time());
  ToProto(in.update_time, out->mutable_update_time());
  out->set_etag(Etag(in.row_version));
}

absl::StatusOr<PolicyMask> PolicyMaskFromProto(const google::protobuf::FieldMask& mask) {
  if (mask.paths_size() == 0) return FieldError("update_mask", "required");
  PolicyMask m;
  for (const std::string& path : mask.paths()) {
    if (path == "kind") {
      m.kind = true;
    } else if (path == "member_amount_cents") {
      m.member_amount_cents = true;
    } else if (path == "referent_amount_cents") {
      m.referent_amount_cents = true;
    } else if (path == "member_millipoints_per_hour") {
      m.member_millipoints_per_hour = true;
    } else if (path == "referent_millipoints_per_hour") {
      m.referent_millipoints_per_hour = true;
    } else if (path == "point_value_cents") {
      m.point_value_cents = true;
    } else if (path == "decision_reference") {
      m.decision_reference = true;
    } else {
      return FieldError("update_mask", absl::StrCat("'", path, "' cannot be updated"));
    }
  }
  return m;
}

void ToProto(const Entitlement& in, v1::Entitlement* out) {
  out->set_id(in.id);
  out->set_meeting_id(in.meeting_id);
  out->set_group_id(in.group_id);
  out->set_action_id(in.action_id);
  out->set_member_id(in.member_id);
  ToProto(in.meeting_date, out->mutable_meeting_date());
  out->set_sheet_version(in.sheet_version);
  out->set_role(static_cast<v1::AttendanceRole>(in.role));
  out->set_minutes_worked(in.minutes_worked);
  out->set_category(static_cast<v1::EntitlementCategory>(in.category));
  out->set_policy_id(in.policy_id);
  out->set_rated_cents(in.rated_cents);
  out->set_capped_cents(in.capped_cents);
  out->set_amount_cents(in.amount_cents);
  out->set_ineligible_reason(static_cast<v1::IneligibleReason>(in.ineligible_reason));
  out->set_cap_reason(in.cap_reason);
  out->mutable_payee()->set_type(static_cast<v1::PayeeType>(in.payee.type));
  out->mutable_payee()->set_member_id(in.payee.member_id);
  out->mutable_payee()->set_convention_id(in.payee.convention_id);
  out->set_status(static_cast<v1::EntitlementStatus>(in.status));
  out->set_supersedes_id(in.supersedes_id);
  out->set_batch_id(in.batch_id);
  out->set_approved_by(in.approved_by);
  ToProto(in.approve_time, out->mutable_approve_time());
  ToProto(in.create_time, out->mutable_create_time());
  out->set_etag(Etag(in.row_version));
  out->set_governance_body(static_cast<v1::GovernanceBody>(in.governance_body));
  out->set_reason(in.reason);
  out->set_recovery(IsRecovery(in));
}

void ToProto(const Statement& in, v1::Statement* out) {
  out->set_member_id(in.member_id);
  out->set_year(in.year);
  for (const StatementLine& l : in.lines) {
    v1::StatementLine* p = out->add_lines();
    p->set_entitlement_id(l.entitlement_id);
    ToProto(l.meeting_date, p->mutable_meeting_date());
    p->set_group_id(l.group_id);
    p->set_amount_cents(l.amount_cents);
    p->set_capped_cents(l.capped_cents);
    p->set_status(static_cast<v1::EntitlementStatus>(l.status));
    p->set_paid_to_employer(l.paid_to_employer);
    p->set_category(static_cast<v1::EntitlementCategory>(l.category));
    p->set_recovery(l.recovery);
  }
  out->set_total_due_cents(in.total_due_cents);
  out->set_total_paid_cents(in.total_paid_cents);
  out->set_total_capped_cents(in.total_capped_cents);
  out->set_annual_ceiling_cents(in.annual_ceiling_cents);
  out->set_total_to_recover_cents(in.total_to_recover_cents);
}

absl::StatusOr<std::optional<EntitlementStatus>> StatusFromProto(v1::EntitlementStatus status) {
  if (status == v1::ENTITLEMENT_STATUS_UNSPECIFIED) return std::nullopt;
  CPTS_ASSIGN_OR_RETURN(EntitlementStatus s, EnumFromProto<EntitlementStatus>(
                                                 status, v1::EntitlementStatus_MAX, "status"));
  return s;
}

absl::StatusOr<std::optional<EntitlementCategory>> CategoryFromProto(
    v1::EntitlementCategory category) {
  if (category == v1::ENTITLEMENT_CATEGORY_UNSPECIFIED) return std::nullopt;
  CPTS_ASSIGN_OR_RETURN(
      EntitlementCategory c,
      EnumFromProto<EntitlementCategory>(category, v1::EntitlementCategory_MAX, "category"));
  return c;
}

absl::StatusOr<GovernanceClaim> FromProto(const v1::RecordGovernanceIndemnityRequest& in) {
  GovernanceClaim c;
  c.member_id = in.member_id();
  CPTS_ASSIGN_OR_RETURN(c.work_date, RequiredDay(in.work_date(), "work_date"));
  c.amount_cents = in.amount_cents();
  CPTS_ASSIGN_OR_RETURN(c.body,
                        EnumFromProto<GovernanceBody>(in.governance_body(), v1::GovernanceBody_MAX,
                                                      "governance_body"));
  c.reason = in.reason();
  c.request_id = in.request_id();
  return c;
}

void ToProto(const Account& in, v1::Account* out) {
  out->set_kind(static_cast<v1::AccountKind>(in.kind));
  out->set_key(in.key);
}

void ToProto(const LedgerTransaction& in, v1::LedgerTransaction* out) {
  out->set_id(in.id);
  out->set_kind(static_cast<v1::TransactionKind>(in.kind));
  ToProto(in.value_date, out->mutable_value_date());
  out->set_description(in.description);
  for (const LedgerEntry& e : in.entries) {
    v1::LedgerEntry* p = out->add_entries();
    ToProto(e.account, p->mutable_account());
    p->set_amount_cents(e.amount_cents);
  }
  out->set_reverses_id(in.reverses_id);
  out->set_source_id(in.source_id);
  ToProto(in.create_time, out->mutable_create_time());
}

absl::StatusOr<AccountKind> AccountKindFromProto(v1::AccountKind kind, absl::string_view field) {
  return EnumFromProto<AccountKind>(kind, v1::AccountKind_MAX, field);
}

absl::StatusOr<std::optional<Account>> AccountFromProto(const v1::Account& in, bool present) {
  if (!present || in.kind() == v1::ACCOUNT_KIND_UNSPECIFIED) return std::nullopt;
  Account a;
  CPTS_ASSIGN_OR_RETURN(a.kind, AccountKindFromProto(in.kind(), "account.kind"));
  a.key = in.key();
  return a;
}

PayeeBankAccount FromProto(const v1::PayeeBankAccount& in) {
  PayeeBankAccount a;
  a.member_id = in.member_id();
  a.holder_name = in.holder_name();
  a.iban = in.iban();
  a.bic = in.bic();
  return a;
}

void ToProto(const PayeeBankAccount& in, v1::PayeeBankAccount* out) {
  out->set_member_id(in.member_id);
  out->set_holder_name(in.holder_name);
  out->set_iban(in.iban);
  out->set_bic(in.bic);
  ToProto(in.update_time, out->mutable_update_time());
}

DebtorAccount FromProto(const v1::DebtorAccount& in) {
  DebtorAccount a;
  a.holder_name = in.holder_name();
  a.iban = in.iban();
  a.bic = in.bic();
  return a;
}

void ToProto(const DebtorAccount& in, v1::DebtorAccount* out) {
  out->set_holder_name(in.holder_name);
  out->set_iban(in.iban);
  out->set_bic(in.bic);
  ToProto(in.update_time, out->mutable_update_time());
  out->set_updated_by(in.updated_by);
}

void ToProto(const PaymentBatch& in, v1::PaymentBatch* out) {
  out->set_id(in.id);
  out->set_label(in.label);
  out->set_state(static_cast<v1::BatchState>(in.state));
  ToProto(in.execution_date, out->mutable_execution_date());
  for (const BatchLine& l : in.lines) {
    v1::BatchLine* p = out->add_lines();
    p->set_payee_member_id(l.payee_member_id);
    p->set_payee_name(l.payee_name);
    p->set_iban(l.iban);
    p->set_bic(l.bic);
    for (const std::string& id : l.entitlement_ids) p->add_entitlement_ids(id);
    p->set_amount_cents(l.amount_cents);
    p->set_blocked(l.blocked);
    p->set_blocked_reason(l.blocked_reason);
    p->set_end_to_end_id(l.end_to_end_id);
    p->set_recovered_cents(l.recovered_cents);
  }
  out->set_payable_line_count(PayableLineCount(in));
  out->set_total_cents(PayableTotal(in));
  out->set_blocked_line_count(BlockedLineCount(in));
  out->set_approved_by(in.approved_by);
  ToProto(in.approve_time, out->mutable_approve_time());
  ToProto(in.export_time, out->mutable_export_time());
  if (in.state == BatchState::kPaid) ToProto(in.paid_date, out->mutable_paid_date());
  ToProto(in.create_time, out->mutable_create_time());
  out->set_etag(Etag(in.row_version));
}

absl::StatusOr<std::optional<BatchState>> BatchStateFromProto(v1::BatchState state) {
  if (state == v1::BATCH_STATE_UNSPECIFIED) return std::nullopt;
  CPTS_ASSIGN_OR_RETURN(BatchState s,
                        EnumFromProto<BatchState>(state, v1::BatchState_MAX, "state"));
  return s;
}

ExportFormat FormatFromProto(v1::ExportFormat format) {
  switch (format) {
    case v1::EXPORT_FORMAT_SEPA_PAIN_001_001_03:
      return ExportFormat::kSepaPain001;
    case v1::EXPORT_FORMAT_CSV:
      return ExportFormat::kCsv;
    case v1::EXPORT_FORMAT_JSON:
      return ExportFormat::kJson;
    default:
      return ExportFormat::kUnspecified;
  }
}

absl::StatusOr<AciContract> FromProto(const v1::AciContract& in) {
  AciContract c;
  CPTS_ASSIGN_OR_RETURN(c.signature_date,
                        RequiredDay(in.signature_date(), "contract.signature_date"));
  c.duration_years = in.duration_years();
  c.size = in.size();
  c.reference = in.reference();
  return c;
}

void ToProto(const AciContract& in, v1::AciContract* out) {
  out->set_id(in.id);
  ToProto(in.signature_date, out->mutable_signature_date());
  out->set_duration_years(in.duration_years);
  out->set_size(in.size);
  out->set_reference(in.reference);
  ToProto(in.create_time, out->mutable_create_time());
  out->set_etag(Etag(in.row_version));
}

absl::StatusOr<AciEnvelope> FromProto(const v1::AciEnvelope& in) {
  AciEnvelope e;
  e.year = in.year();
  CPTS_ASSIGN_OR_RETURN(
      e.kind, EnumFromProto<EnvelopeKind>(in.kind(), v1::EnvelopeKind_MAX, "envelope.kind"));
  e.mission_id = in.mission_id();
  e.fixed_cents = in.fixed_cents();
  e.variable_cents = in.variable_cents();
  e.advance_basis_points = in.advance_basis_points();
  return e;
}

void ToProto(const EnvelopeResult& in, v1::AciEnvelope* out) {
  out->set_year(in.envelope.year);
  out->set_kind(static_cast<v1::EnvelopeKind>(in.envelope.kind));
  out->set_mission_id(in.envelope.mission_id);
  out->set_fixed_cents(in.envelope.fixed_cents);
  out->set_variable_cents(in.envelope.variable_cents);
  out->set_advance_basis_points(in.envelope.advance_basis_points);
  out->set_variable_earned_cents(in.variable_earned_cents);
}

void ToProto(const AciInstalment& in, v1::AciInstalment* out) {
  out->set_id(in.id);
  out->set_year(in.year);
  out->set_envelope_kind(static_cast<v1::EnvelopeKind>(in.envelope_kind));
  out->set_mission_id(in.mission_id);
  out->set_kind(static_cast<v1::InstalmentKind>(in.kind));
  out->set_expected_cents(in.expected_cents);
  ToProto(in.due_date, out->mutable_due_date());
  out->set_received_cents(in.received_cents);
  if (in.received_cents > 0) ToProto(in.received_date, out->mutable_received_date());
}

IndicatorAttainment FromProto(const v1::IndicatorAttainment& in) {
  IndicatorAttainment a;
  a.year = in.year();
  a.mission_id = in.mission_id();
  a.indicator_id = in.indicator_id();
  a.label = in.label();
  a.weight_basis_points = in.weight_basis_points();
  a.target_milli = in.target_milli();
  a.achieved_milli = in.achieved_milli();
  return a;
}

void ToProto(const IndicatorAttainment& in, v1::IndicatorAttainment* out) {
  out->set_year(in.year);
  out->set_mission_id(in.mission_id);
  out->set_indicator_id(in.indicator_id);
  out->set_label(in.label);
  out->set_weight_basis_points(in.weight_basis_points);
  out->set_target_milli(in.target_milli);
  out->set_achieved_milli(in.achieved_milli);
  out->set_attainment_basis_points(AttainmentBasisPoints(in.target_milli, in.achieved_milli));
}

ActionBudget FromProto(const v1::ActionBudget& in) {
  ActionBudget b;
  b.action_id = in.action_id();
  b.mission_id = in.mission_id();
  b.year = in.year();
  b.allocated_cents = in.allocated_cents();
  b.committed_cents = in.committed_cents();
  return b;
}

absl::StatusOr<BudgetMask> BudgetMaskFromProto(const google::protobuf::FieldMask& mask) {
  if (mask.paths_size() == 0) return FieldError("update_mask", "required");
  BudgetMask m;
  for (const std::string& path : mask.paths()) {
    if (path == "mission_id") {
      m.mission_id = true;
    } else if (path == "allocated_cents") {
      m.allocated_cents = true;
    } else if (path == "committed_cents") {
      m.committed_cents = true;
    } else {
      return FieldError("update_mask", absl::StrCat("'", path, "' cannot be updated"));
    }
  }
  return m;
}

void ToProto(const BudgetView& in, v1::ActionBudget* out) {
  out->set_action_id(in.budget.action_id);
  out->set_mission_id(in.budget.mission_id);
  out->set_year(in.budget.year);
  out->set_allocated_cents(in.budget.allocated_cents);
  out->set_committed_cents(in.budget.committed_cents);
  out->set_spent_cents(in.spent_cents);
  out->set_indemnities_cents(in.indemnities_cents);
  out->set_remaining_cents(in.remaining_cents);
  out->set_etag(Etag(in.budget.row_version));
}

absl::StatusOr<Expense> FromProto(const v1::Expense& in) {
  Expense x;
  x.action_id = in.action_id();
  CPTS_ASSIGN_OR_RETURN(
      x.category,
      EnumFromProto<ExpenseCategory>(in.category(), v1::ExpenseCategory_MAX, "expense.category"));
  x.amount_cents = in.amount_cents();
  CPTS_ASSIGN_OR_RETURN(x.expense_date, RequiredDay(in.expense_date(), "expense.expense_date"));
  x.supplier = in.supplier();
  x.reference = in.reference();
  return x;
}

void ToProto(const Expense& in, v1::Expense* out) {
  out->set_id(in.id);
  out->set_action_id(in.action_id);
  out->set_category(static_cast<v1::ExpenseCategory>(in.category));
  out->set_amount_cents(in.amount_cents);
  ToProto(in.expense_date, out->mutable_expense_date());
  out->set_supplier(in.supplier);
  out->set_reference(in.reference);
  ToProto(in.create_time, out->mutable_create_time());
}

namespace {
void MoneyToProto(const ReportMoney& in, v1::ReportMoney* out) {
  out->set_expected_cents(in.expected_cents);
  out->set_received_cents(in.received_cents);
  out->set_spent_cents(in.spent_cents);
  out->set_remaining_cents(in.remaining_cents);
}
}  // namespace

void ToProto(const AciReport& in, v1::AciReport* out) {
  out->set_year(in.year);
  MoneyToProto(in.functioning, out->mutable_functioning());
  for (const MissionReportSection& m : in.missions) {
    v1::MissionReport* p = out->add_missions();
    p->set_mission_id(m.mission_id);
    MoneyToProto(m.money, p->mutable_money());
    for (const IndicatorReportLine& i : m.indicators) {
      v1::IndicatorReport* q = p->add_indicators();
      q->set_indicator_id(i.indicator_id);
      q->set_label(i.label);
      q->set_target_milli(i.target_milli);
      q->set_achieved_milli(i.achieved_milli);
      q->set_attainment_basis_points(i.attainment_basis_points);
    }
    p->set_attainment_basis_points(m.attainment_basis_points);
    for (const ActionReportLine& a : m.actions) {
      v1::ActionReport* q = p->add_actions();
      q->set_action_id(a.action_id);
      q->set_allocated_cents(a.allocated_cents);
      q->set_spent_cents(a.spent_cents);
      q->set_indemnities_paid_cents(a.indemnities_paid_cents);
      q->set_professionals_count(a.professionals_count);
      q->set_suppressed(a.suppressed);
    }
  }
  MoneyToProto(in.total, out->mutable_total());
}

}  // namespace cpts::finance
