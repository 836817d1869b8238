#include "services/projects/report.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "services/projects/indicators.h"
#include "services/projects/meeting_rules.h"

namespace cpts::projects {
namespace {

struct ActionFigures {
  int meetings_held = 0;
  std::set<std::string> participants;
  int64_t minutes_worked = 0;
};

bool Counts(const HeldMeeting& held, int year, absl::TimeZone tz) {
  return held.meeting.state == MeetingState::kScheduled &&
         (held.sheet.state == SheetState::kClosed || held.sheet.state == SheetState::kAmended) &&
         MeetingDate(held.meeting, tz).year() == year;
}

}  // namespace

ProjectReport BuildProjectReport(int year, absl::TimeZone tz, const std::vector<Mission>& missions,
                                 const std::vector<Action>& actions,
                                 const std::vector<IndicatorValue>& values,
                                 const std::vector<HeldMeeting>& meetings) {
  std::map<std::string, ActionFigures> figures;
  for (const HeldMeeting& held : meetings) {
    if (!Counts(held, year, tz)) continue;
    ActionFigures& f = figures[held.meeting.action_id];
    ++f.meetings_held;
    for (const AttendanceLine& line : held.sheet.lines) {
      if (line.status != AttendanceStatus::kPresent) continue;
      f.participants.insert(line.member_id.empty() ? "participant:" + line.participant_id
                                                   : "member:" + line.member_id);
      f.minutes_worked += line.minutes_worked;
    }
  }

  ProjectReport report;
  report.year = year;
  std::map<std::string, std::size_t> mission_index;
  std::vector<const Mission*> sorted;
  sorted.reserve(missions.size());
  for (const Mission& m : missions) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(),
            [](const Mission* a, const Mission* b) { return a->number < b->number; });
  for (const Mission* m : sorted) {
    mission_index[m->id] = report.missions.size();
    report.missions.push_back(MissionReport{
        .mission_id = m->id, .number = m->number, .label = m->label, .kind = m->kind});
  }

  for (const Action& action : actions) {
    const auto mission = mission_index.find(action.mission_id);
    if (mission == mission_index.end()) continue;
    ActionReport ar;
    ar.action_id = action.id;
    ar.title = action.title;
    ar.status = action.status;
    for (const Indicator& indicator : action.indicators) {
      IndicatorReport ir;
      ir.indicator_id = indicator.id;
      ir.name = indicator.name;
      ir.kind = indicator.kind;
      ir.unit = indicator.unit;
      const std::optional<int64_t> target = TargetFor(indicator, year);
      ir.has_target = target.has_value();
      ir.target = target.value_or(0);
      ir.value = YearlyValue(values, indicator.id, year);
      ir.attainment_bp = AttainmentBp(ir.value, ir.target);
      ar.indicators.push_back(std::move(ir));
    }
    std::sort(ar.indicators.begin(), ar.indicators.end(),
              [](const IndicatorReport& a, const IndicatorReport& b) { return a.name < b.name; });
    if (const auto f = figures.find(action.id); f != figures.end()) {
      ar.meetings_held = f->second.meetings_held;
      ar.participants = static_cast<int>(f->second.participants.size());
      ar.minutes_worked = f->second.minutes_worked;
    }
    report.missions[mission->second].actions.push_back(std::move(ar));
  }
  for (MissionReport& m : report.missions) {
    std::sort(m.actions.begin(), m.actions.end(), [](const ActionReport& a, const ActionReport& b) {
      return a.title != b.title ? a.title < b.title : a.action_id < b.action_id;
    });
  }
  return report;
}

}  // namespace cpts::projects
