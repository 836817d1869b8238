#include "services/projects/model.h"

namespace cpts::projects {

absl::string_view ActionStatusName(ActionStatus status) {
  switch (status) {
    case ActionStatus::kUnspecified:
      return "UNSPECIFIED";
    case ActionStatus::kDraft:
      return "DRAFT";
    case ActionStatus::kActive:
      return "ACTIVE";
    case ActionStatus::kSuspended:
      return "SUSPENDED";
    case ActionStatus::kDone:
      return "DONE";
  }
  return "UNKNOWN";
}

absl::string_view GroupRoleName(GroupRole role) {
  switch (role) {
    case GroupRole::kUnspecified:
      return "UNSPECIFIED";
    case GroupRole::kCoordinator:
      return "COORDINATOR";
    case GroupRole::kReferent:
      return "REFERENT";
    case GroupRole::kActiveMember:
      return "ACTIVE_MEMBER";
    case GroupRole::kGuest:
      return "GUEST";
  }
  return "UNKNOWN";
}

absl::string_view JoinRequestStateName(JoinRequestState state) {
  switch (state) {
    case JoinRequestState::kUnspecified:
      return "UNSPECIFIED";
    case JoinRequestState::kPending:
      return "PENDING";
    case JoinRequestState::kAccepted:
      return "ACCEPTED";
    case JoinRequestState::kRefused:
      return "REFUSED";
  }
  return "UNKNOWN";
}

absl::string_view MeetingStateName(MeetingState state) {
  switch (state) {
    case MeetingState::kUnspecified:
      return "UNSPECIFIED";
    case MeetingState::kScheduled:
      return "SCHEDULED";
    case MeetingState::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

absl::string_view SheetStateName(SheetState state) {
  switch (state) {
    case SheetState::kUnspecified:
      return "UNSPECIFIED";
    case SheetState::kOpen:
      return "OPEN";
    case SheetState::kRecorded:
      return "RECORDED";
    case SheetState::kClosed:
      return "CLOSED";
    case SheetState::kAmended:
      return "AMENDED";
  }
  return "UNKNOWN";
}

absl::string_view AttendanceStatusName(AttendanceStatus status) {
  switch (status) {
    case AttendanceStatus::kUnspecified:
      return "UNSPECIFIED";
    case AttendanceStatus::kPresent:
      return "PRESENT";
    case AttendanceStatus::kExcused:
      return "EXCUSED";
    case AttendanceStatus::kExcusedLate:
      return "EXCUSED_LATE";
    case AttendanceStatus::kAbsent:
      return "ABSENT";
  }
  return "UNKNOWN";
}

absl::string_view AttendancePaymentName(AttendancePayment payment) {
  switch (payment) {
    case AttendancePayment::kUnspecified:
      return "UNSPECIFIED";
    case AttendancePayment::kPerMeeting:
      return "PER_MEETING";
    case AttendancePayment::kPerHour:
      return "PER_HOUR";
  }
  return "UNKNOWN";
}

}  // namespace cpts::projects
