#pragma once

// ACI funding: the contract's anniversaries, the expected instalments of an envelope (fixed
// part: advance at the year's anniversary, balance with the next one; variable part: with the
// balance, according to attainment), the attainment of a mission's indicators, and the annual
// report for the CPAM and the ARS (aggregated; counts of professionals below 5 suppressed).
// Amounts are configuration (envelopes), never constants.

#include <map>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/finance/model.h"

namespace cpts::finance {

// Counts of professionals below this are never reported.
inline constexpr int kMinReportableCount = 5;

// The contract's anniversary in calendar year `year`: the signature day in that year (29
// February becomes 28 February in a common year). InvalidArgument when `year` is outside the
// contract (signature year to signature year + duration - 1).
absl::StatusOr<absl::CivilDay> AnniversaryIn(const AciContract& contract, int year);

// Attainment of one indicator in basis points: achieved / target, floored, capped at 10000.
int AttainmentBasisPoints(int64_t target_milli, int64_t achieved_milli);

// Weighted attainment of one mission's indicators for a year, in basis points (floored): the
// sum of weight x attainment / 10000. 0 when none is recorded. InvalidArgument when they are
// of different missions or years, an indicator appears twice, or the weights do not sum to
// 10000.
absl::StatusOr<int> MissionAttainmentBasisPoints(std::span<const IndicatorAttainment> indicators);

// The variable part earned: variable_cents x attainment / 10000, floored to the cent.
Cents VariableEarned(Cents variable_cents, int attainment_basis_points);

// The instalments expected for an envelope: the fixed advance (fixed x advance share,
// floored) due at the anniversary of the envelope's year, the fixed balance (the rest, so the
// two sum to the fixed part exactly) and, for a mission, the variable part earned at
// `attainment_basis_points`, both due at the next anniversary. Zero instalments are left out.
// Ids are left to the store.
absl::StatusOr<std::vector<AciInstalment>> ExpectedInstalments(const AciContract& contract,
                                                               const AciEnvelope& envelope,
                                                               int attainment_basis_points);

// An indemnity paid for a meeting of the year (from paid entitlements).
struct PaidIndemnity {
  std::string action_id{};
  std::string member_id{};  // the professional, counted once per action
  Cents amount_cents = 0;
};

struct AciReportInput {
  int year = 0;
  std::vector<AciEnvelope> envelopes{};            // of the year
  std::vector<AciInstalment> instalments{};        // of the year's envelopes
  std::vector<IndicatorAttainment> attainments{};  // of the year
  std::vector<ActionBudget> budgets{};             // of the year
  std::vector<Expense> expenses{};                 // dated in the year
  std::vector<PaidIndemnity> indemnities{};        // meetings of the year, paid
  // Mission of every action with an expense or indemnity but no budget (budgets carry their
  // own); "" = functioning.
  std::map<std::string, std::string> action_missions{};
};

struct ReportMoney {
  Cents expected_cents = 0;
  Cents received_cents = 0;
  Cents spent_cents = 0;
  Cents remaining_cents = 0;  // received - spent
};

struct IndicatorReportLine {
  std::string indicator_id{};
  std::string label{};
  int64_t target_milli = 0;
  int64_t achieved_milli = 0;
  int attainment_basis_points = 0;
};

struct ActionReportLine {
  std::string action_id{};
  Cents allocated_cents = 0;
  Cents spent_cents = 0;             // expenses + indemnities
  Cents indemnities_paid_cents = 0;  // 0 when suppressed
  int professionals_count = 0;       // 0 when suppressed
  bool suppressed = false;           // 1 to 4 professionals
};

struct MissionReportSection {
  std::string mission_id{};
  ReportMoney money{};
  std::vector<IndicatorReportLine> indicators{};
  int attainment_basis_points = 0;
  std::vector<ActionReportLine> actions{};
};

struct AciReport {
  int year = 0;
  ReportMoney functioning{};
  std::vector<MissionReportSection> missions{};  // by mission id
  ReportMoney total{};
};

// Aggregates the report. Expected = fixed + variable earned at the mission's attainment;
// received = instalments received; spent = expenses + paid indemnities of the mission's
// actions (functioning: of actions with no mission). Actions with 1 to 4 distinct indemnified
// professionals have their count and indemnity amount suppressed. InvalidArgument for data of
// another year or invalid attainments; FailedPrecondition when an action's mission is
// unknown.
absl::StatusOr<AciReport> BuildAciReport(const AciReportInput& input);

// CSV: header "level,mission_id,action_id,indicator_id,label,expected_eur,received_eur,
// spent_eur,remaining_eur,allocated_eur,indemnities_paid_eur,professionals,target,achieved,
// attainment_percent"; levels "functioning", "mission", "indicator", "action", "total".
// Suppressed values are written "<5".
std::string AciReportCsv(const AciReport& report);

// JSON object mirroring cpts.finance.v1.AciReport (amounts in cents); suppressed counts and
// amounts are null with "suppressed": true.
std::string AciReportJson(const AciReport& report);

}  // namespace cpts::finance
