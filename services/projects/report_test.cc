#include "services/projects/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cpts::projects {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

Mission M(const std::string& id, int number) {
  Mission m;
  m.id = id;
  m.number = number;
  m.label = "Mission " + std::to_string(number);
  m.kind = number <= 4 ? MissionKind::kCore : MissionKind::kOptional;
  return m;
}

Action A(const std::string& id, const std::string& mission, const std::string& title) {
  Action a;
  a.id = id;
  a.mission_id = mission;
  a.title = title;
  a.status = ActionStatus::kActive;
  return a;
}

AttendanceLine Line(const std::string& participant, const std::string& member,
                    AttendanceStatus status, int minutes) {
  AttendanceLine l;
  l.participant_id = participant;
  l.member_id = member;
  l.role = member.empty() ? GroupRole::kGuest : GroupRole::kActiveMember;
  l.status = status;
  l.minutes_worked = minutes;
  return l;
}

HeldMeeting Held(const std::string& action, absl::CivilSecond start, SheetState state,
                 std::vector<AttendanceLine> lines) {
  HeldMeeting h;
  h.meeting.id = "mt-" + action;
  h.meeting.action_id = action;
  h.meeting.state = MeetingState::kScheduled;
  h.meeting.start_time = absl::FromCivil(start, absl::UTCTimeZone());
  h.sheet.state = state;
  h.sheet.lines = std::move(lines);
  return h;
}

TEST(ProjectReportTest, AggregatesPerMissionAndAction) {
  Action prevention = A("a1", "ms3", "Prévention des chutes");
  Indicator workshops;
  workshops.id = "i1";
  workshops.name = "Ateliers";
  workshops.kind = IndicatorKind::kAction;
  workshops.unit = "ateliers";
  workshops.targets = {{.year = 2025, .target = 8}};
  Indicator reached;
  reached.id = "i2";
  reached.name = "Aa personnes";
  reached.kind = IndicatorKind::kResult;
  reached.unit = "personnes";
  prevention.indicators = {workshops, reached};

  IndicatorValue jan;
  jan.indicator_id = "i1";
  jan.year = 2025;
  jan.month = 1;
  jan.value = 2;
  IndicatorValue feb = jan;
  feb.month = 2;
  feb.value = 4;

  const std::vector<HeldMeeting> meetings = {
      Held("a1", absl::CivilSecond(2025, 3, 1, 17, 0, 0), SheetState::kClosed,
           {Line("p1", "m1", AttendanceStatus::kPresent, 120),
            Line("p2", "m2", AttendanceStatus::kAbsent, 0),
            Line("p3", "", AttendanceStatus::kPresent, 120)}),
      Held("a1", absl::CivilSecond(2025, 4, 1, 17, 0, 0), SheetState::kAmended,
           {Line("p1", "m1", AttendanceStatus::kPresent, 60),
            Line("p2", "m2", AttendanceStatus::kPresent, 60)}),
      // Not counted: sheet still open, another year, cancelled.
      Held("a1", absl::CivilSecond(2025, 5, 1, 17, 0, 0), SheetState::kRecorded,
           {Line("p9", "m9", AttendanceStatus::kPresent, 60)}),
      Held("a1", absl::CivilSecond(2024, 12, 31, 17, 0, 0), SheetState::kClosed,
           {Line("p9", "m9", AttendanceStatus::kPresent, 60)}),
  };
  HeldMeeting cancelled = Held("a1", absl::CivilSecond(2025, 6, 1, 17, 0, 0), SheetState::kClosed,
                               {Line("p9", "m9", AttendanceStatus::kPresent, 60)});
  cancelled.meeting.state = MeetingState::kCancelled;
  std::vector<HeldMeeting> all = meetings;
  all.push_back(cancelled);

  const ProjectReport report = BuildProjectReport(
      2025, absl::UTCTimeZone(), {M("ms3", 3), M("ms1", 1)},
      {prevention, A("a2", "ms1", "Accès MT"), A("a3", "unknown", "Orpheline")}, {jan, feb}, all);

  EXPECT_EQ(report.year, 2025);
  ASSERT_THAT(report.missions, SizeIs(2));
  EXPECT_EQ(report.missions[0].number, 1);
  EXPECT_EQ(report.missions[1].number, 3);
  ASSERT_THAT(report.missions[0].actions, SizeIs(1));
  EXPECT_EQ(report.missions[0].actions[0].meetings_held, 0);

  ASSERT_THAT(report.missions[1].actions, SizeIs(1));
  const ActionReport& a = report.missions[1].actions[0];
  EXPECT_EQ(a.meetings_held, 2);
  EXPECT_EQ(a.participants, 3);  // m1, m2 and the guest p3
  EXPECT_EQ(a.minutes_worked, 360);
  EXPECT_THAT(a.indicators, ElementsAre(IndicatorReport{.indicator_id = "i2",
                                                        .name = "Aa personnes",
                                                        .kind = IndicatorKind::kResult,
                                                        .unit = "personnes"},
                                        IndicatorReport{.indicator_id = "i1",
                                                        .name = "Ateliers",
                                                        .kind = IndicatorKind::kAction,
                                                        .unit = "ateliers",
                                                        .has_target = true,
                                                        .target = 8,
                                                        .value = 6,
                                                        .attainment_bp = 7500}));
}

TEST(ProjectReportTest, TheLocalDateDecidesTheYear) {
  // 31 Dec 2025 23:30 UTC is 1 Jan 2026 in UTC+1.
  const std::vector<HeldMeeting> meetings = {
      Held("a1", absl::CivilSecond(2025, 12, 31, 23, 30, 0), SheetState::kClosed,
           {Line("p1", "m1", AttendanceStatus::kPresent, 60)})};
  const absl::TimeZone paris_winter = absl::FixedTimeZone(60 * 60);
  const auto report_2025 =
      BuildProjectReport(2025, paris_winter, {M("ms1", 1)}, {A("a1", "ms1", "X")}, {}, meetings);
  const auto report_2026 =
      BuildProjectReport(2026, paris_winter, {M("ms1", 1)}, {A("a1", "ms1", "X")}, {}, meetings);
  EXPECT_EQ(report_2025.missions[0].actions[0].meetings_held, 0);
  EXPECT_EQ(report_2026.missions[0].actions[0].meetings_held, 1);
  EXPECT_THAT(BuildProjectReport(2026, paris_winter, {}, {}, {}, meetings).missions, IsEmpty());
}

}  // namespace
}  // namespace cpts::projects
