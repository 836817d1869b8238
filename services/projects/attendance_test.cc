#include "services/projects/attendance.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/platform/testing/status_matchers.h"

namespace cpts::projects {
namespace {

using ::cpts::testing::IsOk;
using ::cpts::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// 2025-06-12 18:00:00 UTC.
constexpr absl::Time kStart = absl::FromUnixSeconds(1749751200);
constexpr absl::Time kAfter = absl::FromUnixSeconds(1749751200 + 3 * 60 * 60);  // kStart + 3 h

Meeting Held() {
  Meeting m;
  m.id = "mt1";
  m.tenant_id = "t1";
  m.group_id = "g1";
  m.action_id = "a1";
  m.start_time = kStart;
  m.end_time = kStart + absl::Hours(2);
  m.state = MeetingState::kScheduled;
  return m;
}

GroupParticipant P(const std::string& id, const std::string& member_id, GroupRole role,
                   ParticipantState state = ParticipantState::kActive) {
  GroupParticipant p;
  p.id = id;
  p.group_id = "g1";
  p.member_id = member_id;
  p.role = role;
  p.state = state;
  return p;
}

// p1 référent, p2 active member, p3 guest (not a member), p4 staff coordinator, p5 left.
std::vector<GroupParticipant> Roster() {
  return {P("p1", "m1", GroupRole::kReferent), P("p2", "m2", GroupRole::kActiveMember),
          P("p3", "", GroupRole::kGuest), P("p4", "m4", GroupRole::kCoordinator),
          P("p5", "m5", GroupRole::kActiveMember, ParticipantState::kLeft)};
}

AttendanceLine L(const std::string& participant, AttendanceStatus status, int minutes = 0) {
  AttendanceLine line;
  line.participant_id = participant;
  line.status = status;
  line.minutes_worked = minutes;
  return line;
}

EntitlementContext Context() {
  return EntitlementContext{.tenant_id = "t1",
                            .meeting_id = "mt1",
                            .group_id = "g1",
                            .action_id = "a1",
                            .meeting_date = absl::CivilDay(2025, 6, 12)};
}

constexpr AttendanceStatus kPresent = AttendanceStatus::kPresent;
constexpr AttendanceStatus kAbsent = AttendanceStatus::kAbsent;
constexpr AttendanceStatus kExcused = AttendanceStatus::kExcused;

// A sheet with every current participant recorded, hourly.
AttendanceSheet Recorded() {
  AttendanceSheet sheet = NewSheet(Held(), Roster(), {}, true);
  EXPECT_THAT(RecordLines(Held(), Roster(),
                          {L("p1", kPresent, 120), L("p2", kPresent, 90), L("p3", kPresent, 120),
                           L("p4", kPresent, 120)},
                          kAfter, sheet),
              IsOk());
  return sheet;
}

AttendanceSheet Closed() {
  AttendanceSheet sheet = Recorded();
  EXPECT_THAT(CloseSheet(Context(), "sub-ref", kAfter, sheet), IsOk());
  return sheet;
}

std::vector<std::string> Keys(const std::vector<EntitlementEvent>& events) {
  std::vector<std::string> keys;
  keys.reserve(events.size());
  for (const auto& e : events) keys.push_back(e.idempotency_key);
  return keys;
}

// --- opening and recording -------------------------------------------------------------

TEST(NewSheetTest, OneLinePerCurrentParticipantPrefilledFromExcuses) {
  MeetingReply in_time{.meeting_id = "mt1", .participant_id = "p2", .kind = ReplyKind::kExcused};
  MeetingReply late{
      .meeting_id = "mt1", .participant_id = "p1", .kind = ReplyKind::kExcused, .late = true};
  MeetingReply coming{.meeting_id = "mt1", .participant_id = "p3", .kind = ReplyKind::kAttending};
  const AttendanceSheet sheet = NewSheet(Held(), Roster(), {in_time, late, coming}, false);
  EXPECT_EQ(sheet.state, SheetState::kOpen);
  EXPECT_EQ(sheet.version, 0);
  ASSERT_THAT(sheet.lines, SizeIs(4));  // p5 left the group
  EXPECT_EQ(sheet.lines[0].participant_id, "p1");
  EXPECT_EQ(sheet.lines[0].status, AttendanceStatus::kExcusedLate);
  EXPECT_EQ(sheet.lines[0].role, GroupRole::kReferent);
  EXPECT_EQ(sheet.lines[1].status, AttendanceStatus::kExcused);
  EXPECT_EQ(sheet.lines[2].status, AttendanceStatus::kUnspecified);
  EXPECT_EQ(sheet.lines[3].member_id, "m4");
}

TEST(RecordLinesTest, RecordsAndMovesToRecorded) {
  AttendanceSheet sheet = NewSheet(Held(), Roster(), {}, false);
  ASSERT_THAT(RecordLines(Held(), Roster(), {L("p2", kPresent, 60)}, kAfter, sheet), IsOk());
  EXPECT_EQ(sheet.state, SheetState::kRecorded);
  EXPECT_EQ(sheet.lines[1].status, kPresent);
  EXPECT_EQ(sheet.lines[1].minutes_worked, 60);
  // Recording again replaces the line.
  ASSERT_THAT(RecordLines(Held(), Roster(), {L("p2", kAbsent)}, kAfter, sheet), IsOk());
  EXPECT_EQ(sheet.lines[1].status, kAbsent);
  EXPECT_EQ(sheet.lines[1].minutes_worked, 0);
}

TEST(RecordLinesTest, APastParticipantOfTheRosterMayBeAdded) {
  AttendanceSheet sheet = NewSheet(Held(), Roster(), {}, false);
  ASSERT_THAT(RecordLines(Held(), Roster(), {L("p5", kPresent)}, kAfter, sheet), IsOk());
  ASSERT_THAT(sheet.lines, SizeIs(5));
  EXPECT_EQ(sheet.lines[4].participant_id, "p5");
  EXPECT_EQ(sheet.lines[4].member_id, "m5");
  EXPECT_EQ(sheet.lines[4].role, GroupRole::kActiveMember);
}

struct BadLines {
  std::string name;
  std::vector<AttendanceLine> lines;
  std::string message;
};

class RecordLinesInvalidTest : public ::testing::TestWithParam<BadLines> {};

TEST_P(RecordLinesInvalidTest, NamesTheLineAndLeavesTheSheetUnchanged) {
  AttendanceSheet sheet = NewSheet(Held(), Roster(), {}, false);
  const AttendanceSheet before = sheet;
  EXPECT_THAT(RecordLines(Held(), Roster(), GetParam().lines, kAfter, sheet),
              StatusIs(absl::StatusCode::kInvalidArgument, GetParam().message))
      << GetParam().name;
  EXPECT_EQ(sheet.state, SheetState::kOpen);
  EXPECT_EQ(sheet.lines, before.lines);
}

INSTANTIATE_TEST_SUITE_P(
    Lines, RecordLinesInvalidTest,
    ::testing::Values(BadLines{"empty", {}, "lines: must not be empty"},
                      BadLines{"unknown",
                               {L("p1", kPresent), L("p9", kPresent)},
                               "lines[1].participant_id: is not a participant"},
                      BadLines{"twice",
                               {L("p1", kPresent), L("p1", kAbsent)},
                               "lines[1].participant_id: is listed twice"},
                      BadLines{"no status",
                               {L("p1", AttendanceStatus::kUnspecified)},
                               "lines[0].status: must be set"},
                      BadLines{"negative", {L("p1", kPresent, -1)}, "lines[0].minutes_worked"},
                      BadLines{"over a day", {L("p1", kPresent, 1441)}, "lines[0].minutes_worked"},
                      BadLines{"minutes while absent",
                               {L("p1", kAbsent, 30)},
                               "lines[0].minutes_worked: must be 0 unless PRESENT"}));

TEST(RecordLinesTest, OnlyForAHeldMeeting) {
  AttendanceSheet sheet = NewSheet(Held(), Roster(), {}, false);
  EXPECT_THAT(RecordLines(Held(), Roster(), {L("p1", kPresent)}, kStart - absl::Minutes(1), sheet),
              StatusIs(absl::StatusCode::kFailedPrecondition, "has not started"));
  Meeting cancelled = Held();
  cancelled.state = MeetingState::kCancelled;
  EXPECT_THAT(RecordLines(cancelled, Roster(), {L("p1", kPresent)}, kAfter, sheet),
              StatusIs(absl::StatusCode::kFailedPrecondition, "CANCELLED"));
  EXPECT_EQ(sheet.state, SheetState::kOpen);
}

// --- the state machine -----------------------------------------------------------------

TEST(SheetStateMachineTest, EveryStepFromEveryState) {
  enum class Step { kRecord, kClose, kAmend };
  const SheetState states[] = {SheetState::kOpen, SheetState::kRecorded, SheetState::kClosed,
                               SheetState::kAmended};
  for (SheetState state : states) {
    for (Step step : {Step::kRecord, Step::kClose, Step::kAmend}) {
      AttendanceSheet sheet = Recorded();
      sheet.state = state;
      if (state == SheetState::kClosed || state == SheetState::kAmended) sheet.version = 1;
      absl::Status status;
      switch (step) {
        case Step::kRecord:
          status = RecordLines(Held(), Roster(), {L("p2", kAbsent)}, kAfter, sheet);
          break;
        case Step::kClose:
          status = CloseSheet(Context(), "sub", kAfter, sheet).status();
          break;
        case Step::kAmend:
          status =
              AmendSheet(Context(), Roster(), {L("p2", kAbsent)}, "erreur", "sub", kAfter, sheet)
                  .status();
          break;
      }
      const bool final_state = state == SheetState::kClosed || state == SheetState::kAmended;
      const bool allowed = (step == Step::kRecord && !final_state) ||
                           (step == Step::kClose && state == SheetState::kRecorded) ||
                           (step == Step::kAmend && final_state);
      if (allowed) {
        EXPECT_THAT(status, IsOk()) << SheetStateName(state) << " " << static_cast<int>(step);
      } else {
        EXPECT_THAT(status, StatusIs(absl::StatusCode::kFailedPrecondition,
                                     std::string("attendance sheet is ") +
                                         std::string(SheetStateName(state))))
            << SheetStateName(state) << " " << static_cast<int>(step);
      }
    }
  }
}

// --- closing ---------------------------------------------------------------------------

TEST(CloseSheetTest, EveryPresentLineProducesAnEventFlaggedByRole) {
  AttendanceSheet sheet = Recorded();
  ASSERT_THAT(RecordLines(Held(), Roster(), {L("p2", kExcused)}, kAfter, sheet), IsOk());
  auto events = CloseSheet(Context(), "sub-ref", kAfter, sheet);
  ASSERT_THAT(events, IsOk());
  EXPECT_EQ(sheet.state, SheetState::kClosed);
  EXPECT_EQ(sheet.version, 1);
  EXPECT_EQ(sheet.closed_by, "sub-ref");
  EXPECT_EQ(sheet.close_time, kAfter);
  EXPECT_THAT(Keys(*events), ElementsAre("mt1/p1/v1", "mt1/p3/v1", "mt1/p4/v1"));

  const EntitlementEvent& referent = (*events)[0];
  EXPECT_EQ(referent.tenant_id, "t1");
  EXPECT_EQ(referent.group_id, "g1");
  EXPECT_EQ(referent.action_id, "a1");
  EXPECT_EQ(referent.member_id, "m1");
  EXPECT_EQ(referent.role, EntitlementRole::kReferent);
  EXPECT_TRUE(referent.present);
  EXPECT_EQ(referent.minutes_worked, 120);
  EXPECT_EQ(referent.meeting_date, absl::CivilDay(2025, 6, 12));
  EXPECT_EQ(referent.sheet_version, 1);
  EXPECT_FALSE(referent.correction);
  EXPECT_FALSE(referent.reversal);
  EXPECT_TRUE(referent.indemnifiable);

  EXPECT_EQ((*events)[1].role, EntitlementRole::kGuest);
  EXPECT_FALSE((*events)[1].indemnifiable);
  EXPECT_EQ((*events)[2].role, EntitlementRole::kStaff);
  EXPECT_FALSE((*events)[2].indemnifiable);

  EXPECT_EQ(sheet.lines[0].entitled_version, 1);
  EXPECT_EQ(sheet.lines[1].entitled_version, 0);  // excused
}

TEST(CloseSheetTest, IndemnifiableOnlyForMembersWhoAreReferentsOrActiveMembers) {
  struct Case {
    GroupRole role;
    std::string member_id;
    bool indemnifiable;
  };
  for (const Case& c : std::vector<Case>{{GroupRole::kReferent, "m1", true},
                                         {GroupRole::kActiveMember, "m1", true},
                                         {GroupRole::kActiveMember, "", false},
                                         {GroupRole::kGuest, "m1", false},
                                         {GroupRole::kGuest, "", false},
                                         {GroupRole::kCoordinator, "m1", false}}) {
    AttendanceLine line = L("p", kPresent);
    line.role = c.role;
    line.member_id = c.member_id;
    EXPECT_EQ(IsIndemnifiable(line), c.indemnifiable) << GroupRoleName(c.role) << c.member_id;
  }
}

TEST(CloseSheetTest, RefusedWhileALineHasNoStatus) {
  AttendanceSheet sheet = NewSheet(Held(), Roster(), {}, false);
  ASSERT_THAT(RecordLines(Held(), Roster(), {L("p1", kPresent)}, kAfter, sheet), IsOk());
  EXPECT_THAT(CloseSheet(Context(), "sub", kAfter, sheet),
              StatusIs(absl::StatusCode::kFailedPrecondition, "participant p2 has no attendance"));
  EXPECT_EQ(sheet.state, SheetState::kRecorded);
  EXPECT_EQ(sheet.version, 0);
}

TEST(CloseSheetTest, AnHourlySheetNeedsTheMinutesOfPresentLines) {
  AttendanceSheet sheet = Recorded();
  ASSERT_THAT(RecordLines(Held(), Roster(), {L("p2", kPresent, 0)}, kAfter, sheet), IsOk());
  EXPECT_THAT(CloseSheet(Context(), "sub", kAfter, sheet),
              StatusIs(absl::StatusCode::kFailedPrecondition, "p2 is present but has no minutes"));
  sheet.hourly = false;
  EXPECT_THAT(CloseSheet(Context(), "sub", kAfter, sheet), IsOk());
}

// --- amending --------------------------------------------------------------------------

TEST(AmendSheetTest, PresentToAbsentReversesTheLine) {
  AttendanceSheet sheet = Closed();
  auto events = AmendSheet(Context(), Roster(), {L("p2", kAbsent)}, "Erreur de saisie", "sub-coord",
                           kAfter + absl::Hours(24), sheet);
  ASSERT_THAT(events, IsOk());
  ASSERT_THAT(*events, SizeIs(1));
  const EntitlementEvent& reversal = (*events)[0];
  EXPECT_EQ(reversal.idempotency_key, "mt1/p2/v1/reversal");
  EXPECT_TRUE(reversal.reversal);
  EXPECT_TRUE(reversal.correction);
  EXPECT_TRUE(reversal.present);  // repeats the reversed line
  EXPECT_EQ(reversal.minutes_worked, 90);
  EXPECT_EQ(reversal.sheet_version, 1);
  EXPECT_EQ(sheet.state, SheetState::kAmended);
  EXPECT_EQ(sheet.version, 2);
  EXPECT_EQ(sheet.lines[1].entitled_version, 0);
  ASSERT_THAT(sheet.amendments, SizeIs(1));
  EXPECT_EQ(sheet.amendments[0].version, 2);
  EXPECT_EQ(sheet.amendments[0].reason, "Erreur de saisie");
  EXPECT_EQ(sheet.amendments[0].amended_by, "sub-coord");
}

TEST(AmendSheetTest, AbsentToPresentProducesOnlyTheNewLine) {
  AttendanceSheet sheet = Recorded();
  ASSERT_THAT(RecordLines(Held(), Roster(), {L("p2", kAbsent)}, kAfter, sheet), IsOk());
  ASSERT_THAT(CloseSheet(Context(), "sub", kAfter, sheet), IsOk());
  auto events = AmendSheet(Context(), Roster(), {L("p2", kPresent, 45)}, "Arrivé en retard", "sub",
                           kAfter, sheet);
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(Keys(*events), ElementsAre("mt1/p2/v2"));
  EXPECT_TRUE((*events)[0].correction);
  EXPECT_FALSE((*events)[0].reversal);
  EXPECT_EQ((*events)[0].minutes_worked, 45);
  EXPECT_EQ(sheet.lines[1].entitled_version, 2);
}

TEST(AmendSheetTest, ChangedMinutesReverseThenReplaceAndOthersStayQuiet) {
  AttendanceSheet sheet = Closed();
  auto events = AmendSheet(Context(), Roster(), {L("p1", kPresent, 120), L("p2", kPresent, 120)},
                           "Durée corrigée", "sub", kAfter, sheet);
  ASSERT_THAT(events, IsOk());
  // p1 is unchanged: nothing for it.
  EXPECT_THAT(Keys(*events), ElementsAre("mt1/p2/v1/reversal", "mt1/p2/v2"));
  EXPECT_EQ((*events)[0].minutes_worked, 90);
  EXPECT_EQ((*events)[1].minutes_worked, 120);
}

TEST(AmendSheetTest, ASecondAmendmentReversesTheEventInForce) {
  AttendanceSheet sheet = Closed();
  ASSERT_THAT(AmendSheet(Context(), Roster(), {L("p2", kPresent, 60)}, "un", "sub", kAfter, sheet),
              IsOk());
  // p1 is changed for the first time in v3: its event in force is still v1's.
  auto events = AmendSheet(Context(), Roster(), {L("p1", kAbsent), L("p2", kPresent, 30)}, "deux",
                           "sub", kAfter, sheet);
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(Keys(*events), ElementsAre("mt1/p1/v1/reversal", "mt1/p2/v2/reversal", "mt1/p2/v3"));
  EXPECT_EQ(sheet.version, 3);
  EXPECT_THAT(sheet.amendments, SizeIs(2));
}

TEST(AmendSheetTest, AForgottenParticipantMayBeAdded) {
  AttendanceSheet sheet = Closed();
  auto events =
      AmendSheet(Context(), Roster(), {L("p5", kPresent, 60)}, "Oubli", "sub", kAfter, sheet);
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(Keys(*events), ElementsAre("mt1/p5/v2"));
  EXPECT_THAT(sheet.lines, SizeIs(5));
}

TEST(AmendSheetTest, ANonPresentChangeIsAnAmendmentWithoutEvents) {
  AttendanceSheet sheet = Recorded();
  ASSERT_THAT(RecordLines(Held(), Roster(), {L("p2", kAbsent)}, kAfter, sheet), IsOk());
  ASSERT_THAT(CloseSheet(Context(), "sub", kAfter, sheet), IsOk());
  auto events =
      AmendSheet(Context(), Roster(), {L("p2", kExcused)}, "Excuse reçue", "sub", kAfter, sheet);
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(*events, IsEmpty());
  EXPECT_EQ(sheet.version, 2);
  EXPECT_EQ(sheet.lines[1].status, kExcused);
}

TEST(AmendSheetTest, RefusalsLeaveTheSheetUnchanged) {
  AttendanceSheet sheet = Closed();
  const std::vector<AttendanceLine> lines_before = sheet.lines;
  EXPECT_THAT(AmendSheet(Context(), Roster(), {L("p2", kAbsent)}, " ", "sub", kAfter, sheet),
              StatusIs(absl::StatusCode::kInvalidArgument, "reason: must not be empty"));
  EXPECT_THAT(
      AmendSheet(Context(), Roster(), {L("p2", kPresent, 90)}, "rien", "sub", kAfter, sheet),
      StatusIs(absl::StatusCode::kFailedPrecondition, "changes no line"));
  EXPECT_THAT(
      AmendSheet(Context(), Roster(), {L("p2", kPresent, 0)}, "hourly", "sub", kAfter, sheet),
      StatusIs(absl::StatusCode::kFailedPrecondition, "no minutes"));
  EXPECT_THAT(AmendSheet(Context(), Roster(), {L("p9", kPresent)}, "inconnu", "sub", kAfter, sheet),
              StatusIs(absl::StatusCode::kInvalidArgument, "lines[0].participant_id"));
  EXPECT_EQ(sheet.version, 1);
  EXPECT_EQ(sheet.state, SheetState::kClosed);
  EXPECT_EQ(sheet.lines, lines_before);
  EXPECT_THAT(sheet.amendments, IsEmpty());
}

// --- follow-up -------------------------------------------------------------------------

TEST(ComputeStatsTest, LateExcusesCountAsAbsencesAndOpenSheetsAreIgnored) {
  AttendanceSheet a;
  a.state = SheetState::kClosed;
  a.lines = {L("p1", kPresent), L("p2", kExcused), L("p3", AttendanceStatus::kExcusedLate),
             L("p4", kAbsent)};
  AttendanceSheet b;
  b.state = SheetState::kAmended;
  b.lines = {L("p1", kPresent), L("p2", kPresent)};
  AttendanceSheet open;
  open.state = SheetState::kRecorded;
  open.lines = {L("p1", kAbsent)};
  const AttendanceStats stats = ComputeStats({a, b, open});
  EXPECT_EQ(stats, (AttendanceStats{.meetings_held = 2,
                                    .expected = 6,
                                    .present = 3,
                                    .excused = 1,
                                    .absent = 2,
                                    .attendance_rate_bp = 6000}));
  EXPECT_EQ(ComputeStats({}).attendance_rate_bp, 0);
}

}  // namespace
}  // namespace cpts::projects
