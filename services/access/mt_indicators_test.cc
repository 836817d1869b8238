#include "services/access/mt_indicators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/access/mt_workflow.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::access {
namespace {

using ::cpts::testing::IsOk;
using ::testing::ElementsAre;

constexpr absl::Time kJune1 = absl::FromUnixSeconds(1748736000);          // 2025-06-01T00:00:00Z
constexpr TimeRange kJune = {kJune1, absl::FromUnixSeconds(1751328000)};  // to 2025-07-01

absl::Time June(int day, int hour = 12) {
  return absl::FromCivil(absl::CivilSecond(2025, 6, day, hour, 0, 0), absl::UTCTimeZone());
}

MtFacts Fact(std::string id, MtState state, PriorityClass c, bool ald, absl::Time created,
             absl::Time state_time, std::vector<absl::Time> declines = {}) {
  return MtFacts{std::move(id), state, c, ald, created, state_time, std::move(declines)};
}

TEST(ConstantsTest, ArePlainUtcInstants) {
  EXPECT_EQ(kJune.start, absl::FromCivil(absl::CivilDay(2025, 6, 1), absl::UTCTimeZone()));
  EXPECT_EQ(kJune.end, absl::FromCivil(absl::CivilDay(2025, 7, 1), absl::UTCTimeZone()));
}

// --- percentiles -----------------------------------------------------------------------

TEST(NearestRankPercentileTest, Table) {
  auto days = [](const std::vector<int>& values) {
    std::vector<absl::Duration> out;
    out.reserve(values.size());
    for (int v : values) out.push_back(absl::Hours(24) * v);
    return out;
  };
  struct Case {
    std::vector<int> values;
    double percent;
    int expected_days;
  };
  const Case cases[] = {
      {{7}, 50, 7},
      {{7}, 90, 7},
      {{1, 2}, 50, 1},     // lower middle, no interpolation
      {{3, 1, 2}, 50, 2},  // unsorted input
      {{1, 2, 3, 4}, 50, 2},
      {{1, 2, 3, 4, 5}, 50, 3},
      {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9},       // rank ceil(9.0) = 9, not 10
      {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 90, 10},  // rank ceil(9.9) = 10
      {{10, 20, 30}, 0, 10},
      {{10, 20, 30}, 100, 30},
      {{10, 20, 30}, 150, 30},  // clamped
      {{10, 20, 30}, -5, 10},   // clamped
      {{5, 5, 5, 1}, 90, 5},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(NearestRankPercentile(days(c.values), c.percent), absl::Hours(24) * c.expected_days)
        << "p" << c.percent << " of " << ::testing::PrintToString(c.values);
  }
  EXPECT_EQ(NearestRankPercentile({}, 50), std::nullopt);
}

// --- indicators ------------------------------------------------------------------------

TEST(ComputeMtIndicatorsTest, WaitingNowAndFlowsOfThePeriod) {
  const std::vector<MtFacts> facts = {
      // Waiting now.
      Fact("w1", MtState::kReceived, PriorityClass::kP1Ald, true, June(2), June(2)),
      Fact("w2", MtState::kTriaged, PriorityClass::kP2Age, false, June(3), June(4),
           {June(5), June(20)}),  // declined twice in June
      Fact("w3", MtState::kProposed, PriorityClass::kP2Age, false, absl::FromUnixSeconds(0),
           June(10)),  // received long before the period
      Fact("w4", MtState::kAccepted, PriorityClass::kP4Other, true, June(8), June(9)),
      Fact("w5", MtState::kTriaged, PriorityClass::kUnspecified, false, June(8), June(9)),
      // Placed in June after 2, 4 and 10 days; and one placed in July.
      Fact("p1", MtState::kPlaced, PriorityClass::kP1Ald, true, June(1), June(3)),
      Fact("p2", MtState::kPlaced, PriorityClass::kP3Fragile, false, June(10), June(14),
           {June(12)}),
      Fact("p3", MtState::kPlaced, PriorityClass::kP4Other, false, June(10), June(20)),
      Fact("p4", MtState::kPlaced, PriorityClass::kP4Other, false, June(25),
           June(30) + absl::Hours(24)),
      // Other exits in June; one withdrawn in May (received in May).
      Fact("u1", MtState::kUnreachable, PriorityClass::kP4Other, false, June(2), June(22)),
      Fact("x1", MtState::kWithdrawn, PriorityClass::kP4Other, false, June(2), June(23)),
      Fact("x2", MtState::kWithdrawn, PriorityClass::kP4Other, false, kJune1 - absl::Hours(48),
           kJune1 - absl::Hours(1), {kJune1 - absl::Hours(10)}),
      Fact("c1", MtState::kClosedOther, PriorityClass::kP4Other, false, June(2), June(24)),
  };
  const MtIndicators m = ComputeMtIndicators(facts, kJune);
  EXPECT_EQ(m.waiting, 5);
  EXPECT_EQ(m.waiting_ald, 2);
  EXPECT_EQ(m.waiting_without_ald, 3);
  EXPECT_THAT(m.waiting_by_class, ElementsAre(1, 2, 0, 2));  // unspecified counts as P4
  EXPECT_EQ(m.received, 11);                                 // all but w3 and x2
  EXPECT_EQ(m.placed, 3);
  EXPECT_EQ(m.wait_count, 3);
  EXPECT_EQ(m.unreachable, 1);
  EXPECT_EQ(m.withdrawn, 1);
  EXPECT_EQ(m.closed_other, 1);
  EXPECT_EQ(m.declines, 3);
  EXPECT_EQ(m.declined_requests, 2);
  EXPECT_EQ(m.median_wait, absl::Hours(24 * 4));
  EXPECT_EQ(m.p90_wait, absl::Hours(24 * 10));
}

TEST(ComputeMtIndicatorsTest, NothingPlacedMeansNoWait) {
  const MtIndicators m = ComputeMtIndicators(
      {Fact("w1", MtState::kReceived, PriorityClass::kP4Other, false, June(2), June(2))}, kJune);
  EXPECT_EQ(m.placed, 0);
  EXPECT_EQ(m.median_wait, std::nullopt);
  EXPECT_EQ(m.p90_wait, std::nullopt);
  EXPECT_EQ(ComputeMtIndicators({}, kJune).waiting, 0);
}

TEST(ComputeMtIndicatorsTest, FactsFromAWorkflowRun) {
  MtRequest r;
  r.id = "r1";
  r.ald = true;
  r.patient.birth_date = absl::CivilDay(1980, 1, 1);
  auto step = [&r](MtAction action, absl::Time at, std::string gp = "", std::string reason = "") {
    MtStep s;
    s.action = action;
    s.actor.subject = "someone";
    s.now = at;
    s.today = absl::CivilDay(2025, 6, 1);
    s.gp_member_id = std::move(gp);
    s.reason = std::move(reason);
    s.synthesis = "ok";
    ASSERT_THAT(ApplyMtStep(s, r), IsOk()) << MtActionName(action);
  };
  step(MtAction::kSubmit, June(1));
  step(MtAction::kTriage, June(2));
  step(MtAction::kAssign, June(3), "gp-1");
  step(MtAction::kDecline, June(4), "gp-1", "full");
  step(MtAction::kAssign, June(5), "gp-2");
  step(MtAction::kAccept, June(6), "gp-2");
  step(MtAction::kMarkPlaced, June(7));

  const MtFacts f = MtFactsOf(r);
  EXPECT_EQ(f.state, MtState::kPlaced);
  EXPECT_EQ(f.priority_class, PriorityClass::kP1Ald);
  EXPECT_TRUE(f.ald);
  EXPECT_EQ(f.create_time, June(1));
  EXPECT_EQ(f.state_time, June(7));
  EXPECT_THAT(f.decline_times, ElementsAre(June(4)));
  const MtIndicators m = ComputeMtIndicators({f}, kJune);
  EXPECT_EQ(m.placed, 1);
  EXPECT_EQ(m.median_wait, absl::Hours(24 * 6));
  EXPECT_EQ(m.declines, 1);
}

TEST(DayRangeTest, LocalDaysBothIncluded) {
  const absl::TimeZone paris_summer = absl::FixedTimeZone(2 * 3600);
  const TimeRange r =
      DayRange(absl::CivilDay(2025, 6, 1), absl::CivilDay(2025, 6, 30), paris_summer);
  EXPECT_EQ(r.start,
            absl::FromCivil(absl::CivilSecond(2025, 5, 31, 22, 0, 0), absl::UTCTimeZone()));
  EXPECT_EQ(r.end, absl::FromCivil(absl::CivilSecond(2025, 6, 30, 22, 0, 0), absl::UTCTimeZone()));
  const TimeRange one =
      DayRange(absl::CivilDay(2025, 6, 1), absl::CivilDay(2025, 6, 1), absl::UTCTimeZone());
  EXPECT_EQ(one.end - one.start, absl::Hours(24));
}

}  // namespace
}  // namespace cpts::access
