#include "services/access/mt_priority.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace cpts::access {
namespace {

using ::testing::ElementsAreArray;

const absl::CivilDay kToday(2025, 6, 15);
constexpr absl::Time kT0 = absl::FromUnixSeconds(1735722000);  // 2025-01-01T09:00:00Z

TEST(ConstantsTest, T0IsPlainUtc) {
  EXPECT_EQ(kT0, absl::FromCivil(absl::CivilSecond(2025, 1, 1, 9, 0, 0), absl::UTCTimeZone()));
}

// --- age -------------------------------------------------------------------------------

struct AgeCase {
  absl::CivilDay birth;
  absl::CivilDay today;
  int age;
};

TEST(AgeTest, CompletedYears) {
  const AgeCase cases[] = {
      {absl::CivilDay(2000, 6, 15), absl::CivilDay(2025, 6, 15), 25},  // birthday today
      {absl::CivilDay(2000, 6, 16), absl::CivilDay(2025, 6, 15), 24},  // tomorrow
      {absl::CivilDay(2000, 6, 14), absl::CivilDay(2025, 6, 15), 25},
      {absl::CivilDay(2025, 6, 15), absl::CivilDay(2025, 6, 15), 0},  // born today
      {absl::CivilDay(2025, 6, 16), absl::CivilDay(2025, 6, 15), 0},  // not born yet
      {absl::CivilDay(2000, 12, 31), absl::CivilDay(2001, 1, 1), 0},
      // 29 February: the birthday is 1 March in common years.
      {absl::CivilDay(2000, 2, 29), absl::CivilDay(2025, 2, 28), 24},
      {absl::CivilDay(2000, 2, 29), absl::CivilDay(2025, 3, 1), 25},
      {absl::CivilDay(2000, 2, 29), absl::CivilDay(2024, 2, 29), 24},
  };
  for (const AgeCase& c : cases) {
    EXPECT_EQ(AgeInYears(c.birth, c.today), c.age) << c.birth << " on " << c.today;
  }
}

TEST(AgeTest, ThresholdsAreUnder6AndSeventyOrMore) {
  // The day before the 6th birthday: under 6; on it: not.
  EXPECT_TRUE(IsUnder6(absl::CivilDay(2019, 6, 16), kToday));
  EXPECT_FALSE(IsUnder6(absl::CivilDay(2019, 6, 15), kToday));
  // On the 70th birthday: 70 or more; the day before: not.
  EXPECT_TRUE(IsOver70(absl::CivilDay(1955, 6, 15), kToday));
  EXPECT_FALSE(IsOver70(absl::CivilDay(1955, 6, 16), kToday));
}

// --- the class -------------------------------------------------------------------------

struct ClassCase {
  const char* name;
  PriorityFacts facts;
  PriorityClass expected;
};

PriorityFacts Facts(bool ald, absl::CivilDay birth, bool precarity = false, bool disability = false,
                    bool pregnancy = false) {
  return PriorityFacts{ald, birth, precarity, disability, pregnancy};
}

TEST(ComputePriorityClassTest, TheRule) {
  const absl::CivilDay adult(1980, 3, 3);
  const absl::CivilDay child(2022, 1, 1);   // 3
  const absl::CivilDay senior(1950, 1, 1);  // 75
  const absl::CivilDay almost_6(2019, 6, 16);
  const absl::CivilDay just_6(2019, 6, 15);
  const absl::CivilDay just_70(1955, 6, 15);
  const absl::CivilDay almost_70(1955, 6, 16);
  const ClassCase cases[] = {
      {"nothing", Facts(false, adult), PriorityClass::kP4Other},
      {"ald adult", Facts(true, adult), PriorityClass::kP1Ald},
      {"ald beats age", Facts(true, senior), PriorityClass::kP1Ald},
      {"ald beats child", Facts(true, child), PriorityClass::kP1Ald},
      {"ald beats fragility", Facts(true, adult, true, true, true), PriorityClass::kP1Ald},
      {"child", Facts(false, child), PriorityClass::kP2Age},
      {"senior", Facts(false, senior), PriorityClass::kP2Age},
      {"age beats fragility", Facts(false, senior, true, true), PriorityClass::kP2Age},
      {"day before 6th birthday", Facts(false, almost_6), PriorityClass::kP2Age},
      {"6th birthday", Facts(false, just_6), PriorityClass::kP4Other},
      {"70th birthday", Facts(false, just_70), PriorityClass::kP2Age},
      {"day before 70th birthday", Facts(false, almost_70), PriorityClass::kP4Other},
      {"precarity", Facts(false, adult, true), PriorityClass::kP3Fragile},
      {"disability", Facts(false, adult, false, true), PriorityClass::kP3Fragile},
      {"pregnancy", Facts(false, adult, false, false, true), PriorityClass::kP3Fragile},
      {"6 with precarity", Facts(false, just_6, true), PriorityClass::kP3Fragile},
  };
  for (const ClassCase& c : cases) {
    EXPECT_EQ(ComputePriorityClass(c.facts, kToday), c.expected) << c.name;
  }
}

TEST(RankTest, RanksRoundTrip) {
  for (PriorityClass c : {PriorityClass::kP1Ald, PriorityClass::kP2Age, PriorityClass::kP3Fragile,
                          PriorityClass::kP4Other}) {
    EXPECT_EQ(PriorityClassFromRank(PriorityRank(c)), c);
  }
  EXPECT_EQ(PriorityRank(PriorityClass::kUnspecified), 5);
  EXPECT_EQ(PriorityClassFromRank(0), PriorityClass::kUnspecified);
  EXPECT_EQ(PriorityClassFromRank(5), PriorityClass::kUnspecified);
}

// --- RefreshPriority and review days ---------------------------------------------------

MtRequest Request(std::string id, bool ald, absl::CivilDay birth, absl::Time received,
                  bool precarity = false) {
  MtRequest r;
  r.id = std::move(id);
  r.ald = ald;
  r.patient.birth_date = birth;
  r.fragility.precarity = precarity;
  r.create_time = received;
  RefreshPriority(r, kToday);
  return r;
}

TEST(RefreshPriorityTest, SetsDerivedFlagsAndClass) {
  MtRequest r;
  r.patient.birth_date = absl::CivilDay(2021, 1, 1);
  EXPECT_TRUE(RefreshPriority(r, kToday));
  EXPECT_TRUE(r.fragility.under_6);
  EXPECT_FALSE(r.fragility.over_70);
  EXPECT_EQ(r.computed_priority_class, PriorityClass::kP2Age);
  EXPECT_EQ(r.priority_class, PriorityClass::kP2Age);
  EXPECT_FALSE(RefreshPriority(r, kToday));  // nothing changed

  // The child turns 6: down to P4.
  EXPECT_TRUE(RefreshPriority(r, absl::CivilDay(2027, 1, 1)));
  EXPECT_FALSE(r.fragility.under_6);
  EXPECT_EQ(r.priority_class, PriorityClass::kP4Other);
}

TEST(RefreshPriorityTest, KeepsTheTriageClass) {
  MtRequest r;
  r.patient.birth_date = absl::CivilDay(1980, 1, 1);
  r.triage = MtTriage{};
  r.triage->priority_class = PriorityClass::kP1Ald;
  RefreshPriority(r, kToday);
  EXPECT_EQ(r.computed_priority_class, PriorityClass::kP4Other);
  EXPECT_EQ(r.priority_class, PriorityClass::kP1Ald);
}

TEST(NextPriorityReviewDayTest, Birthdays) {
  EXPECT_EQ(NextPriorityReviewDay(absl::CivilDay(2021, 3, 4), kToday), absl::CivilDay(2027, 3, 4));
  EXPECT_EQ(NextPriorityReviewDay(absl::CivilDay(1980, 3, 4), kToday), absl::CivilDay(2050, 3, 4));
  EXPECT_EQ(NextPriorityReviewDay(absl::CivilDay(1950, 3, 4), kToday), std::nullopt);
  // On the 6th birthday the next change is the 70th.
  EXPECT_EQ(NextPriorityReviewDay(absl::CivilDay(2019, 6, 15), kToday),
            absl::CivilDay(2089, 6, 15));
  // 29 February: 1 March of a common year.
  EXPECT_EQ(NextPriorityReviewDay(absl::CivilDay(2020, 2, 29), kToday), absl::CivilDay(2026, 3, 1));
}

// --- the queue order -------------------------------------------------------------------

TEST(QueueOrderTest, AldThenAgeThenFragilityThenWaitThenId) {
  const absl::CivilDay adult(1980, 1, 1);
  const absl::CivilDay senior(1940, 1, 1);
  const absl::CivilDay child(2023, 1, 1);
  const std::vector<MtRequest> expected = {
      Request("ald-old", true, adult, kT0),
      Request("ald-new", true, senior, kT0 + absl::Hours(5)),
      Request("child-old", false, child, kT0 - absl::Hours(1)),
      Request("senior-mid", false, senior, kT0 + absl::Hours(1)),
      Request("a-same-time", false, senior, kT0 + absl::Hours(2)),
      Request("b-same-time", false, child, kT0 + absl::Hours(2)),
      Request("fragile-oldest", false, adult, kT0 - absl::Hours(100), /*precarity=*/true),
      Request("fragile", false, adult, kT0, /*precarity=*/true),
      Request("other-oldest", false, adult, kT0 - absl::Hours(200)),
      Request("other", false, adult, kT0),
  };
  std::vector<MtRequest> shuffled(expected.rbegin(), expected.rend());
  std::rotate(shuffled.begin(), shuffled.begin() + 3, shuffled.end());
  std::sort(shuffled.begin(), shuffled.end(), MtQueueBefore);
  std::vector<std::string> ids;
  std::vector<std::string> want;
  ids.reserve(shuffled.size());
  want.reserve(expected.size());
  for (const MtRequest& r : shuffled) ids.push_back(r.id);
  for (const MtRequest& r : expected) want.push_back(r.id);
  EXPECT_THAT(ids, ElementsAreArray(want));
}

TEST(QueueOrderTest, TriageOverrideMovesTheRequest) {
  MtRequest other = Request("x", false, absl::CivilDay(1980, 1, 1), kT0);
  const MtRequest ald = Request("y", true, absl::CivilDay(1980, 1, 1), kT0 + absl::Hours(1));
  EXPECT_TRUE(MtQueueBefore(ald, other));
  other.triage = MtTriage{};
  other.triage->priority_class = PriorityClass::kP1Ald;
  RefreshPriority(other, kToday);
  EXPECT_TRUE(MtQueueBefore(other, ald));  // same class, waited longer
}

TEST(QueueOrderTest, KeyIsClassRankReceivedTimeId) {
  const MtRequest r = Request("id-1", false, absl::CivilDay(1950, 1, 1), kT0);
  const MtQueueKey key = MtQueueKeyOf(r);
  EXPECT_EQ(key.priority_rank, 2);
  EXPECT_EQ(key.create_time, kT0);
  EXPECT_EQ(key.id, "id-1");
  // Keyset pagination: every request after the cursor compares greater than it.
  EXPECT_TRUE((MtQueueKey{2, kT0, "id-0"} < key));
  EXPECT_FALSE((MtQueueKey{2, kT0, "id-1"} < key));
  EXPECT_TRUE((MtQueueKey{2, kT0, "id-1"} == key));
  EXPECT_TRUE((key < MtQueueKey{3, kT0 - absl::Hours(1), "a"}));
}

}  // namespace
}  // namespace cpts::access
