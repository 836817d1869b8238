#include "services/membership/lifecycle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

#include "services/platform/testing/status_matchers.h"

namespace cpts::membership {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;

constexpr MemberStatus kAllStatuses[] = {MemberStatus::kUnspecified, MemberStatus::kPending,
                                         MemberStatus::kActive,      MemberStatus::kLapsed,
                                         MemberStatus::kSuspended,   MemberStatus::kResigned,
                                         MemberStatus::kRejected};
constexpr Transition kAllTransitions[] = {Transition::kApprove,   Transition::kReject,
                                          Transition::kRenew,     Transition::kSuspend,
                                          Transition::kReinstate, Transition::kResign};

Tenant CalendarTenant(int64_t fee_cents = 0) {
  Tenant t;
  t.id = "t1";
  t.annual_fee_cents = fee_cents;
  return t;
}

Member Person(ExerciseMode mode, MemberStatus status, std::vector<int> years,
              absl::CivilDay since = absl::CivilDay(2024, 1, 10)) {
  Member m;
  m.id = "m1";
  m.kind = MemberKind::kPerson;
  m.exercise_mode = mode;
  m.status = status;
  m.previous_status = MemberStatus::kPending;
  m.status_since = since;
  m.membership_years = std::move(years);
  return m;
}

// --- the table -------------------------------------------------------------------------

TEST(TransitionTableTest, EveryPairIsAllowedOrRefusedAsSpecified) {
  const std::set<std::pair<MemberStatus, Transition>> allowed = {
      {MemberStatus::kPending, Transition::kApprove},
      {MemberStatus::kPending, Transition::kReject},
      {MemberStatus::kActive, Transition::kRenew},
      {MemberStatus::kLapsed, Transition::kRenew},
      {MemberStatus::kResigned, Transition::kRenew},
      {MemberStatus::kActive, Transition::kSuspend},
      {MemberStatus::kLapsed, Transition::kSuspend},
      {MemberStatus::kSuspended, Transition::kReinstate},
      {MemberStatus::kActive, Transition::kResign},
      {MemberStatus::kLapsed, Transition::kResign},
      {MemberStatus::kSuspended, Transition::kResign},
  };
  for (MemberStatus from : kAllStatuses) {
    for (Transition t : kAllTransitions) {
      const bool expected = allowed.count({from, t}) > 0;
      EXPECT_EQ(IsTransitionAllowed(from, t), expected)
          << MemberStatusName(from) << " " << TransitionName(t);
      if (expected) {
        EXPECT_THAT(CheckTransition(from, t), IsOk());
      } else {
        EXPECT_THAT(CheckTransition(from, t),
                    StatusIs(absl::StatusCode::kFailedPrecondition,
                             std::string("member is ") + std::string(MemberStatusName(from))));
      }
    }
  }
}

TEST(TransitionTableTest, RefusalSaysWhereTheStepIsAllowedFrom) {
  EXPECT_THAT(CheckTransition(MemberStatus::kSuspended, Transition::kApprove),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "member is SUSPENDED; APPROVE is allowed only from PENDING"));
  EXPECT_THAT(CheckTransition(MemberStatus::kRejected, Transition::kResign),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "allowed only from one of ACTIVE, LAPSED, SUSPENDED"));
}

// --- StatusOn --------------------------------------------------------------------------

TEST(StatusOnTest, ActiveWithoutTheYearIsLapsed) {
  const Tenant t = CalendarTenant();
  const Member m = Person(ExerciseMode::kLiberal, MemberStatus::kActive, {2024});
  EXPECT_EQ(StatusOn(m, t, absl::CivilDay(2024, 6, 1)), MemberStatus::kActive);
  EXPECT_EQ(StatusOn(m, t, absl::CivilDay(2025, 1, 1)), MemberStatus::kLapsed);
  EXPECT_EQ(StatusOn(m, t, absl::CivilDay(2024, 1, 9)), MemberStatus::kPending);  // before since
}

TEST(StatusOnTest, BeforeTheStatusBeganThePreviousOneHolds) {
  const Tenant t = CalendarTenant();
  Member m =
      Person(ExerciseMode::kLiberal, MemberStatus::kSuspended, {2024}, absl::CivilDay(2024, 5, 1));
  m.previous_status = MemberStatus::kActive;
  EXPECT_EQ(StatusOn(m, t, absl::CivilDay(2024, 4, 30)), MemberStatus::kActive);
  EXPECT_EQ(StatusOn(m, t, absl::CivilDay(2024, 5, 1)), MemberStatus::kSuspended);
}

// --- ApplyTransition -------------------------------------------------------------------

TEST(ApplyTransitionTest, ApproveMakesActiveForTheYear) {
  const Tenant t = CalendarTenant();
  Member m = Person(ExerciseMode::kLiberal, MemberStatus::kPending, {});
  TransitionInput in{Transition::kApprove, absl::CivilDay(2025, 3, 15), 2025, {}, ""};
  ASSERT_THAT(ApplyTransition(t, in, m), IsOk());
  EXPECT_EQ(m.status, MemberStatus::kActive);
  EXPECT_EQ(m.previous_status, MemberStatus::kPending);
  EXPECT_EQ(m.status_since, absl::CivilDay(2025, 3, 15));
  EXPECT_THAT(m.membership_years, ElementsAre(2025));
  EXPECT_EQ(StatusOn(m, t, in.today), MemberStatus::kActive);
}

TEST(ApplyTransitionTest, ApprovalForNextYearIsLapsedUntilThen) {
  const Tenant t = CalendarTenant();
  Member m = Person(ExerciseMode::kLiberal, MemberStatus::kPending, {});
  TransitionInput in{Transition::kApprove, absl::CivilDay(2025, 12, 10), 2026, {}, ""};
  ASSERT_THAT(ApplyTransition(t, in, m), IsOk());
  EXPECT_EQ(StatusOn(m, t, absl::CivilDay(2025, 12, 20)), MemberStatus::kLapsed);
  EXPECT_EQ(StatusOn(m, t, absl::CivilDay(2026, 1, 1)), MemberStatus::kActive);
}

TEST(ApplyTransitionTest, RejectKeepsTheReason) {
  const Tenant t = CalendarTenant();
  Member m = Person(ExerciseMode::kLiberal, MemberStatus::kPending, {});
  TransitionInput in{Transition::kReject, absl::CivilDay(2025, 3, 15), 0, {}, "hors territoire"};
  ASSERT_THAT(ApplyTransition(t, in, m), IsOk());
  EXPECT_EQ(m.status, MemberStatus::kRejected);
  EXPECT_EQ(m.status_reason, "hors territoire");
  // Final: nothing is allowed afterwards.
  for (Transition tr : kAllTransitions) {
    TransitionInput next{tr, absl::CivilDay(2025, 3, 16), 2025, {}, "x"};
    Member copy = m;
    EXPECT_THAT(ApplyTransition(t, next, copy), StatusIs(absl::StatusCode::kFailedPrecondition));
  }
}

TEST(ApplyTransitionTest, RenewAddsYearsInOrderAndRefusesDuplicates) {
  const Tenant t = CalendarTenant();
  Member m = Person(ExerciseMode::kLiberal, MemberStatus::kActive, {2024});
  const absl::CivilDay today(2025, 2, 1);
  ASSERT_EQ(StatusOn(m, t, today), MemberStatus::kLapsed);
  ASSERT_THAT(ApplyTransition(t, {Transition::kRenew, today, 2026, {}, ""}, m), IsOk());
  ASSERT_THAT(ApplyTransition(t, {Transition::kRenew, today, 2025, {}, ""}, m), IsOk());
  EXPECT_THAT(m.membership_years, ElementsAre(2024, 2025, 2026));
  EXPECT_EQ(m.status_since, absl::CivilDay(2024, 1, 10)) << "an ACTIVE member keeps its history";
  const Member before = m;
  EXPECT_THAT(ApplyTransition(t, {Transition::kRenew, today, 2025, {}, ""}, m),
              StatusIs(absl::StatusCode::kFailedPrecondition, "already a member for 2025"));
  EXPECT_EQ(m.membership_years, before.membership_years);
}

TEST(ApplyTransitionTest, RenewBringsBackAResignedMember) {
  const Tenant t = CalendarTenant();
  Member m = Person(ExerciseMode::kLiberal, MemberStatus::kResigned, {2023});
  const absl::CivilDay today(2025, 2, 1);
  ASSERT_THAT(ApplyTransition(t, {Transition::kRenew, today, 2025, {}, ""}, m), IsOk());
  EXPECT_EQ(m.status, MemberStatus::kActive);
  EXPECT_EQ(m.previous_status, MemberStatus::kResigned);
  EXPECT_EQ(StatusOn(m, t, today), MemberStatus::kActive);
}

TEST(ApplyTransitionTest, SuspendThenReinstate) {
  const Tenant t = CalendarTenant();
  Member m = Person(ExerciseMode::kLiberal, MemberStatus::kActive, {2025});
  ASSERT_THAT(ApplyTransition(t, {Transition::kSuspend, absl::CivilDay(2025, 4, 1), 0, {}, "r"}, m),
              IsOk());
  EXPECT_EQ(StatusOn(m, t, absl::CivilDay(2025, 4, 1)), MemberStatus::kSuspended);
  EXPECT_EQ(StatusOn(m, t, absl::CivilDay(2025, 3, 31)), MemberStatus::kActive);
  EXPECT_THAT(ApplyTransition(t, {Transition::kSuspend, absl::CivilDay(2025, 4, 2), 0, {}, ""}, m),
              StatusIs(absl::StatusCode::kFailedPrecondition, "member is SUSPENDED"));
  ASSERT_THAT(
      ApplyTransition(t, {Transition::kReinstate, absl::CivilDay(2025, 5, 1), 0, {}, ""}, m),
      IsOk());
  EXPECT_EQ(StatusOn(m, t, absl::CivilDay(2025, 5, 1)), MemberStatus::kActive);
}

TEST(ApplyTransitionTest, ResignTakesEffectOnTheGivenDay) {
  const Tenant t = CalendarTenant();
  Member m =
      Person(ExerciseMode::kLiberal, MemberStatus::kActive, {2025}, absl::CivilDay(2025, 1, 5));
  TransitionInput in{Transition::kResign, absl::CivilDay(2025, 6, 1), 0,
                     absl::CivilDay(2025, 5, 20), "départ en retraite"};
  ASSERT_THAT(ApplyTransition(t, in, m), IsOk());
  EXPECT_EQ(m.status, MemberStatus::kResigned);
  EXPECT_EQ(m.status_since, absl::CivilDay(2025, 5, 20));
  EXPECT_EQ(StatusOn(m, t, absl::CivilDay(2025, 5, 19)), MemberStatus::kActive);
  EXPECT_EQ(StatusOn(m, t, absl::CivilDay(2025, 5, 20)), MemberStatus::kResigned);
}

TEST(ApplyTransitionTest, ResignCannotPrecedeTheCurrentStatus) {
  const Tenant t = CalendarTenant();
  Member m =
      Person(ExerciseMode::kLiberal, MemberStatus::kActive, {2025}, absl::CivilDay(2025, 3, 1));
  const Member before = m;
  TransitionInput in{Transition::kResign, absl::CivilDay(2025, 6, 1), 0, absl::CivilDay(2025, 2, 1),
                     "x"};
  EXPECT_THAT(ApplyTransition(t, in, m),
              StatusIs(absl::StatusCode::kFailedPrecondition, "effective_date: "));
  EXPECT_EQ(m.status, before.status);
}

TEST(ApplyTransitionTest, RefusedStepLeavesTheMemberUnchanged) {
  const Tenant t = CalendarTenant();
  Member m = Person(ExerciseMode::kLiberal, MemberStatus::kPending, {});
  EXPECT_THAT(ApplyTransition(t, {Transition::kSuspend, absl::CivilDay(2025, 3, 1), 0, {}, "r"}, m),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "member is PENDING; SUSPEND is allowed only from one of ACTIVE, LAPSED"));
  EXPECT_EQ(m.status, MemberStatus::kPending);
  EXPECT_TRUE(m.status_reason.empty());
}

// --- up to date ------------------------------------------------------------------------

TEST(UpToDateTest, WithoutFeeActiveForTheYearIsEnough) {
  const Tenant t = CalendarTenant(0);
  const Member m = Person(ExerciseMode::kLiberal, MemberStatus::kActive, {2025});
  EXPECT_TRUE(IsUpToDate(m, t, absl::CivilDay(2025, 6, 1)));
  EXPECT_FALSE(IsUpToDate(m, t, absl::CivilDay(2026, 1, 1)));  // lapsed
}

TEST(UpToDateTest, WithFeeThePaymentsForThatYearMustCoverIt) {
  const Tenant t = CalendarTenant(3000);
  Member m = Person(ExerciseMode::kLiberal, MemberStatus::kActive, {2024, 2025});
  const absl::CivilDay day(2025, 6, 1);
  EXPECT_FALSE(IsUpToDate(m, t, day));
  m.paid_cents_by_year[2024] = 5000;  // another year does not count
  EXPECT_FALSE(IsUpToDate(m, t, day));
  m.paid_cents_by_year[2025] = 2000;
  EXPECT_FALSE(IsUpToDate(m, t, day));
  m.paid_cents_by_year[2025] = 3000;
  EXPECT_TRUE(IsUpToDate(m, t, day));
  EXPECT_TRUE(IsUpToDate(m, t, absl::CivilDay(2024, 6, 1)));
}

TEST(UpToDateTest, OnlyActiveMembersAreUpToDate) {
  const Tenant t = CalendarTenant(0);
  for (MemberStatus s : {MemberStatus::kPending, MemberStatus::kSuspended, MemberStatus::kResigned,
                         MemberStatus::kRejected}) {
    const Member m = Person(ExerciseMode::kLiberal, s, {2025});
    EXPECT_FALSE(IsUpToDate(m, t, absl::CivilDay(2025, 6, 1))) << MemberStatusName(s);
  }
}

// --- payee -----------------------------------------------------------------------------

EmployerConvention Convention(std::string id, absl::CivilDay from,
                              std::optional<absl::CivilDay> until) {
  EmployerConvention c;
  c.id = std::move(id);
  c.member_id = "m1";
  c.employer_member_id = "clinic";
  c.valid_from = from;
  c.valid_until = until;
  return c;
}

Payee Self() { return Payee{PayeeKind::kSelf, "", "", PayeeNoneReason::kUnspecified}; }
Payee Employer(std::string convention) {
  return Payee{PayeeKind::kEmployer, "clinic", std::move(convention),
               PayeeNoneReason::kUnspecified};
}
Payee None(PayeeNoneReason reason) { return Payee{PayeeKind::kNone, "", "", reason}; }

TEST(PayeeTest, FollowsTheExerciseModeAndConventions) {
  const Tenant t = CalendarTenant();
  const absl::CivilDay day(2025, 6, 10);
  const std::vector<EmployerConvention> conventions = {
      Convention("old", absl::CivilDay(2024, 1, 1), absl::CivilDay(2024, 12, 31)),
      Convention("cur", absl::CivilDay(2025, 6, 1), std::nullopt)};
  const std::vector<EmployerConvention> expired = {conventions[0]};

  struct Case {
    ExerciseMode mode;
    const std::vector<EmployerConvention>* conventions;
    absl::CivilDay day;
    Payee expected;
  };
  const std::vector<Case> cases = {
      {ExerciseMode::kLiberal, &conventions, day, Self()},
      {ExerciseMode::kSalaried, &conventions, day, Employer("cur")},
      {ExerciseMode::kSalaried, &expired, day, None(PayeeNoneReason::kNoValidConvention)},
      {ExerciseMode::kSalaried, &conventions, absl::CivilDay(2025, 5, 31),
       None(PayeeNoneReason::kNoValidConvention)},  // gap between the two conventions
      {ExerciseMode::kMixed, &conventions, day, Employer("cur")},
      {ExerciseMode::kMixed, &expired, day, Self()},
      {ExerciseMode::kUnspecified, &conventions, day, None(PayeeNoneReason::kNoExerciseMode)},
  };
  for (const Case& c : cases) {
    const Member m = Person(c.mode, MemberStatus::kActive, {2025}, absl::CivilDay(2025, 1, 2));
    EXPECT_EQ(PayeeOn(m, t, c.day, *c.conventions), c.expected) << ExerciseModeName(c.mode);
  }
}

TEST(PayeeTest, InclusiveConventionBounds) {
  const Tenant t = CalendarTenant();
  const std::vector<EmployerConvention> conventions = {
      Convention("c", absl::CivilDay(2025, 3, 1), absl::CivilDay(2025, 3, 31))};
  const Member m =
      Person(ExerciseMode::kSalaried, MemberStatus::kActive, {2025}, absl::CivilDay(2025, 1, 2));
  EXPECT_EQ(PayeeOn(m, t, absl::CivilDay(2025, 3, 1), conventions), Employer("c"));
  EXPECT_EQ(PayeeOn(m, t, absl::CivilDay(2025, 3, 31), conventions), Employer("c"));
  EXPECT_EQ(PayeeOn(m, t, absl::CivilDay(2025, 4, 1), conventions).kind, PayeeKind::kNone);
}

TEST(PayeeTest, NobodyForLegalEntitiesAndInactiveMembers) {
  const Tenant t = CalendarTenant();
  const absl::CivilDay day(2025, 6, 10);
  Member entity = Person(ExerciseMode::kUnspecified, MemberStatus::kActive, {2025});
  entity.kind = MemberKind::kLegalEntity;
  EXPECT_EQ(PayeeOn(entity, t, day, {}), None(PayeeNoneReason::kLegalEntity));
  for (MemberStatus s : {MemberStatus::kPending, MemberStatus::kSuspended, MemberStatus::kResigned,
                         MemberStatus::kRejected}) {
    const Member m = Person(ExerciseMode::kLiberal, s, {2025});
    EXPECT_EQ(PayeeOn(m, t, day, {}), None(PayeeNoneReason::kMemberNotActive))
        << MemberStatusName(s);
  }
  const Member lapsed = Person(ExerciseMode::kLiberal, MemberStatus::kActive, {2024});
  EXPECT_EQ(PayeeOn(lapsed, t, day, {}), None(PayeeNoneReason::kMemberNotActive));
}

TEST(PayeeTest, AMeetingBeforeASuspensionIsStillPaid) {
  const Tenant t = CalendarTenant();
  Member m =
      Person(ExerciseMode::kLiberal, MemberStatus::kSuspended, {2025}, absl::CivilDay(2025, 6, 1));
  m.previous_status = MemberStatus::kActive;
  EXPECT_EQ(PayeeOn(m, t, absl::CivilDay(2025, 5, 15), {}), Self());
  EXPECT_EQ(PayeeOn(m, t, absl::CivilDay(2025, 6, 15), {}).kind, PayeeKind::kNone);
}

}  // namespace
}  // namespace cpts::membership
