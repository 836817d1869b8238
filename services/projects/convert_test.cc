// proto <-> domain conversions: round trips (the store keeps some records as serialized
// messages, so a lossy conversion would lose data), enum range checks, etags.
#include "services/projects/convert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/platform/testing/status_matchers.h"

namespace cpts::projects {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;

absl::Time T() { return absl::FromUnixMicros(1'780'000'000'123'456); }

TEST(ConvertTest, ActionRoundTripsWithIndicatorsAndCalendar) {
  Action a;
  a.id = "a1";
  a.mission_id = "m1";
  a.title = "Parcours";
  a.specific_objectives = {"o1", "o2"};
  a.partners = {"p1"};
  a.calendar = {{.label = "Lancement", .date = absl::CivilDay(2026, 5, 4)}};
  a.status = ActionStatus::kSuspended;
  a.indicators = {{.id = "i1",
                   .name = "Patients",
                   .kind = IndicatorKind::kResult,
                   .unit = "n",
                   .source = IndicatorSource::kAccessMt,
                   .targets = {{.year = 2026, .target = 12}}}};
  a.create_time = T();
  a.update_time = T() + absl::Seconds(1);
  a.version = 3;
  v1::Action p;
  ToProto(a, &p);
  EXPECT_EQ(p.etag(), "v3");
  auto back = FromProto(p, "action");
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->title, a.title);
  EXPECT_EQ(back->calendar, a.calendar);
  EXPECT_EQ(back->status, a.status);
  ASSERT_EQ(back->indicators.size(), 1u);
  EXPECT_EQ(back->indicators[0].source, IndicatorSource::kAccessMt);
  EXPECT_EQ(back->indicators[0].targets, a.indicators[0].targets);
  EXPECT_EQ(back->create_time, a.create_time);
  EXPECT_EQ(back->update_time, a.update_time);
}

TEST(ConvertTest, SettingsReadOnlyWhatAClientWritesAndRefuseUnknownPayments) {
  ProjectSettings s;
  s.time_zone = "America/Cayenne";
  s.attendance_payment = AttendancePayment::kPerHour;
  s.update_time = T();
  s.updated_by = "user-coord";
  s.version = 2;
  v1::ProjectSettings p;
  ToProto(s, &p);
  EXPECT_EQ(p.attendance_payment(), v1::ATTENDANCE_PAYMENT_PER_HOUR);
  EXPECT_EQ(p.etag(), "v2");
  EXPECT_EQ(p.updated_by(), "user-coord");
  auto back = FromProto(p, "settings");
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->time_zone, "America/Cayenne");
  EXPECT_EQ(back->attendance_payment, AttendancePayment::kPerHour);
  EXPECT_EQ(back->updated_by, "");  // output only
  // The defaults were never changed: no update time.
  v1::ProjectSettings defaults;
  ToProto(ProjectSettings{.time_zone = "Europe/Paris"}, &defaults);
  EXPECT_FALSE(defaults.has_update_time());
  EXPECT_EQ(defaults.etag(), "v0");
  p.set_attendance_payment(static_cast<v1::AttendancePayment>(3));
  EXPECT_THAT(FromProto(p, "settings"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 "settings.attendance_payment: unknown value 3"));
}

TEST(ConvertTest, SheetAndEventRoundTrip) {
  AttendanceSheet s;
  s.meeting_id = "mt";
  s.group_id = "g";
  s.state = SheetState::kAmended;
  s.version = 2;
  s.lines = {{.participant_id = "p1",
              .member_id = "m1",
              .role = GroupRole::kReferent,
              .status = AttendanceStatus::kPresent,
              .minutes_worked = 90,
              .entitled_version = 2}};
  s.closed_by = "user-1";
  s.close_time = T();
  s.amendments = {{.version = 2, .reason = "r", .amended_by = "user-2", .amend_time = T()}};
  v1::AttendanceSheet p;
  ToProto(s, &p);
  auto back = FromProto(p, "sheet");
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->lines, s.lines);
  EXPECT_EQ(back->close_time, s.close_time);
  ASSERT_EQ(back->amendments.size(), 1u);
  EXPECT_EQ(back->amendments[0].amended_by, "user-2");

  EntitlementEvent e{.tenant_id = "t",
                     .idempotency_key = "mt/p1/v2/reversal",
                     .meeting_id = "mt",
                     .participant_id = "p1",
                     .role = EntitlementRole::kGuest,
                     .present = true,
                     .meeting_date = absl::CivilDay(2026, 3, 5),
                     .sheet_version = 2,
                     .reversal = true};
  v1::AttendanceEntitlementEvent pe;
  ToProto(e, &pe);
  auto eback = FromProto(pe);
  ASSERT_THAT(eback, IsOk());
  EXPECT_EQ(*eback, e);
}

TEST(ConvertTest, UnknownEnumsAndImpossibleDatesNameTheField) {
  v1::Mission m;
  m.set_kind(static_cast<v1::MissionKind>(9));
  EXPECT_THAT(FromProto(m, "mission"),
              StatusIs(absl::StatusCode::kInvalidArgument, "mission.kind"));
  v1::Task t;
  t.mutable_due_date()->set_year(2026);
  t.mutable_due_date()->set_month(2);
  t.mutable_due_date()->set_day(30);
  EXPECT_THAT(FromProto(t, "task"), StatusIs(absl::StatusCode::kInvalidArgument, "task.due_date"));
  EXPECT_THAT(ReplyKindFromProto(3, "kind"), StatusIs(absl::StatusCode::kInvalidArgument, "kind"));
}

TEST(ConvertTest, EtagOfAnotherVersionIsAborted) {
  EXPECT_THAT(CheckEtag("", 4), IsOk());
  EXPECT_THAT(CheckEtag("v4", 4), IsOk());
  EXPECT_THAT(CheckEtag("v3", 4), StatusIs(absl::StatusCode::kAborted));
}

}  // namespace
}  // namespace cpts::projects
