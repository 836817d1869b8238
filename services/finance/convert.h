#pragma once

// cpts.finance.v1 (and projects' AttendanceEntitlementEvent) <-> the domain types of
// model.h. The enums of the proto and of the domain share their numbering, so enum
// conversions are casts after a range check (InvalidArgument naming the field otherwise).

#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cpts/common/v1/date.pb.h"
#include "cpts/finance/v1/finance_service.pb.h"
#include "cpts/projects/v1/events.pb.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/finance/aci.h"
#include "services/finance/finance.h"
#include "services/finance/model.h"
#include "services/finance/rating.h"

namespace cpts::finance {

// Dates: an all-zero Date is "unset".
void ToProto(absl::CivilDay day, common::v1::Date* out);
absl::StatusOr<std::optional<absl::CivilDay>> OptionalDay(const common::v1::Date& date,
                                                          absl::string_view field);
// Unset is InvalidArgument("<field>: required").
absl::StatusOr<absl::CivilDay> RequiredDay(const common::v1::Date& date, absl::string_view field);
void ToProto(absl::Time time, google::protobuf::Timestamp* out);

absl::StatusOr<AttendanceLine> FromProto(const projects::v1::AttendanceEntitlementEvent& in);

absl::StatusOr<IndemnityPolicy> FromProto(const v1::IndemnityPolicy& in);
void ToProto(const IndemnityPolicy& in, v1::IndemnityPolicy* out);
absl::StatusOr<PolicyMask> PolicyMaskFromProto(const google::protobuf::FieldMask& mask);

void ToProto(const Entitlement& in, v1::Entitlement* out);
void ToProto(const Statement& in, v1::Statement* out);
absl::StatusOr<std::optional<EntitlementStatus>> StatusFromProto(v1::EntitlementStatus status);
absl::StatusOr<std::optional<EntitlementCategory>> CategoryFromProto(
    v1::EntitlementCategory category);
absl::StatusOr<GovernanceClaim> FromProto(const v1::RecordGovernanceIndemnityRequest& in);

void ToProto(const LedgerTransaction& in, v1::LedgerTransaction* out);
absl::StatusOr<std::optional<Account>> AccountFromProto(const v1::Account& in, bool present);
absl::StatusOr<AccountKind> AccountKindFromProto(v1::AccountKind kind, absl::string_view field);
void ToProto(const Account& in, v1::Account* out);

PayeeBankAccount FromProto(const v1::PayeeBankAccount& in);
void ToProto(const PayeeBankAccount& in, v1::PayeeBankAccount* out);
DebtorAccount FromProto(const v1::DebtorAccount& in);
void ToProto(const DebtorAccount& in, v1::DebtorAccount* out);
void ToProto(const PaymentBatch& in, v1::PaymentBatch* out);
absl::StatusOr<std::optional<BatchState>> BatchStateFromProto(v1::BatchState state);
ExportFormat FormatFromProto(v1::ExportFormat format);

absl::StatusOr<AciContract> FromProto(const v1::AciContract& in);
void ToProto(const AciContract& in, v1::AciContract* out);
absl::StatusOr<AciEnvelope> FromProto(const v1::AciEnvelope& in);
void ToProto(const EnvelopeResult& in, v1::AciEnvelope* out);
void ToProto(const AciInstalment& in, v1::AciInstalment* out);
IndicatorAttainment FromProto(const v1::IndicatorAttainment& in);
void ToProto(const IndicatorAttainment& in, v1::IndicatorAttainment* out);
ActionBudget FromProto(const v1::ActionBudget& in);
absl::StatusOr<BudgetMask> BudgetMaskFromProto(const google::protobuf::FieldMask& mask);
void ToProto(const BudgetView& in, v1::ActionBudget* out);
absl::StatusOr<Expense> FromProto(const v1::Expense& in);
void ToProto(const Expense& in, v1::Expense* out);
void ToProto(const AciReport& in, v1::AciReport* out);

}  // namespace cpts::finance
