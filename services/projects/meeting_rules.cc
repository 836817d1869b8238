#include "services/projects/meeting_rules.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/projects/validators.h"

namespace cpts::projects {
namespace {

std::string Field(absl::string_view prefix, absl::string_view name) {
  return absl::StrCat(prefix, ".", name);
}

absl::Status CheckNotStarted(const Meeting& meeting, absl::Time now, absl::string_view step) {
  if (meeting.state != MeetingState::kScheduled) {
    return absl::FailedPreconditionError(
        absl::StrCat("meeting is ", MeetingStateName(meeting.state), "; cannot ", step));
  }
  if (HasStarted(meeting, now)) {
    return absl::FailedPreconditionError(absl::StrCat("meeting has started; cannot ", step));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsLateExcuse(absl::Time start, absl::Time reply_time) {
  return start - reply_time < kExcuseNotice;
}

bool HasStarted(const Meeting& meeting, absl::Time now) {
  return meeting.state == MeetingState::kScheduled && now >= meeting.start_time;
}

absl::CivilDay MeetingDate(const Meeting& meeting, absl::TimeZone tz) {
  return absl::ToCivilDay(meeting.start_time, tz);
}

absl::Status ValidateMeetingTimes(absl::Time start, absl::Time end, absl::Time now,
                                  absl::string_view prefix) {
  if (start <= now) return FieldError(Field(prefix, "start_time"), "must be in the future");
  if (end <= start) return FieldError(Field(prefix, "end_time"), "must be after start_time");
  if (end - start > kMaxMeetingLength) {
    return FieldError(Field(prefix, "end_time"), "must be at most 12 hours after start_time");
  }
  return absl::OkStatus();
}

absl::Status NormalizeLocation(MeetingLocation& location, absl::string_view prefix) {
  const bool has_place = !location.place.empty();
  const bool has_link = !location.video_link.empty();
  if (has_place == has_link) {
    return FieldError(Field(prefix, "location"), "exactly one of place and video_link must be set");
  }
  if (has_link) return ValidateHttpsUrl(location.video_link, Field(prefix, "video_link"));
  auto place = NormalizeText(location.place, Field(prefix, "place"), 500, true);
  if (!place.ok()) return place.status();
  location.place = *std::move(place);
  return absl::OkStatus();
}

absl::StatusOr<Meeting> NewMeeting(Meeting draft, const WorkingGroup& group, absl::Time now) {
  if (absl::Status s = ValidateMeetingTimes(draft.start_time, draft.end_time, now, "meeting");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = NormalizeLocation(draft.location, "meeting"); !s.ok()) return s;
  auto agenda = NormalizeText(draft.agenda, "meeting.agenda", 5000, false, true);
  if (!agenda.ok()) return agenda.status();
  draft.agenda = *std::move(agenda);
  if (draft.action_id.empty()) {
    if (group.action_ids.empty()) {
      return absl::FailedPreconditionError("the group carries no action");
    }
    draft.action_id = group.action_ids.front();
  } else if (std::find(group.action_ids.begin(), group.action_ids.end(), draft.action_id) ==
             group.action_ids.end()) {
    return FieldError("meeting.action_id", "is not an action of the group");
  }
  draft.group_id = group.id;
  draft.state = MeetingState::kScheduled;
  draft.cancel_reason.clear();
  draft.minutes.reset();
  return draft;
}

absl::Status Reschedule(absl::Time start, absl::Time end,
                        const std::optional<MeetingLocation>& location, absl::Time now,
                        Meeting& meeting) {
  if (absl::Status s = CheckNotStarted(meeting, now, "reschedule"); !s.ok()) return s;
  if (absl::Status s = ValidateMeetingTimes(start, end, now, "request"); !s.ok()) return s;
  MeetingLocation new_location = meeting.location;
  if (location.has_value()) {
    new_location = *location;
    if (absl::Status s = NormalizeLocation(new_location, "request"); !s.ok()) return s;
  }
  meeting.start_time = start;
  meeting.end_time = end;
  meeting.location = std::move(new_location);
  return absl::OkStatus();
}

absl::Status Cancel(absl::string_view reason, absl::Time now, Meeting& meeting) {
  if (absl::Status s = CheckNotStarted(meeting, now, "cancel"); !s.ok()) return s;
  auto text = NormalizeText(reason, "reason", 500, true);
  if (!text.ok()) return text.status();
  meeting.state = MeetingState::kCancelled;
  meeting.cancel_reason = *std::move(text);
  return absl::OkStatus();
}

absl::Status AttachMinutes(Minutes minutes, absl::string_view author_subject, absl::Time now,
                           Meeting& meeting) {
  if (meeting.state != MeetingState::kScheduled) {
    return absl::FailedPreconditionError(absl::StrCat(
        "meeting is ", MeetingStateName(meeting.state), "; minutes need a held meeting"));
  }
  if (!HasStarted(meeting, now)) {
    return absl::FailedPreconditionError("meeting has not started; minutes come after it");
  }
  auto text = NormalizeText(minutes.text, "minutes.text", 50000, true, true);
  if (!text.ok()) return text.status();
  if (!minutes.document_id.empty()) {
    if (absl::Status s = ValidateResourceId(minutes.document_id, "minutes.document_id"); !s.ok()) {
      return s;
    }
  }
  minutes.text = *std::move(text);
  minutes.author_subject = std::string(author_subject);
  minutes.attach_time = now;
  meeting.minutes = std::move(minutes);
  return absl::OkStatus();
}

absl::StatusOr<MeetingReply> Reply(const Meeting& meeting, const GroupParticipant& participant,
                                   ReplyKind kind, absl::string_view reason, absl::Time now) {
  if (kind == ReplyKind::kUnspecified) return FieldError("kind", "must be ATTENDING or EXCUSED");
  if (absl::Status s = CheckNotStarted(meeting, now, "reply"); !s.ok()) return s;
  if (participant.group_id != meeting.group_id || participant.state != ParticipantState::kActive) {
    return absl::FailedPreconditionError("not a current participant of the meeting's group");
  }
  auto text = NormalizeText(reason, "reason", 500, false);
  if (!text.ok()) return text.status();
  MeetingReply reply;
  reply.meeting_id = meeting.id;
  reply.participant_id = participant.id;
  reply.kind = kind;
  reply.late = kind == ReplyKind::kExcused && IsLateExcuse(meeting.start_time, now);
  reply.reason = *std::move(text);
  reply.reply_time = now;
  return reply;
}

}  // namespace cpts::projects
