#include "services/finance/aci.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/finance/csv.h"
#include "services/platform/testing/status_matchers.h"

namespace cpts::finance {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

AciContract Contract(absl::CivilDay signed_on = absl::CivilDay(2023, 6, 15)) {
  AciContract c;
  c.id = "c1";
  c.signature_date = signed_on;
  c.duration_years = 5;
  c.size = 3;
  return c;
}

AciEnvelope Mission(const std::string& id, Cents fixed, Cents variable, int year = 2025) {
  return AciEnvelope{.year = year,
                     .kind = EnvelopeKind::kMission,
                     .mission_id = id,
                     .fixed_cents = fixed,
                     .variable_cents = variable};
}

IndicatorAttainment Indicator(const std::string& mission, const std::string& id, int weight,
                              int64_t target, int64_t achieved) {
  return IndicatorAttainment{.year = 2025,
                             .mission_id = mission,
                             .indicator_id = id,
                             .label = "Indicator " + id,
                             .weight_basis_points = weight,
                             .target_milli = target,
                             .achieved_milli = achieved};
}

TEST(AnniversaryTest, SameDayEachYearWithinTheContract) {
  EXPECT_EQ(*AnniversaryIn(Contract(), 2023), absl::CivilDay(2023, 6, 15));
  EXPECT_EQ(*AnniversaryIn(Contract(), 2027), absl::CivilDay(2027, 6, 15));
  EXPECT_THAT(AnniversaryIn(Contract(), 2028), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(AnniversaryIn(Contract(), 2022), StatusIs(absl::StatusCode::kInvalidArgument));
  const AciContract leap = Contract(absl::CivilDay(2024, 2, 29));
  EXPECT_EQ(*AnniversaryIn(leap, 2025), absl::CivilDay(2025, 2, 28));
  EXPECT_EQ(*AnniversaryIn(leap, 2028), absl::CivilDay(2028, 2, 29));
}

TEST(AttainmentTest, IndicatorRatioIsFlooredAndCapped) {
  EXPECT_EQ(AttainmentBasisPoints(1000, 0), 0);
  EXPECT_EQ(AttainmentBasisPoints(3000, 1000), 3333);
  EXPECT_EQ(AttainmentBasisPoints(1000, 1000), 10000);
  EXPECT_EQ(AttainmentBasisPoints(1000, 2500), 10000);
  EXPECT_EQ(AttainmentBasisPoints(0, 100), 0);
}

TEST(AttainmentTest, MissionIsTheWeightedSum) {
  // 60 % weight fully attained, 40 % weight half attained -> 80 %.
  const std::vector<IndicatorAttainment> indicators = {Indicator("m1", "i1", 6000, 100, 150),
                                                       Indicator("m1", "i2", 4000, 200, 100)};
  auto bp = MissionAttainmentBasisPoints(indicators);
  ASSERT_THAT(bp, IsOk());
  EXPECT_EQ(*bp, 8000);
  EXPECT_EQ(*MissionAttainmentBasisPoints({}), 0);
}

TEST(AttainmentTest, RefusesBadWeightsAndMixes) {
  EXPECT_THAT(MissionAttainmentBasisPoints(std::vector<IndicatorAttainment>{
                  Indicator("m1", "i1", 6000, 100, 100), Indicator("m1", "i2", 3000, 100, 100)}),
              StatusIs(absl::StatusCode::kInvalidArgument, "9000"));
  EXPECT_THAT(MissionAttainmentBasisPoints(std::vector<IndicatorAttainment>{
                  Indicator("m1", "i1", 5000, 100, 100), Indicator("m2", "i2", 5000, 100, 100)}),
              StatusIs(absl::StatusCode::kInvalidArgument, "different missions"));
  EXPECT_THAT(MissionAttainmentBasisPoints(std::vector<IndicatorAttainment>{
                  Indicator("m1", "i1", 5000, 100, 100), Indicator("m1", "i1", 5000, 100, 100)}),
              StatusIs(absl::StatusCode::kInvalidArgument, "twice"));
  EXPECT_THAT(MissionAttainmentBasisPoints(
                  std::vector<IndicatorAttainment>{Indicator("m1", "i1", 10000, 0, 100)}),
              StatusIs(absl::StatusCode::kInvalidArgument, "target_milli"));
}

TEST(VariableEarnedTest, ProportionalAndFloored) {
  EXPECT_EQ(VariableEarned(4'500'000, 10000), 4'500'000);
  EXPECT_EQ(VariableEarned(4'500'000, 8000), 3'600'000);
  EXPECT_EQ(VariableEarned(100, 3333), 33);
  EXPECT_EQ(VariableEarned(100, 0), 0);
  EXPECT_EQ(VariableEarned(100, 12000), 100);
}

TEST(ExpectedInstalmentsTest, AdvanceThenBalanceAndVariableNextAnniversary) {
  // Access mission of the Grand Narbonne example: 125000 EUR, here 80000 fixed + 45000
  // variable (a split chosen for the test: configuration, not a rule).
  auto got = ExpectedInstalments(Contract(), Mission("access", 8'000'000, 4'500'000), 8000);
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].kind, InstalmentKind::kFixedAdvance);
  EXPECT_EQ((*got)[0].expected_cents, 6'000'000);
  EXPECT_EQ((*got)[0].due_date, absl::CivilDay(2025, 6, 15));
  EXPECT_EQ((*got)[1].kind, InstalmentKind::kFixedBalance);
  EXPECT_EQ((*got)[1].expected_cents, 2'000'000);
  EXPECT_EQ((*got)[1].due_date, absl::CivilDay(2026, 6, 15));
  EXPECT_EQ((*got)[2].kind, InstalmentKind::kVariable);
  EXPECT_EQ((*got)[2].expected_cents, 3'600'000);
  EXPECT_EQ((*got)[2].due_date, absl::CivilDay(2026, 6, 15));
  for (const auto& i : *got) {
    EXPECT_EQ(i.year, 2025);
    EXPECT_EQ(i.mission_id, "access");
  }
}

TEST(ExpectedInstalmentsTest, OddCentsGoToTheBalanceAndSumExactly) {
  AciEnvelope e = Mission("m1", 1'000'001, 0);
  e.advance_basis_points = 7500;
  auto got = ExpectedInstalments(Contract(), e, 10000);
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->size(), 2u);  // no variable part
  EXPECT_EQ((*got)[0].expected_cents, 750'000);
  EXPECT_EQ((*got)[1].expected_cents, 250'001);
}

TEST(ExpectedInstalmentsTest, FunctioningIgnoresAttainmentAndLastYearBalanceFollows) {
  const AciEnvelope functioning{
      .year = 2027, .kind = EnvelopeKind::kFunctioning, .fixed_cents = 7'500'000};
  auto got = ExpectedInstalments(Contract(), functioning, 0);
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].expected_cents + (*got)[1].expected_cents, 7'500'000);
  EXPECT_EQ((*got)[1].due_date, absl::CivilDay(2028, 6, 15));  // after the contract's end

  AciEnvelope bad = functioning;
  bad.variable_cents = 100;
  EXPECT_THAT(ExpectedInstalments(Contract(), bad, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "attainment"));
  EXPECT_THAT(ExpectedInstalments(Contract(), Mission("m1", 100, 100, 2030), 0),
              StatusIs(absl::StatusCode::kInvalidArgument, "outside the contract"));
}

// Five professionals on act1, two on act2 (suppressed), one functioning action.
AciReportInput ReportInput() {
  AciReportInput in;
  in.year = 2025;
  in.envelopes = {
      AciEnvelope{.year = 2025, .kind = EnvelopeKind::kFunctioning, .fixed_cents = 7'500'000},
      Mission("m1", 8'000'000, 4'500'000)};
  in.instalments = {AciInstalment{.year = 2025,
                                  .envelope_kind = EnvelopeKind::kFunctioning,
                                  .kind = InstalmentKind::kFixedAdvance,
                                  .expected_cents = 5'625'000,
                                  .received_cents = 5'625'000},
                    AciInstalment{.year = 2025,
                                  .envelope_kind = EnvelopeKind::kMission,
                                  .mission_id = "m1",
                                  .kind = InstalmentKind::kFixedAdvance,
                                  .expected_cents = 6'000'000,
                                  .received_cents = 6'000'000}};
  in.attainments = {Indicator("m1", "i1", 10000, 1000, 800)};
  in.budgets = {
      ActionBudget{
          .action_id = "act1", .mission_id = "m1", .year = 2025, .allocated_cents = 500'000},
      ActionBudget{
          .action_id = "coord", .mission_id = "", .year = 2025, .allocated_cents = 5'824'800}};
  in.action_missions = {{"act2", "m1"}};
  Expense salary;
  salary.action_id = "coord";
  salary.category = ExpenseCategory::kStaff;
  salary.amount_cents = 2'912'400;
  salary.expense_date = absl::CivilDay(2025, 6, 30);
  salary.supplier = "Paie";
  Expense room = salary;
  room.action_id = "act1";
  room.category = ExpenseCategory::kServices;
  room.amount_cents = 30'000;
  room.supplier = "Salle";
  in.expenses = {salary, room};
  for (int i = 0; i < 5; ++i) {
    in.indemnities.push_back(PaidIndemnity{
        .action_id = "act1", .member_id = "mem" + std::to_string(i), .amount_cents = 8000});
  }
  in.indemnities.push_back(PaidIndemnity{
      .action_id = "act1", .member_id = "mem0", .amount_cents = 8000});  // same person again
  in.indemnities.push_back(
      PaidIndemnity{.action_id = "act2", .member_id = "mem7", .amount_cents = 10000});
  in.indemnities.push_back(
      PaidIndemnity{.action_id = "act2", .member_id = "mem8", .amount_cents = 8000});
  return in;
}

TEST(AciReportTest, AggregatesMoneyAndSuppressesSmallCounts) {
  auto r = BuildAciReport(ReportInput());
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->year, 2025);
  EXPECT_EQ(r->functioning.expected_cents, 7'500'000);
  EXPECT_EQ(r->functioning.received_cents, 5'625'000);
  EXPECT_EQ(r->functioning.spent_cents, 2'912'400);
  EXPECT_EQ(r->functioning.remaining_cents, 5'625'000 - 2'912'400);

  ASSERT_EQ(r->missions.size(), 1u);
  const MissionReportSection& m = r->missions[0];
  EXPECT_EQ(m.mission_id, "m1");
  EXPECT_EQ(m.attainment_basis_points, 8000);
  EXPECT_EQ(m.money.expected_cents, 8'000'000 + 3'600'000);
  EXPECT_EQ(m.money.received_cents, 6'000'000);
  EXPECT_EQ(m.money.spent_cents, 30'000 + 6 * 8000 + 18000);
  ASSERT_EQ(m.indicators.size(), 1u);
  EXPECT_EQ(m.indicators[0].attainment_basis_points, 8000);

  ASSERT_EQ(m.actions.size(), 2u);
  const ActionReportLine& act1 = m.actions[0];
  EXPECT_EQ(act1.action_id, "act1");
  EXPECT_EQ(act1.allocated_cents, 500'000);
  EXPECT_EQ(act1.spent_cents, 30'000 + 48'000);
  EXPECT_EQ(act1.indemnities_paid_cents, 48'000);
  EXPECT_EQ(act1.professionals_count, 5);
  EXPECT_FALSE(act1.suppressed);
  const ActionReportLine& act2 = m.actions[1];
  EXPECT_TRUE(act2.suppressed);
  EXPECT_EQ(act2.professionals_count, 0);
  EXPECT_EQ(act2.indemnities_paid_cents, 0);

  EXPECT_EQ(r->total.received_cents, 11'625'000);
  EXPECT_EQ(r->total.spent_cents, r->functioning.spent_cents + m.money.spent_cents);
  EXPECT_EQ(r->total.remaining_cents, r->total.received_cents - r->total.spent_cents);
}

TEST(AciReportTest, UnknownMissionOrOtherYearIsRefused) {
  AciReportInput in = ReportInput();
  in.action_missions.clear();
  EXPECT_THAT(BuildAciReport(in), StatusIs(absl::StatusCode::kFailedPrecondition, "act2"));
  in = ReportInput();
  in.expenses[0].expense_date = absl::CivilDay(2024, 12, 31);
  EXPECT_THAT(BuildAciReport(in), StatusIs(absl::StatusCode::kInvalidArgument, "another year"));
}

TEST(AciReportTest, CsvAndJsonCarryNoSuppressedValueAndNoNames) {
  auto r = BuildAciReport(ReportInput());
  ASSERT_THAT(r, IsOk());
  const std::string csv = AciReportCsv(*r);
  EXPECT_THAT(csv, HasSubstr("level,mission_id,action_id,indicator_id,label,expected_eur"));
  EXPECT_THAT(csv, HasSubstr("action,m1,act1,,,,,780.00,,5000.00,480.00,5,,,\r\n"));
  EXPECT_THAT(csv, HasSubstr("action,m1,act2,,,,,180.00,,0.00,<5,<5,,,\r\n"));
  EXPECT_THAT(csv, HasSubstr("mission,m1,,,,116000.00,60000.00,"));
  EXPECT_THAT(csv, HasSubstr("indicator,m1,,i1,Indicator i1,,,,,,,,1.000,0.800,80.00\r\n"));
  EXPECT_THAT(csv, Not(HasSubstr("mem")));

  const std::string json = AciReportJson(*r);
  EXPECT_THAT(json, HasSubstr("\"year\":2025"));
  EXPECT_THAT(json, HasSubstr("\"action_id\":\"act2\",\"allocated_cents\":0,\"spent_cents\":18000,"
                              "\"indemnities_paid_cents\":null,\"professionals_count\":null,"
                              "\"suppressed\":true"));
  EXPECT_THAT(json, HasSubstr("\"professionals_count\":5,\"suppressed\":false"));
  EXPECT_THAT(json, Not(HasSubstr("mem")));
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '}');
}

TEST(CsvTest, QuotesAndNeutralisesFormulas) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("=SUM(A1)"), "'=SUM(A1)");
  EXPECT_EQ(CsvField("@cmd"), "'@cmd");
  EXPECT_EQ(CsvField("-10.50"), "-10.50");
  EXPECT_EQ(CsvLine({"a", "b,c", ""}), "a,\"b,c\",\r\n");
}

}  // namespace
}  // namespace cpts::finance
