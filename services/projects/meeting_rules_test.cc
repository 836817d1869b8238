#include "services/projects/meeting_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/platform/testing/status_matchers.h"

namespace cpts::projects {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;

// 2025-06-12 18:00:00 UTC.
constexpr absl::Time kStart = absl::FromUnixSeconds(1749751200);

WorkingGroup Group() {
  WorkingGroup g;
  g.id = "g1";
  g.action_ids = {"a1", "a2"};
  return g;
}

Meeting Scheduled() {
  Meeting m;
  m.id = "mt1";
  m.group_id = "g1";
  m.action_id = "a1";
  m.start_time = kStart;
  m.end_time = kStart + absl::Hours(2);
  m.location.place = "Salle du conseil";
  m.state = MeetingState::kScheduled;
  return m;
}

GroupParticipant Member(const std::string& group = "g1",
                        ParticipantState state = ParticipantState::kActive) {
  GroupParticipant p;
  p.id = "p1";
  p.group_id = group;
  p.member_id = "m1";
  p.role = GroupRole::kActiveMember;
  p.state = state;
  return p;
}

// --- the 48-hour rule ------------------------------------------------------------------

struct ExcuseCase {
  absl::Duration before_start;
  bool late;
};

class LateExcuseTest : public ::testing::TestWithParam<ExcuseCase> {};

TEST_P(LateExcuseTest, LessThan48HoursBeforeTheStartIsLate) {
  const absl::Time reply_time = kStart - GetParam().before_start;
  EXPECT_EQ(IsLateExcuse(kStart, reply_time), GetParam().late)
      << absl::FormatDuration(GetParam().before_start);
  auto reply = Reply(Scheduled(), Member(), ReplyKind::kExcused, "garde", reply_time);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->late, GetParam().late);
  EXPECT_EQ(reply->kind, ReplyKind::kExcused);
  EXPECT_EQ(reply->reply_time, reply_time);
}

INSTANTIATE_TEST_SUITE_P(
    Notice, LateExcuseTest,
    ::testing::Values(ExcuseCase{absl::Hours(24 * 7), false}, ExcuseCase{absl::Hours(49), false},
                      ExcuseCase{absl::Hours(48), false},  // exactly 48 h ahead: in time
                      ExcuseCase{absl::Hours(48) - absl::Seconds(1), true},
                      ExcuseCase{absl::Hours(24), true}, ExcuseCase{absl::Minutes(5), true}));

TEST(ReplyTest, AttendingIsNeverLate) {
  auto reply = Reply(Scheduled(), Member(), ReplyKind::kAttending, "", kStart - absl::Hours(1));
  ASSERT_THAT(reply, IsOk());
  EXPECT_FALSE(reply->late);
  EXPECT_EQ(reply->participant_id, "p1");
  EXPECT_EQ(reply->meeting_id, "mt1");
}

TEST(ReplyTest, Refusals) {
  const absl::Time before = kStart - absl::Hours(72);
  EXPECT_THAT(Reply(Scheduled(), Member(), ReplyKind::kUnspecified, "", before),
              StatusIs(absl::StatusCode::kInvalidArgument, "kind:"));
  EXPECT_THAT(Reply(Scheduled(), Member(), ReplyKind::kExcused, "", kStart),
              StatusIs(absl::StatusCode::kFailedPrecondition, "has started"));
  Meeting cancelled = Scheduled();
  cancelled.state = MeetingState::kCancelled;
  EXPECT_THAT(Reply(cancelled, Member(), ReplyKind::kAttending, "", before),
              StatusIs(absl::StatusCode::kFailedPrecondition, "CANCELLED"));
  EXPECT_THAT(Reply(Scheduled(), Member("g2"), ReplyKind::kAttending, "", before),
              StatusIs(absl::StatusCode::kFailedPrecondition, "participant"));
  EXPECT_THAT(
      Reply(Scheduled(), Member("g1", ParticipantState::kLeft), ReplyKind::kAttending, "", before),
      StatusIs(absl::StatusCode::kFailedPrecondition, "participant"));
}

// --- scheduling ------------------------------------------------------------------------

TEST(NewMeetingTest, DefaultsToTheGroupsFirstAction) {
  Meeting draft = Scheduled();
  draft.action_id.clear();
  draft.location.place = "  Maison de santé  ";
  auto meeting = NewMeeting(draft, Group(), kStart - absl::Hours(100));
  ASSERT_THAT(meeting, IsOk());
  EXPECT_EQ(meeting->action_id, "a1");
  EXPECT_EQ(meeting->state, MeetingState::kScheduled);
  EXPECT_EQ(meeting->location.place, "Maison de santé");
}

struct BadMeeting {
  std::string name;
  absl::Duration start_offset;  // from "now"
  absl::Duration length;
  MeetingLocation location;
  std::string action_id;
  std::string message;
};

class NewMeetingInvalidTest : public ::testing::TestWithParam<BadMeeting> {};

TEST_P(NewMeetingInvalidTest, NamesTheField) {
  const absl::Time now = kStart - absl::Hours(100);
  Meeting draft = Scheduled();
  draft.start_time = now + GetParam().start_offset;
  draft.end_time = draft.start_time + GetParam().length;
  draft.location = GetParam().location;
  draft.action_id = GetParam().action_id;
  EXPECT_THAT(NewMeeting(draft, Group(), now),
              StatusIs(absl::StatusCode::kInvalidArgument, GetParam().message))
      << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(
    Meetings, NewMeetingInvalidTest,
    ::testing::Values(
        BadMeeting{"past",
                   -absl::Hours(1),
                   absl::Hours(1),
                   {"Salle", ""},
                   "a1",
                   "meeting.start_time: must be in the future"},
        BadMeeting{
            "now", absl::ZeroDuration(), absl::Hours(1), {"Salle", ""}, "a1", "meeting.start_time"},
        BadMeeting{"end before start",
                   absl::Hours(1),
                   -absl::Minutes(1),
                   {"Salle", ""},
                   "a1",
                   "meeting.end_time: must be after start_time"},
        BadMeeting{
            "empty", absl::Hours(1), absl::ZeroDuration(), {"Salle", ""}, "a1", "meeting.end_time"},
        BadMeeting{"too long",
                   absl::Hours(1),
                   absl::Hours(12) + absl::Minutes(1),
                   {"Salle", ""},
                   "a1",
                   "at most 12 hours"},
        BadMeeting{"no location",
                   absl::Hours(1),
                   absl::Hours(1),
                   {"", ""},
                   "a1",
                   "meeting.location: exactly one"},
        BadMeeting{"both locations",
                   absl::Hours(1),
                   absl::Hours(1),
                   {"Salle", "https://visio.example.org/x"},
                   "a1",
                   "meeting.location"},
        BadMeeting{"http link",
                   absl::Hours(1),
                   absl::Hours(1),
                   {"", "http://visio.example.org/x"},
                   "a1",
                   "meeting.video_link: must be an https URL"},
        BadMeeting{"foreign action",
                   absl::Hours(1),
                   absl::Hours(1),
                   {"Salle", ""},
                   "a9",
                   "meeting.action_id: is not an action of the group"}));

TEST(NewMeetingTest, TwelveHoursExactlyIsAllowed) {
  Meeting draft = Scheduled();
  draft.end_time = draft.start_time + kMaxMeetingLength;
  EXPECT_THAT(NewMeeting(draft, Group(), kStart - absl::Hours(1)), IsOk());
}

TEST(RescheduleTest, MovesAMeetingThatHasNotStarted) {
  Meeting meeting = Scheduled();
  const absl::Time now = kStart - absl::Hours(10);
  ASSERT_THAT(
      Reschedule(kStart + absl::Hours(24), kStart + absl::Hours(26), std::nullopt, now, meeting),
      IsOk());
  EXPECT_EQ(meeting.start_time, kStart + absl::Hours(24));
  EXPECT_EQ(meeting.location.place, "Salle du conseil");  // kept
  ASSERT_THAT(Reschedule(kStart + absl::Hours(24), kStart + absl::Hours(26),
                         MeetingLocation{.place = "", .video_link = "https://visio.example.org/g1"},
                         now, meeting),
              IsOk());
  EXPECT_EQ(meeting.location.video_link, "https://visio.example.org/g1");
  EXPECT_TRUE(meeting.location.place.empty());
}

TEST(RescheduleTest, RefusalsLeaveTheMeetingUnchanged) {
  Meeting meeting = Scheduled();
  EXPECT_THAT(Reschedule(kStart + absl::Hours(24), kStart + absl::Hours(25), std::nullopt,
                         kStart + absl::Minutes(1), meeting),
              StatusIs(absl::StatusCode::kFailedPrecondition, "has started"));
  EXPECT_THAT(Reschedule(kStart + absl::Hours(24), kStart + absl::Hours(23), std::nullopt,
                         kStart - absl::Hours(1), meeting),
              StatusIs(absl::StatusCode::kInvalidArgument, "request.end_time"));
  EXPECT_THAT(Reschedule(kStart + absl::Hours(24), kStart + absl::Hours(25), MeetingLocation{},
                         kStart - absl::Hours(1), meeting),
              StatusIs(absl::StatusCode::kInvalidArgument, "request.location"));
  EXPECT_EQ(meeting.start_time, kStart);
  EXPECT_EQ(meeting.location.place, "Salle du conseil");
}

TEST(CancelTest, NeedsAReasonAndAMeetingNotStarted) {
  Meeting meeting = Scheduled();
  EXPECT_THAT(Cancel("", kStart - absl::Hours(1), meeting),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason"));
  EXPECT_THAT(Cancel("Grève", kStart, meeting),
              StatusIs(absl::StatusCode::kFailedPrecondition, "has started"));
  EXPECT_EQ(meeting.state, MeetingState::kScheduled);
  ASSERT_THAT(Cancel("Salle indisponible", kStart - absl::Hours(1), meeting), IsOk());
  EXPECT_EQ(meeting.state, MeetingState::kCancelled);
  EXPECT_EQ(meeting.cancel_reason, "Salle indisponible");
  EXPECT_FALSE(HasStarted(meeting, kStart + absl::Hours(1)));
  EXPECT_THAT(Cancel("encore", kStart - absl::Hours(1), meeting),
              StatusIs(absl::StatusCode::kFailedPrecondition, "CANCELLED"));
  EXPECT_THAT(Reschedule(kStart + absl::Hours(24), kStart + absl::Hours(25), std::nullopt,
                         kStart - absl::Hours(1), meeting),
              StatusIs(absl::StatusCode::kFailedPrecondition, "CANCELLED"));
}

TEST(AttachMinutesTest, OnlyAfterTheStartOfAHeldMeeting) {
  Meeting meeting = Scheduled();
  EXPECT_THAT(AttachMinutes(Minutes{.text = "CR"}, "sub", kStart - absl::Minutes(1), meeting),
              StatusIs(absl::StatusCode::kFailedPrecondition, "has not started"));
  EXPECT_THAT(AttachMinutes(Minutes{}, "sub", kStart + absl::Hours(3), meeting),
              StatusIs(absl::StatusCode::kInvalidArgument, "minutes.text"));
  ASSERT_THAT(AttachMinutes(Minutes{.text = "Compte rendu\nPoint 1"}, "sub-coord",
                            kStart + absl::Hours(3), meeting),
              IsOk());
  ASSERT_TRUE(meeting.minutes.has_value());
  EXPECT_EQ(meeting.minutes->author_subject, "sub-coord");
  EXPECT_EQ(meeting.minutes->attach_time, kStart + absl::Hours(3));

  Meeting cancelled = Scheduled();
  cancelled.state = MeetingState::kCancelled;
  EXPECT_THAT(AttachMinutes(Minutes{.text = "CR"}, "sub", kStart + absl::Hours(3), cancelled),
              StatusIs(absl::StatusCode::kFailedPrecondition, "CANCELLED"));
}

TEST(MeetingDateTest, IsTheLocalDate) {
  Meeting late_evening = Scheduled();
  late_evening.start_time =
      absl::FromCivil(absl::CivilSecond(2025, 6, 12, 22, 30, 0), absl::UTCTimeZone());
  const absl::TimeZone paris_summer = absl::FixedTimeZone(2 * 60 * 60);
  EXPECT_EQ(MeetingDate(late_evening, paris_summer), absl::CivilDay(2025, 6, 13));
  EXPECT_EQ(MeetingDate(late_evening, absl::UTCTimeZone()), absl::CivilDay(2025, 6, 12));
}

}  // namespace
}  // namespace cpts::projects
