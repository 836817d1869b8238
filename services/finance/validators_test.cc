#include "services/finance/validators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "services/platform/testing/status_matchers.h"

namespace cpts::finance {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;

TEST(ValidatorsTest, RequestId) {
  EXPECT_THAT(ValidateRequestId("", false), IsOk());
  EXPECT_THAT(ValidateRequestId("", true),
              StatusIs(absl::StatusCode::kInvalidArgument, "request_id: required"));
  EXPECT_THAT(ValidateRequestId("3f1c-a", true), IsOk());
  EXPECT_THAT(ValidateRequestId(std::string(129, 'a'), true),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateRequestId("has space", true), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ValidatorsTest, TextCountsCodePointsAndRefusesControls) {
  EXPECT_THAT(ValidateText("Réunion", "f", 7, true), IsOk());
  EXPECT_THAT(ValidateText("Réunions", "f", 7, true),
              StatusIs(absl::StatusCode::kInvalidArgument, "at most 7"));
  EXPECT_THAT(ValidateText("a\nb", "f", 10, true), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateText("\xC3", "f", 10, true), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateText("", "f", 10, true), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateText("", "f", 10, false), IsOk());
}

TEST(ValidatorsTest, PolicyOfEachKind) {
  IndemnityPolicy p;
  p.year = 2025;
  EXPECT_THAT(ValidatePolicy(p), StatusIs(absl::StatusCode::kInvalidArgument, "policy.kind"));
  p.kind = PolicyKind::kPerMeeting;
  p.member_amount_cents = 8000;
  p.referent_amount_cents = 10000;
  EXPECT_THAT(ValidatePolicy(p), IsOk());
  p.member_amount_cents = -1;
  EXPECT_THAT(ValidatePolicy(p),
              StatusIs(absl::StatusCode::kInvalidArgument, "policy.member_amount_cents"));

  IndemnityPolicy h;
  h.year = 2025;
  h.kind = PolicyKind::kPerHourPoints;
  h.member_millipoints_per_hour = 1000;
  h.referent_millipoints_per_hour = 1000;
  h.point_value_cents = 4000;
  EXPECT_THAT(ValidatePolicy(h), IsOk());
  h.referent_millipoints_per_hour = 500;
  EXPECT_THAT(ValidatePolicy(h), StatusIs(absl::StatusCode::kInvalidArgument, "referent"));
  h.referent_millipoints_per_hour = 1000;
  h.point_value_cents = 0;
  EXPECT_THAT(ValidatePolicy(h),
              StatusIs(absl::StatusCode::kInvalidArgument, "policy.point_value_cents"));
  h.point_value_cents = 4000;
  h.member_amount_cents = 8000;
  EXPECT_THAT(ValidatePolicy(h), StatusIs(absl::StatusCode::kInvalidArgument, "per-meeting"));
  h.member_amount_cents = 0;
  h.year = 1990;
  EXPECT_THAT(ValidatePolicy(h), StatusIs(absl::StatusCode::kInvalidArgument, "policy.year"));
}

TEST(ValidatorsTest, AttendanceLine) {
  AttendanceLine l;
  l.tenant_id = "t1";
  l.idempotency_key = "m/p/v1";
  l.meeting_id = "m";
  l.group_id = "g";
  l.action_id = "a";
  l.participant_id = "p";
  l.role = AttendanceRole::kMember;
  l.meeting_date = absl::CivilDay(2025, 1, 2);
  l.sheet_version = 1;
  EXPECT_THAT(ValidateAttendanceLine(l), IsOk());
  l.minutes_worked = 1441;
  EXPECT_THAT(ValidateAttendanceLine(l),
              StatusIs(absl::StatusCode::kInvalidArgument, "event.minutes_worked"));
  l.minutes_worked = 60;
  l.sheet_version = 0;
  EXPECT_THAT(ValidateAttendanceLine(l),
              StatusIs(absl::StatusCode::kInvalidArgument, "event.sheet_version"));
  l.sheet_version = 1;
  l.action_id.clear();
  EXPECT_THAT(ValidateAttendanceLine(l),
              StatusIs(absl::StatusCode::kInvalidArgument, "event.action_id"));
}

TEST(ValidatorsTest, ExpenseContractEnvelope) {
  Expense e;
  e.action_id = "a";
  e.category = ExpenseCategory::kTravel;
  e.amount_cents = 1;
  e.expense_date = absl::CivilDay(2025, 5, 5);
  e.supplier = "SNCF";
  EXPECT_THAT(ValidateExpense(e), IsOk());
  e.amount_cents = 0;
  EXPECT_THAT(ValidateExpense(e), StatusIs(absl::StatusCode::kInvalidArgument, "expense.amount"));

  AciContract c;
  c.signature_date = absl::CivilDay(2023, 6, 15);
  c.duration_years = 5;
  c.size = 3;
  EXPECT_THAT(ValidateContract(c), IsOk());
  c.size = 5;
  EXPECT_THAT(ValidateContract(c), StatusIs(absl::StatusCode::kInvalidArgument, "contract.size"));

  AciEnvelope env{.year = 2025, .kind = EnvelopeKind::kMission, .fixed_cents = 1};
  EXPECT_THAT(ValidateEnvelope(env),
              StatusIs(absl::StatusCode::kInvalidArgument, "envelope.mission_id"));
  env.mission_id = "m1";
  EXPECT_THAT(ValidateEnvelope(env), IsOk());
  env.advance_basis_points = 10001;
  EXPECT_THAT(ValidateEnvelope(env), StatusIs(absl::StatusCode::kInvalidArgument, "advance"));
}

}  // namespace
}  // namespace cpts::finance
