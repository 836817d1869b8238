#include "services/access/mt_matching.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "services/platform/testing/status_matchers.h"

namespace cpts::access {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

const absl::CivilDay kToday(2025, 6, 15);

constexpr PriorityClass kAllClasses[] = {PriorityClass::kP1Ald, PriorityClass::kP2Age,
                                         PriorityClass::kP3Fragile, PriorityClass::kP4Other};

// A line of communes A - B - C - D (steps of 1), and E isolated.
Territory LineTerritory() {
  auto t = Territory::Create({"77001", "77002", "77003", "77004", "77005"},
                             {{"77001", "77002", 1}, {"77002", "77003", 1}, {"77003", "77004", 1}});
  EXPECT_THAT(t, IsOk());
  return *std::move(t);
}

MtRequest Request(std::string commune, PriorityClass c = PriorityClass::kP4Other,
                  std::vector<std::string> declined = {}) {
  MtRequest r;
  r.id = "r1";
  r.commune_insee = std::move(commune);
  r.priority_class = c;
  r.state = MtState::kTriaged;
  r.declined_gp_member_ids = std::move(declined);
  return r;
}

GpCapacity Gp(std::string id, int remaining, std::vector<std::string> communes,
              absl::CivilDay valid_until = absl::CivilDay(2025, 12, 31),
              std::vector<PriorityClass> classes = {kAllClasses[0], kAllClasses[1], kAllClasses[2],
                                                    kAllClasses[3]}) {
  GpCapacity c;
  c.gp_member_id = std::move(id);
  c.declared_count = 10;
  c.remaining_count = remaining;
  c.communes = std::move(communes);
  c.valid_until = valid_until;
  c.priority_classes = std::move(classes);
  return c;
}

std::vector<std::string> Ids(const std::vector<GpSuggestion>& suggestions) {
  std::vector<std::string> ids;
  ids.reserve(suggestions.size());
  for (const GpSuggestion& s : suggestions) ids.push_back(s.gp_member_id);
  return ids;
}

// --- the territory ---------------------------------------------------------------------

TEST(TerritoryTest, AdjacencyGivesStepCounts) {
  const Territory t = LineTerritory();
  EXPECT_EQ(t.Distance("77001", "77001"), 0.0);
  EXPECT_EQ(t.Distance("77001", "77002"), 1.0);
  EXPECT_EQ(t.Distance("77001", "77004"), 3.0);
  EXPECT_EQ(t.Distance("77004", "77001"), 3.0);  // symmetric
  EXPECT_EQ(t.Distance("77001", "77005"), std::nullopt);
  EXPECT_EQ(t.Distance("99999", "99999"), 0.0);  // unknown commune: itself only
  EXPECT_TRUE(t.Contains("77005"));
  EXPECT_FALSE(t.Contains("77006"));
}

TEST(TerritoryTest, DistanceTableUsesShortestPaths) {
  auto t = Territory::Create({"A", "B", "C"}, {{"A", "B", 4.5},
                                               {"B", "C", 2.0},
                                               {"A", "C", 9.0},
                                               {"A", "B", 3.0}});  // duplicate: shortest wins
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->Distance("A", "B"), 3.0);
  EXPECT_EQ(t->Distance("A", "C"), 5.0);  // through B
  const auto from_c = t->DistancesFrom("C");
  EXPECT_EQ(from_c.size(), 3u);
  EXPECT_EQ(from_c.at("A"), 5.0);
}

TEST(TerritoryTest, RefusesBadLinks) {
  EXPECT_THAT(Territory::Create({}, {{"A", "", 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "links[0]: both communes"));
  EXPECT_THAT(Territory::Create({}, {{"A", "B", 1}, {"A", "A", 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "links[1]: links a commune to itself"));
  EXPECT_THAT(Territory::Create({}, {{"A", "B", -1}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "links[0]: distance"));
  EXPECT_THAT(Territory::Create({}, {{"A", "B", std::numeric_limits<double>::infinity()}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Territory::Create({}, {{"A", "B", std::numeric_limits<double>::quiet_NaN()}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// --- eligibility -----------------------------------------------------------------------

TEST(EligibilityTest, Table) {
  struct Case {
    const char* name;
    GpCapacity gp;
    MtRequest request;
    Ineligibility why;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"eligible", Gp("g", 1, {"77001"}), Request("77001"), Ineligibility::kNone, ""},
      {"no capacity", Gp("g", 0, {"77001"}), Request("77001"), Ineligibility::kNoCapacityLeft,
       "gp_member_id: GP g has no capacity left"},
      {"valid until today", Gp("g", 1, {"77001"}, kToday), Request("77001"), Ineligibility::kNone,
       ""},
      {"expired yesterday", Gp("g", 1, {"77001"}, kToday - 1), Request("77001"),
       Ineligibility::kExpired, "expired on 2025-06-14"},
      {"class not accepted", Gp("g", 1, {"77001"}, kToday, {PriorityClass::kP1Ald}),
       Request("77001", PriorityClass::kP3Fragile), Ineligibility::kPriorityNotAccepted,
       "does not accept priority class P3_FRAGILE"},
      {"declined before", Gp("g", 1, {"77001"}), Request("77001", PriorityClass::kP4Other, {"g"}),
       Ineligibility::kDeclinedBefore, "already declined"},
      {"commune does not matter", Gp("g", 1, {"77005"}), Request("77001"), Ineligibility::kNone,
       ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(WhyIneligible(c.request, c.gp, kToday), c.why) << c.name;
    if (c.why == Ineligibility::kNone) {
      EXPECT_THAT(CheckGpEligible(c.request, c.gp, kToday), IsOk()) << c.name;
    } else {
      EXPECT_THAT(CheckGpEligible(c.request, c.gp, kToday),
                  StatusIs(absl::StatusCode::kFailedPrecondition, c.message))
          << c.name;
    }
  }
}

// --- ranking ---------------------------------------------------------------------------

TEST(RankGpsTest, CommuneMatchThenNearestThenCapacityThenId) {
  const Territory t = LineTerritory();
  const std::vector<GpCapacity> gps = {
      Gp("far-big", 9, {"77004"}),               // 3 steps
      Gp("near-small", 1, {"77002"}),            // 1 step
      Gp("near-big", 5, {"77003", "77002"}),     // nearest of its communes: 1 step
      Gp("match-small", 1, {"77009", "77001"}),  // match
      Gp("match-big", 7, {"77001"}),             // match
      Gp("nowhere", 50, {"77005"}),              // unknown distance
      Gp("b-near-tie", 5, {"77002"}),            // ties with near-big: id decides
  };
  const auto ranked = RankGps(Request("77001"), gps, t, kToday, 0);
  EXPECT_THAT(Ids(ranked), ElementsAreArray({"match-big", "match-small", "b-near-tie", "near-big",
                                             "near-small", "far-big", "nowhere"}));
  for (std::size_t i = 0; i < ranked.size(); ++i) EXPECT_EQ(ranked[i].rank, int(i) + 1);

  EXPECT_TRUE(ranked[0].commune_match);
  EXPECT_EQ(ranked[0].distance, 0.0);
  EXPECT_EQ(ranked[0].nearest_commune_insee, "77001");
  EXPECT_TRUE(ranked[1].commune_match);
  EXPECT_EQ(ranked[1].nearest_commune_insee, "77001");
  EXPECT_FALSE(ranked[3].commune_match);
  EXPECT_EQ(ranked[3].distance, 1.0);
  EXPECT_EQ(ranked[3].nearest_commune_insee, "77002");
  EXPECT_EQ(ranked[5].distance, 3.0);
  EXPECT_EQ(ranked[6].distance, std::nullopt);
  EXPECT_EQ(ranked[6].nearest_commune_insee, "");
  EXPECT_EQ(ranked[6].remaining_count, 50);
}

TEST(RankGpsTest, IneligibleGpsAreLeftOut) {
  const Territory t = LineTerritory();
  const std::vector<GpCapacity> gps = {
      Gp("full", 0, {"77001"}),
      Gp("expired", 3, {"77001"}, kToday - 1),
      Gp("p1-only", 3, {"77001"}, kToday, {PriorityClass::kP1Ald}),
      Gp("declined", 3, {"77001"}),
      Gp("ok", 1, {"77004"}),
  };
  EXPECT_THAT(
      Ids(RankGps(Request("77001", PriorityClass::kP2Age, {"declined"}), gps, t, kToday, 5)),
      ElementsAreArray({"ok"}));
  EXPECT_THAT(RankGps(Request("77001"), {}, t, kToday, 5), IsEmpty());
}

TEST(RankGpsTest, LimitAndDuplicates) {
  const Territory t = LineTerritory();
  const std::vector<GpCapacity> gps = {
      Gp("a", 1, {"77001"}), Gp("b", 2, {"77001"}), Gp("c", 3, {"77001"}),
      Gp("a", 9, {"77001"}),  // a second entry for "a" is ignored
  };
  EXPECT_THAT(Ids(RankGps(Request("77001"), gps, t, kToday, 2)), ElementsAreArray({"c", "b"}));
  const auto all = RankGps(Request("77001"), gps, t, kToday, 0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].gp_member_id, "a");
  EXPECT_EQ(all[2].remaining_count, 1);
}

TEST(RankGpsTest, WithoutATerritoryOnlyCommuneMatchesAreNear) {
  const std::vector<GpCapacity> gps = {Gp("z-match", 1, {"77001"}), Gp("a-other", 9, {"77002"})};
  const auto ranked = RankGps(Request("77001"), gps, Territory(), kToday, 0);
  EXPECT_THAT(Ids(ranked), ElementsAreArray({"z-match", "a-other"}));
  EXPECT_EQ(ranked[1].distance, std::nullopt);
}

}  // namespace
}  // namespace cpts::access
