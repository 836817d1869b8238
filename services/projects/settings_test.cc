#include "services/projects/settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "services/platform/testing/status_matchers.h"

namespace cpts::projects {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;

TEST(DefaultSettingsTest, ParisPerMeetingNeverChanged) {
  const ProjectSettings s = DefaultSettings("t1");
  EXPECT_EQ(s.tenant_id, "t1");
  EXPECT_EQ(s.time_zone, "Europe/Paris");
  EXPECT_EQ(s.attendance_payment, AttendancePayment::kPerMeeting);
  EXPECT_EQ(s.version, 0);
  EXPECT_EQ(s.update_time, absl::InfinitePast());
  EXPECT_THAT(ValidateSettings(s, "settings"), IsOk());
  auto rules = RulesOf(s);
  ASSERT_THAT(rules, IsOk());
  EXPECT_FALSE(rules->hourly);
  EXPECT_EQ(rules->zone.name(), "Europe/Paris");
}

TEST(ParseTimeZoneTest, AcceptsIanaNamesThatLoad) {
  for (const std::string name : {"Europe/Paris", "America/Cayenne", "Indian/Reunion",
                                 "America/Argentina/Buenos_Aires", "Etc/GMT+5", "UTC"}) {
    auto zone = ParseTimeZone(name, "settings.time_zone");
    ASSERT_THAT(zone, IsOk()) << name;
    EXPECT_EQ(zone->name(), name);
  }
  // The zone really is the tenant's calendar: 23:30 UTC on 31 December is already the next
  // year in Paris, still the same day in Cayenne.
  const absl::Time t =
      absl::FromCivil(absl::CivilSecond(2025, 12, 31, 23, 30, 0), absl::UTCTimeZone());
  EXPECT_EQ(absl::ToCivilDay(t, *ParseTimeZone("Europe/Paris", "f")), absl::CivilDay(2026, 1, 1));
  EXPECT_EQ(absl::ToCivilDay(t, *ParseTimeZone("America/Cayenne", "f")),
            absl::CivilDay(2025, 12, 31));
}

struct BadZone {
  std::string name;
  std::string zone;
  std::string message;
};

class ParseTimeZoneRefusesTest : public ::testing::TestWithParam<BadZone> {};

TEST_P(ParseTimeZoneRefusesTest, NamingTheField) {
  EXPECT_THAT(
      ParseTimeZone(GetParam().zone, "settings.time_zone"),
      StatusIs(absl::StatusCode::kInvalidArgument, "settings.time_zone: " + GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Zones, ParseTimeZoneRefusesTest,
    ::testing::Values(
        BadZone{"Empty", "", "required"},
        BadZone{"Unknown", "Europe/Atlantis", "unknown time zone Europe/Atlantis"},
        BadZone{"Misspelt", "Europe/paris", "unknown time zone Europe/paris"},
        BadZone{"HostZone", "localtime", "must be an IANA time zone name"},
        BadZone{"Offset", "Fixed/UTC+01:00", "must be an IANA time zone name"},
        BadZone{"Spaces", " Europe/Paris", "must be an IANA time zone name"},
        BadZone{"Parent", "../../etc/passwd", "must be an IANA time zone name"},
        BadZone{"Absolute", "/usr/share/zoneinfo/UTC", "must be an IANA time zone name"},
        BadZone{"EmptyPart", "Europe//Paris", "must be an IANA time zone name"},
        BadZone{"TooLong", "Europe/" + std::string(60, 'A'), "must be at most 64 characters"}),
    [](const ::testing::TestParamInfo<BadZone>& zone) { return zone.param.name; });

TEST(ValidateSettingsTest, NamesTheField) {
  ProjectSettings s = DefaultSettings("t1");
  s.attendance_payment = AttendancePayment::kUnspecified;
  EXPECT_THAT(ValidateSettings(s, "settings"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                        "settings.attendance_payment: required"));
  s = DefaultSettings("t1");
  s.time_zone = "Mars/Olympus_Mons";
  EXPECT_THAT(ValidateSettings(s, "settings"),
              StatusIs(absl::StatusCode::kInvalidArgument, "settings.time_zone: unknown"));
}

TEST(RulesOfTest, PerHourMakesSheetsHourly) {
  ProjectSettings s = DefaultSettings("t1");
  s.time_zone = "America/Cayenne";
  s.attendance_payment = AttendancePayment::kPerHour;
  auto rules = RulesOf(s);
  ASSERT_THAT(rules, IsOk());
  EXPECT_TRUE(rules->hourly);
  EXPECT_EQ(rules->zone.name(), "America/Cayenne");
  // A stored zone the server can no longer load is an error, never a silent UTC.
  s.time_zone = "Europe/Atlantis";
  EXPECT_THAT(RulesOf(s), StatusIs(absl::StatusCode::kInternal, "Europe/Atlantis"));
}

}  // namespace
}  // namespace cpts::projects
