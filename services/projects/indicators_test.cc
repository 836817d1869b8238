#include "services/projects/indicators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "services/platform/testing/status_matchers.h"
#include "services/projects/missions_catalog.h"
#include "services/projects/validators.h"

namespace cpts::projects {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;

Indicator Workshops() {
  Indicator i;
  i.id = "i1";
  i.name = "Ateliers tenus";
  i.kind = IndicatorKind::kAction;
  i.unit = "ateliers";
  i.targets = {{.year = 2024, .target = 10}, {.year = 2025, .target = 12}};
  return i;
}

Indicator Patients() {
  Indicator i;
  i.id = "i2";
  i.name = "Patients sans médecin traitant orientés";
  i.kind = IndicatorKind::kResult;
  i.unit = "patients";
  i.source = IndicatorSource::kAccessMt;
  i.targets = {{.year = 2025, .target = 200}, {.year = 2026, .target = 250}};
  return i;
}

Action ActiveAction() {
  Action a;
  a.id = "a1";
  a.status = ActionStatus::kActive;
  a.indicators = {Workshops(), Patients()};
  return a;
}

// --- action status ---------------------------------------------------------------------

TEST(ActionStatusTest, EveryChangeIsAllowedOrRefusedAsSpecified) {
  const ActionStatus all[] = {ActionStatus::kDraft, ActionStatus::kActive, ActionStatus::kSuspended,
                              ActionStatus::kDone};
  const std::set<std::pair<ActionStatus, ActionStatus>> allowed = {
      {ActionStatus::kDraft, ActionStatus::kActive},
      {ActionStatus::kActive, ActionStatus::kSuspended},
      {ActionStatus::kActive, ActionStatus::kDone},
      {ActionStatus::kSuspended, ActionStatus::kActive},
      {ActionStatus::kSuspended, ActionStatus::kDone},
  };
  for (ActionStatus from : all) {
    for (ActionStatus to : all) {
      const absl::Status s = CheckActionStatusChange(from, to);
      if (allowed.count({from, to}) > 0) {
        EXPECT_THAT(s, IsOk()) << ActionStatusName(from) << "->" << ActionStatusName(to);
      } else if (to == ActionStatus::kDraft) {
        EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, "status:"));
      } else {
        EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition,
                                std::string("action is ") + std::string(ActionStatusName(from))))
            << ActionStatusName(from) << "->" << ActionStatusName(to);
      }
    }
  }
  EXPECT_THAT(CheckActionStatusChange(ActionStatus::kDraft, ActionStatus::kUnspecified),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// --- indicators and targets ------------------------------------------------------------

TEST(NormalizeIndicatorTest, SortsTargetsAndDefaultsTheSource) {
  Indicator i = Workshops();
  i.name = "  Ateliers tenus ";
  i.targets = {{.year = 2026, .target = 3}, {.year = 2024, .target = 1}};
  ASSERT_THAT(NormalizeIndicator(i, "indicator"), IsOk());
  EXPECT_EQ(i.name, "Ateliers tenus");
  EXPECT_EQ(i.source, IndicatorSource::kManual);
  EXPECT_THAT(i.targets, ElementsAre(YearlyTarget{.year = 2024, .target = 1},
                                     YearlyTarget{.year = 2026, .target = 3}));
}

TEST(NormalizeIndicatorTest, Refusals) {
  Indicator twice = Workshops();
  twice.targets.push_back({.year = 2024, .target = 5});
  EXPECT_THAT(NormalizeIndicator(twice, "indicator"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "indicator.targets[2].year: has a target already"));
  Indicator negative = Workshops();
  negative.targets[1].target = -1;
  EXPECT_THAT(NormalizeIndicator(negative, "indicator"),
              StatusIs(absl::StatusCode::kInvalidArgument, "indicator.targets[1].target"));
  Indicator old = Workshops();
  old.targets[0].year = 1999;
  EXPECT_THAT(NormalizeIndicator(old, "indicator"),
              StatusIs(absl::StatusCode::kInvalidArgument, "indicator.targets[0].year"));
  Indicator no_kind = Workshops();
  no_kind.kind = IndicatorKind::kUnspecified;
  EXPECT_THAT(NormalizeIndicator(no_kind, "indicator"),
              StatusIs(absl::StatusCode::kInvalidArgument, "indicator.kind"));
  Indicator no_unit = Workshops();
  no_unit.unit = "";
  EXPECT_THAT(NormalizeIndicator(no_unit, "indicator"),
              StatusIs(absl::StatusCode::kInvalidArgument, "indicator.unit"));
}

TEST(AddIndicatorTest, NamesAreUniqueWithinTheAction) {
  Action action = ActiveAction();
  Indicator same = Workshops();
  same.name = " Ateliers tenus";
  EXPECT_THAT(AddIndicator(same, action),
              StatusIs(absl::StatusCode::kInvalidArgument, "indicator.name"));
  Indicator other = Workshops();
  other.name = "Participants aux ateliers";
  ASSERT_THAT(AddIndicator(other, action), IsOk());
  ASSERT_EQ(action.indicators.size(), 3u);
  EXPECT_TRUE(action.indicators[2].id.empty());  // assigned by the store
  action.status = ActionStatus::kDone;
  other.name = "Encore un";
  EXPECT_THAT(AddIndicator(other, action), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(TargetsTest, SetAddsInYearOrderOrReplaces) {
  Indicator i = Workshops();
  ASSERT_THAT(SetTarget(2023, 8, i), IsOk());
  ASSERT_THAT(SetTarget(2025, 15, i), IsOk());
  EXPECT_THAT(i.targets, ElementsAre(YearlyTarget{.year = 2023, .target = 8},
                                     YearlyTarget{.year = 2024, .target = 10},
                                     YearlyTarget{.year = 2025, .target = 15}));
  EXPECT_EQ(TargetFor(i, 2025), 15);
  EXPECT_EQ(TargetFor(i, 2030), std::nullopt);
  EXPECT_THAT(SetTarget(2101, 1, i), StatusIs(absl::StatusCode::kInvalidArgument, "year"));
  EXPECT_THAT(SetTarget(2026, -5, i), StatusIs(absl::StatusCode::kInvalidArgument, "target"));
}

TEST(CopyTargetsTest, CopiesToTheNextYearOnlyWhereNoTargetExists) {
  Action action = ActiveAction();
  auto copied = CopyTargets(2025, 2026, action);
  ASSERT_THAT(copied, IsOk());
  EXPECT_EQ(*copied, 1);  // workshops; patients already has a 2026 target
  EXPECT_EQ(TargetFor(action.indicators[0], 2026), 12);
  EXPECT_EQ(TargetFor(action.indicators[1], 2026), 250);
  // Running it again copies nothing.
  EXPECT_EQ(*CopyTargets(2025, 2026, action), 0);
}

TEST(CopyTargetsTest, Refusals) {
  Action action = ActiveAction();
  EXPECT_THAT(CopyTargets(2025, 2025, action),
              StatusIs(absl::StatusCode::kInvalidArgument, "to_year"));
  EXPECT_THAT(CopyTargets(1999, 2025, action),
              StatusIs(absl::StatusCode::kInvalidArgument, "from_year"));
  action.status = ActionStatus::kDone;
  EXPECT_THAT(CopyTargets(2025, 2026, action), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(TargetFor(action.indicators[0], 2026), std::nullopt);
}

// --- values ----------------------------------------------------------------------------

IndicatorValue V(const std::string& indicator, int year, int month, int64_t value) {
  IndicatorValue v;
  v.action_id = "a1";
  v.indicator_id = indicator;
  v.year = year;
  v.month = month;
  v.value = value;
  return v;
}

TEST(YearlyValueTest, WholeYearWinsElseMonthsAddUp) {
  const std::vector<IndicatorValue> values = {V("i1", 2025, 1, 2),   V("i1", 2025, 2, 3),
                                              V("i1", 2024, 0, 40),  V("i2", 2025, 1, 100),
                                              V("i2", 2025, 0, 180), V("i2", 2025, 2, 100)};
  EXPECT_EQ(YearlyValue(values, "i1", 2025), 5);
  EXPECT_EQ(YearlyValue(values, "i1", 2024), 40);
  EXPECT_EQ(YearlyValue(values, "i2", 2025), 180);
  EXPECT_EQ(YearlyValue(values, "i1", 2026), 0);
  EXPECT_EQ(YearlyValue(values, "i9", 2025), 0);
}

TEST(ValidateIndicatorValueTest, Checks) {
  const Action action = ActiveAction();
  EXPECT_THAT(ValidateIndicatorValue(action, V("i1", 2025, 12, 0)), IsOk());
  EXPECT_THAT(ValidateIndicatorValue(action, V("i1", 2025, 13, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, "value.month"));
  EXPECT_THAT(ValidateIndicatorValue(action, V("i1", 2025, 0, -1)),
              StatusIs(absl::StatusCode::kInvalidArgument, "value.value"));
  EXPECT_THAT(ValidateIndicatorValue(action, V("i1", 1990, 0, 1)),
              StatusIs(absl::StatusCode::kInvalidArgument, "value.year"));
  EXPECT_THAT(ValidateIndicatorValue(action, V("i9", 2025, 0, 1)),
              StatusIs(absl::StatusCode::kNotFound));
}

struct AttainmentCase {
  int64_t value;
  int64_t target;
  int32_t bp;
};

class AttainmentTest : public ::testing::TestWithParam<AttainmentCase> {};

TEST_P(AttainmentTest, InBasisPointsRoundedDownAndCapped) {
  EXPECT_EQ(AttainmentBp(GetParam().value, GetParam().target), GetParam().bp)
      << GetParam().value << "/" << GetParam().target;
}

INSTANTIATE_TEST_SUITE_P(
    Values, AttainmentTest,
    ::testing::Values(AttainmentCase{0, 10, 0}, AttainmentCase{5, 10, 5000},
                      AttainmentCase{10, 10, 10000}, AttainmentCase{1, 3, 3333},
                      AttainmentCase{2, 3, 6666}, AttainmentCase{15, 10, 15000},
                      AttainmentCase{99, 10, 99000}, AttainmentCase{100, 10, 100000},
                      AttainmentCase{1000, 10, 100000}, AttainmentCase{5, 0, 0},
                      AttainmentCase{5, -1, 0},
                      AttainmentCase{std::numeric_limits<int64_t>::max(), 1, 100000},
                      AttainmentCase{1'000'000'000'000'000'000, 4'000'000'000'000'000'000, 2500},
                      AttainmentCase{std::numeric_limits<int64_t>::max() / 3,
                                     std::numeric_limits<int64_t>::max(), 3333}));

// --- missions --------------------------------------------------------------------------

TEST(DefaultMissionsTest, FourCoreAndTwoOptionalValidAndUniquelyNumbered) {
  std::vector<Mission> missions = DefaultMissions();
  ASSERT_EQ(missions.size(), 6u);
  std::set<int> numbers;
  for (std::size_t i = 0; i < missions.size(); ++i) {
    EXPECT_EQ(missions[i].number, static_cast<int>(i) + 1);
    EXPECT_EQ(missions[i].kind, i < 4 ? MissionKind::kCore : MissionKind::kOptional);
    EXPECT_THAT(NormalizeMission(missions[i], "mission"), IsOk()) << missions[i].label;
    numbers.insert(missions[i].number);
  }
  EXPECT_EQ(numbers.size(), missions.size());
  EXPECT_EQ(missions[0].label, "Accès aux soins");
}

TEST(MissionNumberTest, NumbersAreUniqueIgnoringTheMissionItself) {
  std::vector<Mission> missions = DefaultMissions();
  for (std::size_t i = 0; i < missions.size(); ++i) missions[i].id = "ms" + std::to_string(i);
  Mission fresh;
  fresh.number = 3;
  EXPECT_THAT(CheckMissionNumberFree(missions, fresh),
              StatusIs(absl::StatusCode::kAlreadyExists, "mission number 3"));
  fresh.number = 7;
  EXPECT_THAT(CheckMissionNumberFree(missions, fresh), IsOk());
  Mission renumbered = missions[2];  // keeps its own number
  EXPECT_THAT(CheckMissionNumberFree(missions, renumbered), IsOk());
}

}  // namespace
}  // namespace cpts::projects
