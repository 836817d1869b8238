#include "services/finance/rating.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/finance/ledger.h"
#include "services/finance/validators.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::finance {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::HasSubstr;

IndemnityPolicy PerMeeting(Cents member = 8000, Cents referent = 10000) {
  IndemnityPolicy p;
  p.id = "pol-2025-v1";
  p.tenant_id = "t1";
  p.year = 2025;
  p.kind = PolicyKind::kPerMeeting;
  p.member_amount_cents = member;
  p.referent_amount_cents = referent;
  return p;
}

IndemnityPolicy PerHour(int64_t member_mpph, int64_t referent_mpph, Cents point_value) {
  IndemnityPolicy p;
  p.id = "pol-2025-h";
  p.tenant_id = "t1";
  p.year = 2025;
  p.kind = PolicyKind::kPerHourPoints;
  p.member_millipoints_per_hour = member_mpph;
  p.referent_millipoints_per_hour = referent_mpph;
  p.point_value_cents = point_value;
  return p;
}

AttendanceLine Line(AttendanceRole role = AttendanceRole::kMember, int minutes = 120) {
  AttendanceLine l;
  l.tenant_id = "t1";
  l.idempotency_key = "meet1/part1/v1";
  l.meeting_id = "meet1";
  l.group_id = "grp1";
  l.action_id = "act1";
  l.participant_id = "part1";
  l.member_id = "mem1";
  l.role = role;
  l.present = true;
  l.minutes_worked = minutes;
  l.meeting_date = absl::CivilDay(2025, 3, 12);
  l.sheet_version = 1;
  l.indemnifiable = role == AttendanceRole::kMember || role == AttendanceRole::kReferent;
  return l;
}

MemberFacts Liberal() {
  return MemberFacts{.member_id = "mem1",
                     .up_to_date = true,
                     .exercise_mode = ExerciseMode::kLiberal,
                     .payee_kind = MemberPayeeKind::kSelf};
}

MemberFacts SalariedWithConvention() {
  return MemberFacts{.member_id = "mem1",
                     .up_to_date = true,
                     .exercise_mode = ExerciseMode::kSalaried,
                     .payee_kind = MemberPayeeKind::kEmployer,
                     .employer_member_id = "employer1",
                     .convention_id = "conv1"};
}

AnnualCeilingTable Ceilings() {
  AnnualCeilingTable t;
  EXPECT_THAT(t.Set(2023, 4399200), IsOk());
  EXPECT_THAT(t.Set(2024, 4646400), IsOk());
  EXPECT_THAT(t.Set(2025, 4710000), IsOk());
  return t;
}

// --- RateMeeting -------------------------------------------------------------------------

struct RateCase {
  const char* name;
  IndemnityPolicy policy;
  AttendanceRole role;
  int minutes;
  Cents want;
};

class RateMeetingTest : public ::testing::TestWithParam<RateCase> {};

TEST_P(RateMeetingTest, GivesTheAmountOfThePolicy) {
  const RateCase& c = GetParam();
  auto got = RateMeeting(c.policy, c.role, c.minutes);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(*got, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Policies, RateMeetingTest,
    ::testing::Values(
        RateCase{"per_meeting_member", PerMeeting(), AttendanceRole::kMember, 120, 8000},
        RateCase{"per_meeting_referent_premium", PerMeeting(), AttendanceRole::kReferent, 120,
                 10000},
        RateCase{"per_meeting_ignores_minutes", PerMeeting(), AttendanceRole::kMember, 0, 8000},
        // 1 point/hour, 2 hours, 50 EUR a point -> 100 EUR.
        RateCase{"per_hour_member", PerHour(1000, 1500, 5000), AttendanceRole::kMember, 120, 10000},
        // 1.5 points/hour for a référent, 2 hours -> 3 points -> 150 EUR.
        RateCase{"per_hour_referent", PerHour(1000, 1500, 5000), AttendanceRole::kReferent, 120,
                 15000},
        // 1 point/hour, 50 minutes, 1 EUR a point: 83.33 cents -> 83.
        RateCase{"per_hour_rounds_down_below_half", PerHour(1000, 1000, 100),
                 AttendanceRole::kMember, 50, 83},
        // 1 point/hour, 90 minutes, 0.01 EUR a point: 1.5 cents -> 2 (halves up).
        RateCase{"per_hour_rounds_half_up", PerHour(1000, 1000, 1), AttendanceRole::kMember, 90, 2},
        RateCase{"per_hour_zero_minutes", PerHour(1000, 1000, 5000), AttendanceRole::kMember, 0,
                 0}),
    [](const ::testing::TestParamInfo<RateCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(RateMeetingTest, RefusesGuestsStaffAndInvalidPolicies) {
  EXPECT_THAT(RateMeeting(PerMeeting(), AttendanceRole::kGuest, 60),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RateMeeting(PerMeeting(), AttendanceRole::kStaff, 60),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RateMeeting(PerMeeting(10000, 8000), AttendanceRole::kMember, 60),
              StatusIs(absl::StatusCode::kInvalidArgument, "referent_amount_cents"));
  IndemnityPolicy mixed = PerMeeting();
  mixed.point_value_cents = 100;
  EXPECT_THAT(RateMeeting(mixed, AttendanceRole::kMember, 60),
              StatusIs(absl::StatusCode::kInvalidArgument, "no points"));
}

TEST(RateMeetingTest, LargestValuesDoNotOverflow) {
  auto got =
      RateMeeting(PerHour(1'000'000, 1'000'000, 100'000'000), AttendanceRole::kMember, 24 * 60);
  ASSERT_THAT(got, IsOk());
  // 1000 points an hour for 24 hours, at 10^6 EUR a point.
  EXPECT_EQ(*got, int64_t{1000} * 24 * 100'000'000);
}

// --- Eligibility -------------------------------------------------------------------------

struct EligibilityCase {
  const char* name;
  AttendanceLine line;
  std::optional<MemberFacts> facts;
  IneligibleReason want;
};

AttendanceLine With(AttendanceLine l, void (*edit)(AttendanceLine&)) {
  edit(l);
  return l;
}

MemberFacts Facts(void (*edit)(MemberFacts&)) {
  MemberFacts f = Liberal();
  edit(f);
  return f;
}

class EligibilityTest : public ::testing::TestWithParam<EligibilityCase> {};

TEST_P(EligibilityTest, GivesTheFirstReason) {
  const EligibilityCase& c = GetParam();
  PayeeRef payee;
  EXPECT_EQ(CheckEligibility(c.line, c.facts ? &*c.facts : nullptr, &payee), c.want);
  if (c.want != IneligibleReason::kUnspecified) {
    EXPECT_EQ(payee.type, PayeeType::kUnspecified);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, EligibilityTest,
    ::testing::Values(
        EligibilityCase{"liberal_member", Line(), Liberal(), IneligibleReason::kUnspecified},
        EligibilityCase{"salaried_via_employer", Line(), SalariedWithConvention(),
                        IneligibleReason::kUnspecified},
        EligibilityCase{"absent", With(Line(), [](AttendanceLine& l) { l.present = false; }),
                        Liberal(), IneligibleReason::kAbsent},
        EligibilityCase{"guest_even_if_member", Line(AttendanceRole::kGuest), Liberal(),
                        IneligibleReason::kGuest},
        EligibilityCase{"staff", Line(AttendanceRole::kStaff), Liberal(), IneligibleReason::kStaff},
        EligibilityCase{
            "guest_not_member",
            With(Line(AttendanceRole::kGuest), [](AttendanceLine& l) { l.member_id.clear(); }),
            std::nullopt, IneligibleReason::kGuest},
        EligibilityCase{"no_member_id",
                        With(Line(), [](AttendanceLine& l) { l.member_id.clear(); }), std::nullopt,
                        IneligibleReason::kNotAMember},
        EligibilityCase{"not_indemnifiable",
                        With(Line(), [](AttendanceLine& l) { l.indemnifiable = false; }), Liberal(),
                        IneligibleReason::kNotAMember},
        EligibilityCase{"no_facts", Line(), std::nullopt, IneligibleReason::kNotAMember},
        EligibilityCase{"not_up_to_date", Line(),
                        Facts([](MemberFacts& f) { f.up_to_date = false; }),
                        IneligibleReason::kNotUpToDate},
        EligibilityCase{"salaried_without_convention", Line(), Facts([](MemberFacts& f) {
                          f.exercise_mode = ExerciseMode::kSalaried;
                          f.payee_kind = MemberPayeeKind::kNone;
                          f.none_reason = PayeeNoneReason::kNoValidConvention;
                        }),
                        IneligibleReason::kNoEmployerConvention},
        EligibilityCase{"salaried_claiming_self", Line(),
                        Facts([](MemberFacts& f) { f.exercise_mode = ExerciseMode::kSalaried; }),
                        IneligibleReason::kNoEmployerConvention},
        EligibilityCase{"employer_without_convention_id", Line(), Facts([](MemberFacts& f) {
                          f.exercise_mode = ExerciseMode::kSalaried;
                          f.payee_kind = MemberPayeeKind::kEmployer;
                          f.employer_member_id = "employer1";
                        }),
                        IneligibleReason::kNoEmployerConvention},
        EligibilityCase{"legal_entity", Line(), Facts([](MemberFacts& f) {
                          f.payee_kind = MemberPayeeKind::kNone;
                          f.none_reason = PayeeNoneReason::kLegalEntity;
                        }),
                        IneligibleReason::kNoPayee},
        EligibilityCase{"unknown_exercise_mode", Line(),
                        Facts([](MemberFacts& f) { f.exercise_mode = ExerciseMode::kUnspecified; }),
                        IneligibleReason::kNoPayee}),
    [](const ::testing::TestParamInfo<EligibilityCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(EligibilityTest, PaysTheMemberOrTheEmployer) {
  PayeeRef payee;
  const MemberFacts liberal = Liberal();
  ASSERT_EQ(CheckEligibility(Line(), &liberal, &payee), IneligibleReason::kUnspecified);
  EXPECT_EQ(payee, (PayeeRef{.type = PayeeType::kSelf, .member_id = "mem1"}));

  const MemberFacts salaried = SalariedWithConvention();
  ASSERT_EQ(CheckEligibility(Line(), &salaried, &payee), IneligibleReason::kUnspecified);
  EXPECT_EQ(
      payee,
      (PayeeRef{.type = PayeeType::kEmployer, .member_id = "employer1", .convention_id = "conv1"}));
}

// --- BuildEntitlement --------------------------------------------------------------------

TEST(BuildEntitlementTest, ReferentOfPerMeetingPolicyIsDueTheReferentAmount) {
  const IndemnityPolicy policy = PerMeeting();
  const MemberFacts facts = Liberal();
  auto e = BuildEntitlement(Line(AttendanceRole::kReferent), &policy, &facts, Ceilings(), 0);
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->status, EntitlementStatus::kPending);
  EXPECT_EQ(e->rated_cents, 10000);
  EXPECT_EQ(e->amount_cents, 10000);
  EXPECT_EQ(e->capped_cents, 0);
  EXPECT_EQ(e->policy_id, "pol-2025-v1");
  EXPECT_EQ(e->payee.member_id, "mem1");
  EXPECT_EQ(e->idempotency_key, "meet1/part1/v1");
  EXPECT_EQ(e->action_id, "act1");
  EXPECT_EQ(e->ineligible_reason, IneligibleReason::kUnspecified);
}

TEST(BuildEntitlementTest, SalariedMemberIsPaidThroughEmployer) {
  const IndemnityPolicy policy = PerMeeting();
  const MemberFacts facts = SalariedWithConvention();
  auto e = BuildEntitlement(Line(), &policy, &facts, Ceilings(), 0);
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->amount_cents, 8000);
  EXPECT_EQ(e->member_id, "mem1");
  EXPECT_EQ(e->payee.type, PayeeType::kEmployer);
  EXPECT_EQ(e->payee.member_id, "employer1");
}

TEST(BuildEntitlementTest, GuestGetsARecordWithNothingDue) {
  const IndemnityPolicy policy = PerMeeting();
  AttendanceLine guest = Line(AttendanceRole::kGuest);
  guest.member_id.clear();
  auto e = BuildEntitlement(guest, &policy, nullptr, Ceilings(), 0);
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->status, EntitlementStatus::kIneligible);
  EXPECT_EQ(e->ineligible_reason, IneligibleReason::kGuest);
  EXPECT_EQ(e->amount_cents, 0);
  EXPECT_EQ(e->payee.type, PayeeType::kUnspecified);
}

TEST(BuildEntitlementTest, NoPolicyInForce) {
  const MemberFacts facts = Liberal();
  auto e = BuildEntitlement(Line(), nullptr, &facts, Ceilings(), 0);
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->ineligible_reason, IneligibleReason::kNoPolicy);
  EXPECT_EQ(e->amount_cents, 0);
}

TEST(BuildEntitlementTest, CapsAtThePassOfTheYear) {
  const IndemnityPolicy policy = PerMeeting();
  const MemberFacts facts = Liberal();
  // 4705000 already due in 2025: 5000 of room left under 4710000.
  auto e = BuildEntitlement(Line(), &policy, &facts, Ceilings(), 4'705'000);
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->status, EntitlementStatus::kPending);
  EXPECT_EQ(e->rated_cents, 8000);
  EXPECT_EQ(e->amount_cents, 5000);
  EXPECT_EQ(e->capped_cents, 3000);
  EXPECT_THAT(e->cap_reason, HasSubstr("PASS"));
  EXPECT_THAT(e->cap_reason, HasSubstr("4710000"));
}

TEST(BuildEntitlementTest, FullyCappedIsIneligible) {
  const IndemnityPolicy policy = PerMeeting();
  const MemberFacts facts = Liberal();
  auto e = BuildEntitlement(Line(), &policy, &facts, Ceilings(), 4'710'000);
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->status, EntitlementStatus::kIneligible);
  EXPECT_EQ(e->ineligible_reason, IneligibleReason::kAnnualCapReached);
  EXPECT_EQ(e->capped_cents, 8000);
  EXPECT_EQ(e->amount_cents, 0);
}

TEST(BuildEntitlementTest, CapUsesTheMeetingYearsCeiling) {
  IndemnityPolicy policy = PerMeeting();
  policy.year = 2023;
  AttendanceLine line = Line();
  line.meeting_date = absl::CivilDay(2023, 11, 2);
  const MemberFacts facts = Liberal();
  // Room under 2023's 4399200 but not under 2025's: 4399200 - 4395200 = 4000.
  auto e = BuildEntitlement(line, &policy, &facts, Ceilings(), 4'395'200);
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->amount_cents, 4000);
  EXPECT_EQ(e->capped_cents, 4000);
}

TEST(BuildEntitlementTest, MissingCeilingIsAPrecondition) {
  IndemnityPolicy policy = PerMeeting();
  policy.year = 2026;
  AttendanceLine line = Line();
  line.meeting_date = absl::CivilDay(2026, 1, 15);
  const MemberFacts facts = Liberal();
  EXPECT_THAT(BuildEntitlement(line, &policy, &facts, Ceilings(), 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, "2026"));
}

TEST(BuildEntitlementTest, RefusesMismatchedInputs) {
  const MemberFacts facts = Liberal();
  IndemnityPolicy other_year = PerMeeting();
  other_year.year = 2024;
  EXPECT_THAT(BuildEntitlement(Line(), &other_year, &facts, Ceilings(), 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "policy.year"));
  IndemnityPolicy other_tenant = PerMeeting();
  other_tenant.tenant_id = "t2";
  EXPECT_THAT(BuildEntitlement(Line(), &other_tenant, &facts, Ceilings(), 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "tenant"));
  MemberFacts other_member = Liberal();
  other_member.member_id = "mem2";
  const IndemnityPolicy policy = PerMeeting();
  EXPECT_THAT(BuildEntitlement(Line(), &policy, &other_member, Ceilings(), 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "facts.member_id"));
  AttendanceLine reversal = Line();
  reversal.reversal = true;
  EXPECT_THAT(BuildEntitlement(reversal, &policy, &facts, Ceilings(), 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "reversal"));
}

// --- Reversal and re-rating --------------------------------------------------------------

TEST(ReversalTest, ReversedKeyStripsTheSuffix) {
  AttendanceLine l = Line();
  l.reversal = true;
  l.idempotency_key = "meet1/part1/v1/reversal";
  auto key = ReversedKey(l);
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(*key, "meet1/part1/v1");

  l.idempotency_key = "meet1/part1/v1";
  EXPECT_THAT(ReversedKey(l), StatusIs(absl::StatusCode::kInvalidArgument));
  l.reversal = false;
  l.idempotency_key = "meet1/part1/v1/reversal";
  EXPECT_THAT(ReversedKey(l), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ReversalTest, BatchedAndReversedEntitlementsCannotBeReversed) {
  Entitlement e;
  e.id = "e1";
  for (EntitlementStatus s : {EntitlementStatus::kPending, EntitlementStatus::kApproved,
                              EntitlementStatus::kPaid, EntitlementStatus::kIneligible}) {
    e.status = s;
    EXPECT_THAT(CheckReversible(e), IsOk());
  }
  e.status = EntitlementStatus::kBatched;
  e.batch_id = "b1";
  EXPECT_THAT(CheckReversible(e), StatusIs(absl::StatusCode::kFailedPrecondition, "b1"));
  e.status = EntitlementStatus::kReversed;
  EXPECT_THAT(CheckReversible(e), StatusIs(absl::StatusCode::kFailedPrecondition));
}

Entitlement Rated(const IndemnityPolicy& policy, AttendanceRole role, Cents year_total = 0) {
  const MemberFacts facts = Liberal();
  auto e = BuildEntitlement(Line(role), &policy, &facts, Ceilings(), year_total);
  EXPECT_THAT(e, IsOk());
  e->id = "e1";
  e->status = EntitlementStatus::kApproved;
  e->approved_by = "bureau1";
  return *e;
}

TEST(RerateTest, NewAmountGivesAReplacementToApproveAgain) {
  const Entitlement current = Rated(PerMeeting(), AttendanceRole::kReferent);
  IndemnityPolicy v2 = PerMeeting(9000, 12000);
  v2.id = "pol-2025-v2";
  auto next = Rerate(current, v2, Ceilings(), 0);
  ASSERT_THAT(next, IsOk());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->amount_cents, 12000);
  EXPECT_EQ((*next)->supersedes_id, "e1");
  EXPECT_EQ((*next)->policy_id, "pol-2025-v2");
  EXPECT_EQ((*next)->status, EntitlementStatus::kPending);
  EXPECT_TRUE((*next)->id.empty());
  EXPECT_TRUE((*next)->approved_by.empty());
  EXPECT_EQ((*next)->payee, current.payee);
}

TEST(RerateTest, SameAmountChangesNothing) {
  const Entitlement current = Rated(PerMeeting(), AttendanceRole::kMember);
  IndemnityPolicy v2 = PerMeeting(8000, 15000);  // only the référent amount changes
  v2.id = "pol-2025-v2";
  auto next = Rerate(current, v2, Ceilings(), 0);
  ASSERT_THAT(next, IsOk());
  EXPECT_FALSE(next->has_value());
}

TEST(RerateTest, IneligibilityNoPolicyCanChangeStays) {
  const IndemnityPolicy policy = PerMeeting();
  AttendanceLine guest = Line(AttendanceRole::kGuest);
  auto e = BuildEntitlement(guest, &policy, nullptr, Ceilings(), 0);
  ASSERT_THAT(e, IsOk());
  e->id = "e9";
  auto next = Rerate(*e, PerMeeting(20000, 30000), Ceilings(), 0);
  ASSERT_THAT(next, IsOk());
  EXPECT_FALSE(next->has_value());
}

TEST(RerateTest, RaiseIsCappedAgain) {
  const Entitlement current = Rated(PerMeeting(), AttendanceRole::kMember);
  IndemnityPolicy v2 = PerMeeting(20000, 20000);
  v2.id = "pol-2025-v2";
  auto next = Rerate(current, v2, Ceilings(), 4'700'000);
  ASSERT_THAT(next, IsOk());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->amount_cents, 10000);
  EXPECT_EQ((*next)->capped_cents, 10000);
}

TEST(RerateTest, PaidOrBatchedIsRefused) {
  Entitlement current = Rated(PerMeeting(), AttendanceRole::kMember);
  for (EntitlementStatus s :
       {EntitlementStatus::kBatched, EntitlementStatus::kPaid, EntitlementStatus::kReversed}) {
    current.status = s;
    EXPECT_THAT(Rerate(current, PerMeeting(9000, 12000), Ceilings(), 0),
                StatusIs(absl::StatusCode::kFailedPrecondition));
  }
}

TEST(CountsTowardCapTest, OnlyCurrentAmountsCount) {
  Entitlement e;
  e.amount_cents = 8000;
  e.status = EntitlementStatus::kPaid;
  EXPECT_TRUE(CountsTowardCap(e));
  e.status = EntitlementStatus::kReversed;
  EXPECT_FALSE(CountsTowardCap(e));
  e.status = EntitlementStatus::kIneligible;
  e.amount_cents = 0;
  EXPECT_FALSE(CountsTowardCap(e));
}

}  // namespace
}  // namespace cpts::finance

namespace cpts::finance {
namespace {

TEST(PolicyVersionTest, FrozenPolicyIsRevisedNotEdited) {
  IndemnityPolicy v1 = PerMeeting();
  v1.version = 1;
  v1.in_force = true;
  EXPECT_THAT(CheckPolicyUpdatable(v1), IsOk());
  v1.frozen = true;
  EXPECT_THAT(CheckPolicyUpdatable(v1), StatusIs(absl::StatusCode::kFailedPrecondition, "revise"));

  auto v2 = NextPolicyVersion(v1, PerMeeting(9000, 11000));
  ASSERT_THAT(v2, IsOk());
  EXPECT_EQ(v2->version, 2);
  EXPECT_TRUE(v2->in_force);
  EXPECT_FALSE(v2->frozen);
  EXPECT_TRUE(v2->id.empty());
  EXPECT_EQ(v2->tenant_id, "t1");
  EXPECT_EQ(v2->member_amount_cents, 9000);

  IndemnityPolicy other_year = PerMeeting();
  other_year.year = 2024;
  EXPECT_THAT(NextPolicyVersion(v1, other_year),
              StatusIs(absl::StatusCode::kInvalidArgument, "policy.year"));
  EXPECT_THAT(NextPolicyVersion(v1, PerMeeting(9000, 100)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  v1.in_force = false;
  EXPECT_THAT(NextPolicyVersion(v1, PerMeeting()), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(StatementTest, TotalsOverCurrentEntitlementsOfTheYear) {
  auto make = [](std::string id, absl::CivilDay day, Cents amount, Cents capped,
                 EntitlementStatus status, PayeeType payee) {
    Entitlement e;
    e.id = std::move(id);
    e.member_id = "mem1";
    e.group_id = "grp1";
    e.meeting_date = day;
    e.amount_cents = amount;
    e.capped_cents = capped;
    e.status = status;
    e.payee.type = payee;
    return e;
  };
  std::vector<Entitlement> all = {
      make("e3", absl::CivilDay(2025, 5, 1), 8000, 0, EntitlementStatus::kPending,
           PayeeType::kSelf),
      make("e1", absl::CivilDay(2025, 2, 1), 10000, 0, EntitlementStatus::kReversed,
           PayeeType::kSelf),
      make("e2", absl::CivilDay(2025, 2, 1), 8000, 0, EntitlementStatus::kPaid,
           PayeeType::kEmployer),
      make("e4", absl::CivilDay(2025, 9, 1), 5000, 3000, EntitlementStatus::kApproved,
           PayeeType::kSelf),
      make("e0", absl::CivilDay(2024, 12, 1), 8000, 0, EntitlementStatus::kPaid, PayeeType::kSelf),
  };
  Entitlement someone_else = all[0];
  someone_else.member_id = "mem2";
  all.push_back(someone_else);

  const Statement st = BuildStatement("mem1", 2025, all, Ceilings());
  EXPECT_EQ(st.annual_ceiling_cents, 4710000);
  ASSERT_EQ(st.lines.size(), 4u);
  EXPECT_EQ(st.lines[0].entitlement_id, "e1");
  EXPECT_EQ(st.lines[1].entitlement_id, "e2");
  EXPECT_TRUE(st.lines[1].paid_to_employer);
  EXPECT_EQ(st.lines[3].entitlement_id, "e4");
  EXPECT_EQ(st.total_due_cents, 8000 + 8000 + 5000);
  EXPECT_EQ(st.total_paid_cents, 8000);
  EXPECT_EQ(st.total_capped_cents, 3000);
}

}  // namespace
}  // namespace cpts::finance

namespace cpts::finance {
namespace {

// `f` as a member sitting in `body` on the work date.
MemberFacts Sitting(MemberFacts f, GovernanceBody body = GovernanceBody::kBureau) {
  f.governance_bodies.push_back(body);
  return f;
}

GovernanceClaim Claim(Cents amount = 30000) {
  return GovernanceClaim{.tenant_id = "t1",
                         .member_id = "mem1",
                         .work_date = absl::CivilDay(2025, 3, 12),
                         .amount_cents = amount,
                         .body = GovernanceBody::kBureau,
                         .reason = "Bureau du 12 mars",
                         .request_id = "gov-1"};
}

TEST(GovernanceTest, IsAnIndemnityChargedToGovernanceAndWaitsForApproval) {
  const MemberFacts facts = Sitting(Liberal());
  auto e = BuildGovernanceEntitlement(Claim(), &facts, Ceilings(), 0);
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->category, EntitlementCategory::kIndemnity);
  EXPECT_EQ(e->action_id, kGovernanceActionKey);
  EXPECT_EQ(e->idempotency_key, "governance/gov-1");
  EXPECT_EQ(e->member_id, "mem1");
  EXPECT_EQ(e->meeting_date, absl::CivilDay(2025, 3, 12));
  EXPECT_TRUE(e->meeting_id.empty());
  EXPECT_TRUE(e->policy_id.empty());
  EXPECT_EQ(e->governance_body, GovernanceBody::kBureau);
  EXPECT_EQ(e->reason, "Bureau du 12 mars");
  EXPECT_EQ(e->rated_cents, 30000);
  EXPECT_EQ(e->amount_cents, 30000);
  EXPECT_EQ(e->status, EntitlementStatus::kPending);
  EXPECT_EQ(e->payee, (PayeeRef{.type = PayeeType::kSelf, .member_id = "mem1"}));
  EXPECT_TRUE(CountsTowardCap(*e));
  EXPECT_FALSE(RatedByPolicy(*e));
  EXPECT_TRUE(SameGovernanceClaim(*e, Claim()));
  EXPECT_FALSE(SameGovernanceClaim(*e, Claim(30001)));
  // Its journal transaction charges the governance budget line.
  e->id = "g1";
  auto txn = EntitlementTransaction(*e);
  ASSERT_THAT(txn, IsOk());
  EXPECT_EQ(txn->entries[0].account,
            (Account{.kind = AccountKind::kIndemnityExpense, .key = "governance"}));
}

TEST(GovernanceTest, SalariedMemberIsPaidThroughTheEmployer) {
  const MemberFacts facts = Sitting(SalariedWithConvention());
  auto e = BuildGovernanceEntitlement(Claim(), &facts, Ceilings(), 0);
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->payee.type, PayeeType::kEmployer);
  EXPECT_EQ(e->payee.member_id, "employer1");
  EXPECT_EQ(e->payee.convention_id, "conv1");
}

TEST(GovernanceTest, AnIneligibleMemberIsRefusedNotRecorded) {
  MemberFacts late = Sitting(Liberal());
  late.up_to_date = false;
  EXPECT_THAT(BuildGovernanceEntitlement(Claim(), &late, Ceilings(), 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, "member_id: mem1"));
  EXPECT_THAT(BuildGovernanceEntitlement(Claim(), &late, Ceilings(), 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not up to date"));
  EXPECT_THAT(BuildGovernanceEntitlement(Claim(), nullptr, Ceilings(), 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, "not a member"));
  MemberFacts no_convention = Sitting(SalariedWithConvention());
  no_convention.payee_kind = MemberPayeeKind::kNone;
  no_convention.none_reason = PayeeNoneReason::kNoValidConvention;
  EXPECT_THAT(BuildGovernanceEntitlement(Claim(), &no_convention, Ceilings(), 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, "employer convention"));
  MemberFacts other = Sitting(Liberal());
  other.member_id = "mem2";
  EXPECT_THAT(BuildGovernanceEntitlement(Claim(), &other, Ceilings(), 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "facts.member_id"));
}

TEST(GovernanceTest, OnlyAMemberSittingInTheBodyThatDayIsIndemnified) {
  const MemberFacts no_mandate = Liberal();
  EXPECT_THAT(BuildGovernanceEntitlement(Claim(), &no_mandate, Ceilings(), 0),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "member_id: mem1 holds no BUREAU mandate on 2025-03-12"));
  const MemberFacts board = Sitting(Liberal(), GovernanceBody::kBoard);
  EXPECT_THAT(BuildGovernanceEntitlement(Claim(), &board, Ceilings(), 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, "no BUREAU mandate"));
  GovernanceClaim board_work = Claim();
  board_work.body = GovernanceBody::kBoard;
  EXPECT_THAT(BuildGovernanceEntitlement(board_work, &board, Ceilings(), 0), IsOk());
  const MemberFacts both = Sitting(board, GovernanceBody::kBureau);
  EXPECT_THAT(BuildGovernanceEntitlement(Claim(), &both, Ceilings(), 0), IsOk());
}

TEST(GovernanceTest, CountsWithRemunerationsTowardTheCap) {
  const MemberFacts facts = Sitting(Liberal());
  // 47 000 EUR of remunerations already: 100 of the 300 claimed fit under the 2025 PASS.
  auto capped = BuildGovernanceEntitlement(Claim(), &facts, Ceilings(), 4'700'000);
  ASSERT_THAT(capped, IsOk());
  EXPECT_EQ(capped->rated_cents, 30000);
  EXPECT_EQ(capped->amount_cents, 10000);
  EXPECT_EQ(capped->capped_cents, 20000);
  EXPECT_THAT(capped->cap_reason, HasSubstr("2025"));
  EXPECT_EQ(capped->status, EntitlementStatus::kPending);
  auto full = BuildGovernanceEntitlement(Claim(), &facts, Ceilings(), 4'710'000);
  ASSERT_THAT(full, IsOk());
  EXPECT_EQ(full->amount_cents, 0);
  EXPECT_EQ(full->status, EntitlementStatus::kIneligible);
  EXPECT_EQ(full->ineligible_reason, IneligibleReason::kAnnualCapReached);
  GovernanceClaim later = Claim();
  later.work_date = absl::CivilDay(2026, 1, 5);  // no ceiling recorded for 2026
  EXPECT_THAT(BuildGovernanceEntitlement(later, &facts, Ceilings(), 0),
              StatusIs(absl::StatusCode::kFailedPrecondition, "2026"));
}

TEST(GovernanceTest, InvalidClaimsNameTheField) {
  const MemberFacts facts = Sitting(Liberal());
  struct Case {
    GovernanceClaim claim;
    const char* field;
  };
  std::vector<Case> cases;
  cases.push_back({Claim(), "member_id"});
  cases.back().claim.member_id.clear();
  cases.push_back({Claim(), "work_date"});
  cases.back().claim.work_date = absl::CivilDay(1999, 12, 31);
  cases.push_back({Claim(0), "amount_cents"});
  cases.push_back({Claim(kMaxAmountCents + 1), "amount_cents"});
  cases.push_back({Claim(), "governance_body"});
  cases.back().claim.body = GovernanceBody::kUnspecified;
  cases.push_back({Claim(), "reason"});
  cases.back().claim.reason.clear();
  cases.push_back({Claim(), "reason"});
  cases.back().claim.reason = std::string(501, 'x');
  cases.push_back({Claim(), "request_id"});
  cases.back().claim.request_id.clear();
  for (const Case& c : cases) {
    EXPECT_THAT(BuildGovernanceEntitlement(c.claim, &facts, Ceilings(), 0),
                StatusIs(absl::StatusCode::kInvalidArgument, c.field));
  }
}

TEST(GovernanceTest, ARevisionOnlyCapsGovernanceAgainAndLeavesRecoveries) {
  const MemberFacts facts = Sitting(Liberal());
  auto governance = BuildGovernanceEntitlement(Claim(), &facts, Ceilings(), 0);
  ASSERT_THAT(governance, IsOk());
  governance->id = "g1";
  IndemnityPolicy v2 = PerMeeting(9000, 12000);
  v2.id = "pol-2025-v2";
  auto next = Rerate(*governance, v2, Ceilings(), 0);
  ASSERT_THAT(next, IsOk());
  EXPECT_FALSE(next->has_value());  // the policy does not rate it
  // Re-rated meetings before it took its room: it is capped again, never raised by a policy.
  next = Rerate(*governance, v2, Ceilings(), 4'690'000);
  ASSERT_THAT(next, IsOk());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->rated_cents, 30000);
  EXPECT_EQ((*next)->amount_cents, 20000);
  EXPECT_EQ((*next)->capped_cents, 10000);
  EXPECT_EQ((*next)->supersedes_id, "g1");
  EXPECT_TRUE((*next)->policy_id.empty());
  EXPECT_EQ((*next)->category, EntitlementCategory::kIndemnity);

  Entitlement recovery = Rated(PerMeeting(), AttendanceRole::kMember);
  recovery.amount_cents = -8000;
  recovery.rated_cents = -8000;
  EXPECT_FALSE(RatedByPolicy(recovery));
  EXPECT_FALSE(CountsTowardCap(recovery));
  next = Rerate(recovery, v2, Ceilings(), 0);
  ASSERT_THAT(next, IsOk());
  EXPECT_FALSE(next->has_value());
}

TEST(StatementTest, RecoveriesAndGovernanceIndemnities) {
  auto make = [](std::string id, Cents amount, EntitlementStatus status,
                 EntitlementCategory category) {
    Entitlement e;
    e.id = std::move(id);
    e.member_id = "mem1";
    e.meeting_date = absl::CivilDay(2025, 3, 1);
    e.amount_cents = amount;
    e.status = status;
    e.category = category;
    return e;
  };
  const auto r = EntitlementCategory::kRemuneration;
  // e1 was paid then reversed: its recovery r1 is outstanding; e2 was paid with r0 withheld.
  const std::vector<Entitlement> all = {
      make("e1", 8000, EntitlementStatus::kReversed, r),
      make("r1", -8000, EntitlementStatus::kApproved, r),
      make("e0", 5000, EntitlementStatus::kReversed, r),
      make("r0", -5000, EntitlementStatus::kPaid, r),
      make("e2", 8000, EntitlementStatus::kPaid, r),
      make("g1", 30000, EntitlementStatus::kPending, EntitlementCategory::kIndemnity),
  };
  const Statement st = BuildStatement("mem1", 2025, all, Ceilings());
  ASSERT_EQ(st.lines.size(), 6u);
  EXPECT_EQ(st.total_due_cents, -8000 - 5000 + 8000 + 30000);
  EXPECT_EQ(st.total_paid_cents, -5000 + 8000);
  EXPECT_EQ(st.total_to_recover_cents, 8000);
  for (const StatementLine& l : st.lines) {
    EXPECT_EQ(l.recovery, l.entitlement_id[0] == 'r') << l.entitlement_id;
    EXPECT_EQ(l.category == EntitlementCategory::kIndemnity, l.entitlement_id == "g1");
  }
}

}  // namespace
}  // namespace cpts::finance
