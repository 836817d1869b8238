#include "services/finance/annual_cap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "services/platform/testing/status_matchers.h"

namespace cpts::finance {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::HasSubstr;

TEST(AnnualCeilingTableTest, HoldsOneValuePerYear) {
  AnnualCeilingTable t;
  ASSERT_THAT(t.Set(2023, 4399200), IsOk());
  ASSERT_THAT(t.Set(2024, 4646400), IsOk());
  ASSERT_THAT(t.Set(2025, 4710000), IsOk());
  EXPECT_EQ(*t.CeilingFor(2023), 4399200);
  EXPECT_EQ(*t.CeilingFor(2024), 4646400);
  EXPECT_EQ(*t.CeilingFor(2025), 4710000);
  ASSERT_THAT(t.Set(2025, 4800000), IsOk());  // an amended value replaces the old one
  EXPECT_EQ(*t.CeilingFor(2025), 4800000);
  EXPECT_THAT(t.CeilingFor(2026), StatusIs(absl::StatusCode::kFailedPrecondition, "2026"));
  EXPECT_EQ(t.by_year().size(), 3u);
}

TEST(AnnualCeilingTableTest, RefusesNonsense) {
  AnnualCeilingTable t;
  EXPECT_THAT(t.Set(1999, 100), StatusIs(absl::StatusCode::kInvalidArgument, "year"));
  EXPECT_THAT(t.Set(2025, 0), StatusIs(absl::StatusCode::kInvalidArgument, "ceiling_cents"));
  EXPECT_THAT(t.Set(2025, -5), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(t.by_year().empty());
}

struct CapCase {
  const char* name;
  Cents rated;
  Cents year_total;
  Cents want_allowed;
  Cents want_capped;
};

class ApplyAnnualCapTest : public ::testing::TestWithParam<CapCase> {};

TEST_P(ApplyAnnualCapTest, SplitsAllowedAndCapped) {
  const CapCase& c = GetParam();
  auto r = ApplyAnnualCap(2025, c.rated, c.year_total, 4710000);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->allowed_cents, c.want_allowed);
  EXPECT_EQ(r->capped_cents, c.want_capped);
  EXPECT_EQ(r->allowed_cents + r->capped_cents, c.rated);
  EXPECT_EQ(r->reason.empty(), c.want_capped == 0);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ApplyAnnualCapTest,
    ::testing::Values(CapCase{"far_below", 8000, 0, 8000, 0},
                      CapCase{"lands_exactly_on_ceiling", 8000, 4702000, 8000, 0},
                      CapCase{"crosses_ceiling", 8000, 4706000, 4000, 4000},
                      CapCase{"already_at_ceiling", 8000, 4710000, 0, 8000},
                      CapCase{"already_above_after_revision", 8000, 4800000, 0, 8000},
                      CapCase{"zero_rated", 0, 4800000, 0, 0}),
    [](const ::testing::TestParamInfo<CapCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(ApplyAnnualCapTest, ReasonNamesYearCeilingAndAmounts) {
  auto r = ApplyAnnualCap(2024, 10000, 4640400, 4646400);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->capped_cents, 4000);
  EXPECT_THAT(r->reason, HasSubstr("2024"));
  EXPECT_THAT(r->reason, HasSubstr("4646400"));
  EXPECT_THAT(r->reason, HasSubstr("4000 of 10000"));
}

TEST(ApplyAnnualCapTest, RefusesNegativeInputs) {
  EXPECT_THAT(ApplyAnnualCap(2025, -1, 0, 4710000), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ApplyAnnualCap(2025, 1, -1, 4710000), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ApplyAnnualCap(2025, 1, 0, 0), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cpts::finance
