#pragma once

// The yearly report of the projet de santé (GetProjectReport): per mission and action, the
// indicators' values against their targets, and the meetings held, distinct participants
// and minutes worked. Aggregates only: no names, no member ids leave this function. Pure:
// the caller loads the tenant's missions, actions, the year's indicator values and meetings
// with their sheets.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/projects/model.h"

namespace cpts::projects {

struct IndicatorReport {
  std::string indicator_id{};
  std::string name{};
  IndicatorKind kind = IndicatorKind::kUnspecified;
  std::string unit{};
  bool has_target = false;
  int64_t target = 0;
  int64_t value = 0;
  int32_t attainment_bp = 0;
  bool operator==(const IndicatorReport&) const = default;
};

struct ActionReport {
  std::string action_id{};
  std::string title{};
  ActionStatus status = ActionStatus::kUnspecified;
  std::vector<IndicatorReport> indicators{};  // by name
  int meetings_held = 0;
  int participants = 0;
  int64_t minutes_worked = 0;
};

struct MissionReport {
  std::string mission_id{};
  int number = 0;
  std::string label{};
  MissionKind kind = MissionKind::kUnspecified;
  std::vector<ActionReport> actions{};  // by title, then id
};

struct ProjectReport {
  int year = 0;
  std::vector<MissionReport> missions{};  // by number
};

// A meeting with its attendance sheet.
struct HeldMeeting {
  Meeting meeting{};
  AttendanceSheet sheet{};
};

// Builds the report of `year`. A meeting counts when it is not cancelled, its sheet is
// CLOSED or AMENDED, and its local date (in `tz`) falls in `year`; it counts for its
// action. Participants are counted once per action, by member id (by participation id for
// guests who are not members), over the PRESENT lines. Actions of an unknown mission are
// left out.
ProjectReport BuildProjectReport(int year, absl::TimeZone tz, const std::vector<Mission>& missions,
                                 const std::vector<Action>& actions,
                                 const std::vector<IndicatorValue>& values,
                                 const std::vector<HeldMeeting>& meetings);

}  // namespace cpts::projects
