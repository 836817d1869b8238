#pragma once

// Meetings of a working group: scheduling, rescheduling, cancelling, minutes, and the
// participants' replies with the 48-hour excuse rule. Pure functions: no I/O, no clock
// ("now" is a parameter); who may call them is checked with group_roles.h first.
//
//   SCHEDULED --Reschedule (before the start)--> SCHEDULED
//   SCHEDULED --Cancel (before the start, with a reason)--> CANCELLED (final)
//   SCHEDULED, once started: held; minutes may be attached and its sheet recorded.
//
// An excuse given less than 48 hours before the start is late: it counts as an absence in
// the group's follow-up. An excuse exactly 48 hours ahead is in time.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/projects/model.h"

namespace cpts::projects {

inline constexpr absl::Duration kExcuseNotice = absl::Hours(48);
inline constexpr absl::Duration kMaxMeetingLength = absl::Hours(12);

// Whether an excuse given at `reply_time` for a meeting starting at `start` is late: less
// than 48 hours before the start (including any time after it).
bool IsLateExcuse(absl::Time start, absl::Time reply_time);

// Whether the meeting's start has passed (a cancelled meeting never starts).
bool HasStarted(const Meeting& meeting, absl::Time now);

// The meeting's local date in `tz` (the CPTS's time zone).
absl::CivilDay MeetingDate(const Meeting& meeting, absl::TimeZone tz);

// start in the future, end after the start, at most 12 hours long. InvalidArgument naming
// "<prefix>.start_time" or "<prefix>.end_time".
absl::Status ValidateMeetingTimes(absl::Time start, absl::Time end, absl::Time now,
                                  absl::string_view prefix);

// Exactly one of a place (1..500 characters) and an https video link; normalised in place.
absl::Status NormalizeLocation(MeetingLocation& location, absl::string_view prefix);

// Checks and normalises a meeting to schedule for `group` and returns it SCHEDULED:
// times and location as above, agenda at most 5000 characters, action_id one of the group's
// actions (empty: the group's first action).
absl::StatusOr<Meeting> NewMeeting(Meeting draft, const WorkingGroup& group, absl::Time now);

// Moves a SCHEDULED meeting that has not started. FailedPrecondition when cancelled or
// started; InvalidArgument for bad times or location. An unset location keeps the current
// one. On error `meeting` is unchanged.
absl::Status Reschedule(absl::Time start, absl::Time end,
                        const std::optional<MeetingLocation>& location, absl::Time now,
                        Meeting& meeting);

// Cancels a SCHEDULED meeting that has not started; the reason (1..500) is required.
absl::Status Cancel(absl::string_view reason, absl::Time now, Meeting& meeting);

// Attaches or replaces the minutes of a meeting that has started (not cancelled). The text
// (1..50000) is required.
absl::Status AttachMinutes(Minutes minutes, absl::string_view author_subject, absl::Time now,
                           Meeting& meeting);

// A participant's reply to a meeting. FailedPrecondition when the meeting is cancelled or
// has started, or the participant is not a current participant of the meeting's group;
// InvalidArgument when `kind` is unspecified or the reason is too long. `late` is set for
// an excuse less than 48 hours before the start.
absl::StatusOr<MeetingReply> Reply(const Meeting& meeting, const GroupParticipant& participant,
                                   ReplyKind kind, absl::string_view reason, absl::Time now);

}  // namespace cpts::projects
