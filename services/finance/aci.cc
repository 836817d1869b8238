#include "services/finance/aci.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/finance/csv.h"
#include "services/finance/sepa_pain001.h"
#include "services/finance/validators.h"
#include "services/platform/core/json.h"
#include "services/platform/core/status_macros.h"

namespace cpts::finance {
namespace {

void Finish(ReportMoney& m) { m.remaining_cents = m.received_cents - m.spent_cents; }

void Add(ReportMoney& into, const ReportMoney& m) {
  into.expected_cents += m.expected_cents;
  into.received_cents += m.received_cents;
  into.spent_cents += m.spent_cents;
  Finish(into);
}

std::string Percent(int basis_points) {
  return absl::StrFormat("%d.%02d", basis_points / 100, basis_points % 100);
}

std::string Milli(int64_t milli) { return absl::StrFormat("%d.%03d", milli / 1000, milli % 1000); }

std::vector<std::string> MoneyFields(const ReportMoney& m) {
  return {FormatEuros(m.expected_cents), FormatEuros(m.received_cents), FormatEuros(m.spent_cents),
          FormatEuros(m.remaining_cents)};
}

void AppendMoneyJson(std::string& out, const ReportMoney& m) {
  absl::StrAppend(&out, "{\"expected_cents\":", m.expected_cents,
                  ",\"received_cents\":", m.received_cents, ",\"spent_cents\":", m.spent_cents,
                  ",\"remaining_cents\":", m.remaining_cents, "}");
}

}  // namespace

absl::StatusOr<absl::CivilDay> AnniversaryIn(const AciContract& contract, int year) {
  const auto first = static_cast<int>(contract.signature_date.year());
  if (year < first || year > first + contract.duration_years - 1) {
    return FieldError("year", absl::StrCat(year, " is outside the contract (", first, " to ",
                                           first + contract.duration_years - 1, ")"));
  }
  const int month = contract.signature_date.month();
  int day = contract.signature_date.day();
  const absl::CivilDay candidate(year, month, day);
  if (candidate.month() != month) day = 28;  // 29 February in a common year
  return absl::CivilDay(year, month, day);
}

int AttainmentBasisPoints(int64_t target_milli, int64_t achieved_milli) {
  if (target_milli <= 0 || achieved_milli <= 0) return 0;
  if (achieved_milli >= target_milli) return 10000;
  return static_cast<int>(achieved_milli * 10000 / target_milli);  // < 10^16: no overflow
}

absl::StatusOr<int> MissionAttainmentBasisPoints(std::span<const IndicatorAttainment> indicators) {
  if (indicators.empty()) return 0;
  absl::flat_hash_set<std::string> seen;
  int weights = 0;
  int64_t weighted = 0;
  for (const IndicatorAttainment& a : indicators) {
    CPTS_RETURN_IF_ERROR(ValidateAttainment(a));
    if (a.mission_id != indicators[0].mission_id || a.year != indicators[0].year) {
      return FieldError("attainments", "indicators of different missions or years");
    }
    if (!seen.insert(a.indicator_id).second) {
      return FieldError("attainments", absl::StrCat("indicator ", a.indicator_id, " twice"));
    }
    weights += a.weight_basis_points;
    weighted += static_cast<int64_t>(a.weight_basis_points) *
                AttainmentBasisPoints(a.target_milli, a.achieved_milli);
  }
  if (weights != 10000) {
    return FieldError("attainments", absl::StrCat("weights of mission ", indicators[0].mission_id,
                                                  " sum to ", weights, " basis points, not 10000"));
  }
  return static_cast<int>(weighted / 10000);
}

Cents VariableEarned(Cents variable_cents, int attainment_basis_points) {
  const int bp = std::clamp(attainment_basis_points, 0, 10000);
  return variable_cents * bp / 10000;
}

absl::StatusOr<std::vector<AciInstalment>> ExpectedInstalments(const AciContract& contract,
                                                               const AciEnvelope& envelope,
                                                               int attainment_basis_points) {
  CPTS_RETURN_IF_ERROR(ValidateContract(contract));
  CPTS_RETURN_IF_ERROR(ValidateEnvelope(envelope));
  if (attainment_basis_points < 0 || attainment_basis_points > 10000) {
    return FieldError("attainment_basis_points", "must be between 0 and 10000");
  }
  CPTS_ASSIGN_OR_RETURN(const absl::CivilDay anniversary, AnniversaryIn(contract, envelope.year));
  // The next anniversary may fall after the contract's last year (the balance of the last
  // year is paid after it ends), so it is computed without the contract bound.
  AciContract longer = contract;
  longer.duration_years += 1;
  CPTS_ASSIGN_OR_RETURN(const absl::CivilDay next, AnniversaryIn(longer, envelope.year + 1));

  const Cents advance = envelope.fixed_cents * envelope.advance_basis_points / 10000;
  const Cents balance = envelope.fixed_cents - advance;
  const Cents variable = envelope.kind == EnvelopeKind::kMission
                             ? VariableEarned(envelope.variable_cents, attainment_basis_points)
                             : 0;
  std::vector<AciInstalment> out;
  auto add = [&](InstalmentKind kind, Cents cents, absl::CivilDay due) {
    if (cents <= 0) return;
    AciInstalment i;
    i.year = envelope.year;
    i.envelope_kind = envelope.kind;
    i.mission_id = envelope.mission_id;
    i.kind = kind;
    i.expected_cents = cents;
    i.due_date = due;
    out.push_back(std::move(i));
  };
  add(InstalmentKind::kFixedAdvance, advance, anniversary);
  add(InstalmentKind::kFixedBalance, balance, next);
  add(InstalmentKind::kVariable, variable, next);
  return out;
}

absl::StatusOr<AciReport> BuildAciReport(const AciReportInput& in) {
  CPTS_RETURN_IF_ERROR(ValidateYear(in.year, "year"));
  AciReport report;
  report.year = in.year;

  std::map<std::string, MissionReportSection> missions;
  std::map<std::string, ActionReportLine> actions;
  std::map<std::string, std::set<std::string>> professionals;
  // The caller's mapping, completed by the budgets' own mission.
  std::map<std::string, std::string> action_missions = in.action_missions;
  for (const ActionBudget& b : in.budgets) action_missions.emplace(b.action_id, b.mission_id);
  auto mission_of = [&](const std::string& action_id) -> absl::StatusOr<std::string> {
    auto it = action_missions.find(action_id);
    if (it == action_missions.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("mission of action ", action_id, " is unknown"));
    }
    return it->second;
  };
  auto money_of = [&](const std::string& mission_id) -> ReportMoney& {
    if (mission_id.empty()) return report.functioning;
    MissionReportSection& m = missions[mission_id];
    m.mission_id = mission_id;
    return m.money;
  };

  // Attainment per mission.
  std::map<std::string, std::vector<IndicatorAttainment>> attainments;
  for (const IndicatorAttainment& a : in.attainments) {
    if (a.year != in.year) return FieldError("attainments", "attainment of another year");
    attainments[a.mission_id].push_back(a);
  }
  for (const auto& [mission_id, list] : attainments) {
    CPTS_ASSIGN_OR_RETURN(const int bp, MissionAttainmentBasisPoints(list));
    MissionReportSection& m = missions[mission_id];
    m.mission_id = mission_id;
    m.attainment_basis_points = bp;
    for (const IndicatorAttainment& a : list) {
      m.indicators.push_back(IndicatorReportLine{
          .indicator_id = a.indicator_id,
          .label = a.label,
          .target_milli = a.target_milli,
          .achieved_milli = a.achieved_milli,
          .attainment_basis_points = AttainmentBasisPoints(a.target_milli, a.achieved_milli)});
    }
    std::sort(m.indicators.begin(), m.indicators.end(),
              [](const auto& x, const auto& y) { return x.indicator_id < y.indicator_id; });
  }

  for (const AciEnvelope& e : in.envelopes) {
    if (e.year != in.year) return FieldError("envelopes", "envelope of another year");
    CPTS_RETURN_IF_ERROR(ValidateEnvelope(e));
    const std::string key = e.kind == EnvelopeKind::kMission ? e.mission_id : std::string();
    ReportMoney& money = money_of(key);
    money.expected_cents += e.fixed_cents;
    if (e.kind == EnvelopeKind::kMission) {
      money.expected_cents +=
          VariableEarned(e.variable_cents, missions[e.mission_id].attainment_basis_points);
    }
  }
  for (const AciInstalment& i : in.instalments) {
    if (i.year != in.year) return FieldError("instalments", "instalment of another year");
    money_of(i.envelope_kind == EnvelopeKind::kMission ? i.mission_id : std::string())
        .received_cents += i.received_cents;
  }
  for (const ActionBudget& b : in.budgets) {
    if (b.year != in.year) return FieldError("budgets", "budget of another year");
    ActionReportLine& a = actions[b.action_id];
    a.action_id = b.action_id;
    a.allocated_cents += b.allocated_cents;
  }
  for (const Expense& e : in.expenses) {
    if (e.expense_date.year() != in.year) return FieldError("expenses", "expense of another year");
    CPTS_ASSIGN_OR_RETURN(const std::string mission, mission_of(e.action_id));
    money_of(mission).spent_cents += e.amount_cents;
    ActionReportLine& a = actions[e.action_id];
    a.action_id = e.action_id;
    a.spent_cents += e.amount_cents;
  }
  for (const PaidIndemnity& p : in.indemnities) {
    CPTS_ASSIGN_OR_RETURN(const std::string mission, mission_of(p.action_id));
    money_of(mission).spent_cents += p.amount_cents;
    ActionReportLine& a = actions[p.action_id];
    a.action_id = p.action_id;
    a.spent_cents += p.amount_cents;
    a.indemnities_paid_cents += p.amount_cents;
    professionals[p.action_id].insert(p.member_id);
  }

  for (auto& [action_id, line] : actions) {
    const auto count = static_cast<int>(professionals[action_id].size());
    line.professionals_count = count;
    if (count > 0 && count < kMinReportableCount) {
      line.suppressed = true;
      line.professionals_count = 0;
      line.indemnities_paid_cents = 0;
    }
    const std::string& mission = action_missions.at(action_id);
    if (!mission.empty()) {
      MissionReportSection& m = missions[mission];
      m.mission_id = mission;
      m.actions.push_back(line);
    }
  }

  Finish(report.functioning);
  Add(report.total, report.functioning);
  for (auto& [id, m] : missions) {
    Finish(m.money);
    Add(report.total, m.money);
    report.missions.push_back(std::move(m));
  }
  return report;
}

std::string AciReportCsv(const AciReport& r) {
  std::string out = CsvLine({"level", "mission_id", "action_id", "indicator_id", "label",
                             "expected_eur", "received_eur", "spent_eur", "remaining_eur",
                             "allocated_eur", "indemnities_paid_eur", "professionals", "target",
                             "achieved", "attainment_percent"});
  auto money_line = [&](const std::string& level, const std::string& mission, const ReportMoney& m,
                        const std::string& attainment) {
    std::vector<std::string> f = {level, mission, "", "", ""};
    for (auto& v : MoneyFields(m)) f.push_back(std::move(v));
    f.insert(f.end(), {"", "", "", "", "", attainment});
    out += CsvLine(f);
  };
  money_line("functioning", "", r.functioning, "");
  for (const MissionReportSection& m : r.missions) {
    money_line("mission", m.mission_id, m.money, Percent(m.attainment_basis_points));
    for (const IndicatorReportLine& i : m.indicators) {
      out += CsvLine({"indicator", m.mission_id, "", i.indicator_id, i.label, "", "", "", "", "",
                      "", "", Milli(i.target_milli), Milli(i.achieved_milli),
                      Percent(i.attainment_basis_points)});
    }
    for (const ActionReportLine& a : m.actions) {
      out += CsvLine({"action", m.mission_id, a.action_id, "", "", "", "",
                      FormatEuros(a.spent_cents), "", FormatEuros(a.allocated_cents),
                      a.suppressed ? "<5" : FormatEuros(a.indemnities_paid_cents),
                      a.suppressed ? "<5" : absl::StrCat(a.professionals_count), "", "", ""});
    }
  }
  money_line("total", "", r.total, "");
  return out;
}

std::string AciReportJson(const AciReport& r) {
  using platform::JsonQuote;
  std::string out = absl::StrCat("{\"year\":", r.year, ",\"functioning\":");
  AppendMoneyJson(out, r.functioning);
  out += ",\"missions\":[";
  for (std::size_t mi = 0; mi < r.missions.size(); ++mi) {
    const MissionReportSection& m = r.missions[mi];
    if (mi > 0) out += ",";
    absl::StrAppend(&out, "{\"mission_id\":", JsonQuote(m.mission_id), ",\"money\":");
    AppendMoneyJson(out, m.money);
    absl::StrAppend(&out, ",\"attainment_basis_points\":", m.attainment_basis_points,
                    ",\"indicators\":[");
    for (std::size_t i = 0; i < m.indicators.size(); ++i) {
      const IndicatorReportLine& ind = m.indicators[i];
      if (i > 0) out += ",";
      absl::StrAppend(&out, "{\"indicator_id\":", JsonQuote(ind.indicator_id),
                      ",\"label\":", JsonQuote(ind.label), ",\"target_milli\":", ind.target_milli,
                      ",\"achieved_milli\":", ind.achieved_milli,
                      ",\"attainment_basis_points\":", ind.attainment_basis_points, "}");
    }
    out += "],\"actions\":[";
    for (std::size_t i = 0; i < m.actions.size(); ++i) {
      const ActionReportLine& a = m.actions[i];
      if (i > 0) out += ",";
      absl::StrAppend(&out, "{\"action_id\":", JsonQuote(a.action_id),
                      ",\"allocated_cents\":", a.allocated_cents,
                      ",\"spent_cents\":", a.spent_cents, ",\"indemnities_paid_cents\":",
                      a.suppressed ? std::string("null") : absl::StrCat(a.indemnities_paid_cents),
                      ",\"professionals_count\":",
                      a.suppressed ? std::string("null") : absl::StrCat(a.professionals_count),
                      ",\"suppressed\":", a.suppressed ? "true" : "false", "}");
    }
    out += "]}";
  }
  out += "],\"total\":";
  AppendMoneyJson(out, r.total);
  out += "}";
  return out;
}

}  // namespace cpts::finance
