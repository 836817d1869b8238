#pragma once

// The attendance sheet of a meeting and the entitlement events it produces for finance.
// Pure functions: no I/O, no clock ("now" is a parameter); who may call them is checked with
// group_roles.h (GroupStep::kManageAttendance) first.
//
//   OPEN      --Record (meeting started)--> RECORDED --Record--> RECORDED
//   RECORDED  --Close--> CLOSED, version 1: one entitlement event per PRESENT line
//   CLOSED, AMENDED --Amend (reason)--> AMENDED, version + 1: for each line that changed,
//             the reversal of its event in force (if any) and the event of its new line (if
//             present). Unchanged lines produce nothing.
//   Any other step: FailedPrecondition naming the sheet state.
//
// Every present line produces an event; `indemnifiable` says whether finance may pay it:
// référents and active members who are members only. Guests and staff (the coordinator) are
// sent flagged, never indemnifiable. Events are keyed "<meeting>/<participant>/v<version>"
// ("/reversal" appended for a reversal) so finance can apply them idempotently; the store
// writes them to the outbox in the transaction that saves the sheet.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/projects/model.h"

namespace cpts::projects {

inline constexpr int kMaxMinutesWorked = 24 * 60;

// What the events of a sheet say about its meeting.
struct EntitlementContext {
  std::string tenant_id{};
  std::string meeting_id{};
  std::string group_id{};
  std::string action_id{};
  absl::CivilDay meeting_date{};
};

// The OPEN sheet of `meeting`: one line per current participant of the group, pre-filled
// from their replies (EXCUSED, or EXCUSED_LATE for a late excuse; others unspecified).
AttendanceSheet NewSheet(const Meeting& meeting, const std::vector<GroupParticipant>& participants,
                         const std::vector<MeetingReply>& replies, bool hourly);

// Records or replaces lines of a sheet not yet closed, for a meeting that has started.
// `roster` is every participation of the group, current or past: a line may name someone
// not pre-filled (e.g. who left the group after the meeting). FailedPrecondition when the
// meeting was cancelled or has not started, or the sheet is CLOSED/AMENDED; InvalidArgument
// "lines[i].<field>: ..." for an unknown or repeated participant, an unspecified status,
// minutes outside 0..1440, or minutes on a line that is not PRESENT. On error `sheet` is
// unchanged.
absl::Status RecordLines(const Meeting& meeting, const std::vector<GroupParticipant>& roster,
                         const std::vector<AttendanceLine>& lines, absl::Time now,
                         AttendanceSheet& sheet);

// Closes a RECORDED sheet (version 1) and returns the entitlement events to emit.
// FailedPrecondition when the sheet is OPEN (nothing recorded), already closed, a line has
// no status, or (hourly sheets) a present line has no minutes. On error `sheet` is unchanged.
absl::StatusOr<std::vector<EntitlementEvent>> CloseSheet(const EntitlementContext& context,
                                                         absl::string_view closed_by,
                                                         absl::Time now, AttendanceSheet& sheet);

// Amends a CLOSED or AMENDED sheet with `changes` (validated as in RecordLines; the hourly
// rule as in CloseSheet), with a required reason, and returns the corrective events.
// FailedPrecondition when the sheet is not closed or no line actually changes. On error
// `sheet` is unchanged.
absl::StatusOr<std::vector<EntitlementEvent>> AmendSheet(
    const EntitlementContext& context, const std::vector<GroupParticipant>& roster,
    const std::vector<AttendanceLine>& changes, absl::string_view reason,
    absl::string_view amended_by, absl::Time now, AttendanceSheet& sheet);

// How finance sees a group role.
EntitlementRole EntitlementRoleOf(GroupRole role);

// Whether a line may give rise to an indemnity: a référent or active member with a member id.
bool IsIndemnifiable(const AttendanceLine& line);

// Attendance figures of closed sheets (see GroupAttendanceStats in the proto): excused in
// time are left out of the rate; late excuses count as absences.
struct AttendanceStats {
  int meetings_held = 0;
  int expected = 0;
  int present = 0;
  int excused = 0;
  int absent = 0;  // absent or excused late
  int attendance_rate_bp = 0;
  bool operator==(const AttendanceStats&) const = default;
};

// Sheets that are not CLOSED or AMENDED are ignored.
AttendanceStats ComputeStats(const std::vector<AttendanceSheet>& sheets);

}  // namespace cpts::projects
