#pragma once

// Plain C++ types of the projects domain: missions, actions and indicators, working groups,
// meetings and attendance sheets. No gRPC, no SQL: the gRPC layer converts cpts.projects.v1
// messages to and from these, and the stores persist them.
//
// Calendar dates are absl::CivilDay (the CPTS's local calendar); instants are absl::Time
// (UTC). Durations worked are whole minutes.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace cpts::projects {

// ---------------------------------------------------------------------------------------
// Missions, actions, indicators
// ---------------------------------------------------------------------------------------

enum class MissionKind { kUnspecified, kCore, kOptional };

struct Mission {
  std::string id{};
  std::string tenant_id{};
  int number = 0;  // 1..99, unique in the tenant
  std::string label{};
  std::string description{};
  MissionKind kind = MissionKind::kUnspecified;
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  int64_t version = 0;  // bumped by the store on every write; the etag derives from it
};

enum class ActionStatus { kUnspecified, kDraft, kActive, kSuspended, kDone };
enum class IndicatorKind { kUnspecified, kAction, kResult };
enum class IndicatorSource { kUnspecified, kManual, kAccessMt, kAccessSnp, kMeetings };

struct YearlyTarget {
  int year = 0;
  int64_t target = 0;
  bool operator==(const YearlyTarget&) const = default;
};

struct Indicator {
  std::string id{};
  std::string name{};
  IndicatorKind kind = IndicatorKind::kUnspecified;
  std::string unit{};
  IndicatorSource source = IndicatorSource::kUnspecified;
  std::vector<YearlyTarget> targets{};  // ascending by year, at most one per year
};

struct Milestone {
  std::string label{};
  absl::CivilDay date{};
  bool operator==(const Milestone&) const = default;
};

struct Action {
  std::string id{};
  std::string tenant_id{};
  std::string mission_id{};
  std::string title{};
  std::string context{};
  std::string general_objective{};
  std::vector<std::string> specific_objectives{};
  std::vector<std::string> partners{};
  std::string expected_results{};
  std::vector<Milestone> calendar{};
  ActionStatus status = ActionStatus::kDraft;
  std::vector<Indicator> indicators{};
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  int64_t version = 0;
};

// A value of an indicator for a year (month 0) or one month of it.
struct IndicatorValue {
  std::string id{};
  std::string action_id{};
  std::string indicator_id{};
  int year = 0;
  int month = 0;  // 0 = the whole year
  int64_t value = 0;
  IndicatorSource source = IndicatorSource::kManual;
  std::string recorded_by{};
  absl::Time record_time = absl::InfinitePast();
};

// ---------------------------------------------------------------------------------------
// Working groups
// ---------------------------------------------------------------------------------------

struct WorkingGroup {
  std::string id{};
  std::string tenant_id{};
  std::string name{};
  std::string description{};
  std::vector<std::string> action_ids{};  // 1..20; the first is the default of meetings
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  int64_t version = 0;
};

enum class GroupRole { kUnspecified, kCoordinator, kReferent, kActiveMember, kGuest };
enum class ParticipantState { kUnspecified, kActive, kLeft };

struct GroupParticipant {
  std::string id{};
  std::string group_id{};
  std::string member_id{};  // empty only for a guest who is not a member
  std::string guest_name{};
  std::string guest_organization{};
  GroupRole role = GroupRole::kUnspecified;
  ParticipantState state = ParticipantState::kActive;
  absl::Time join_time = absl::InfinitePast();
  std::optional<absl::Time> leave_time{};
};

enum class JoinRequestState { kUnspecified, kPending, kAccepted, kRefused };

struct JoinRequest {
  std::string id{};
  std::string group_id{};
  std::string member_id{};
  std::string message{};
  JoinRequestState state = JoinRequestState::kPending;
  std::string decided_by{};
  std::string decision_reason{};
  absl::Time create_time = absl::InfinitePast();
  std::optional<absl::Time> decide_time{};
};

enum class TaskStatus { kUnspecified, kTodo, kInProgress, kDone, kCancelled };

struct Task {
  std::string id{};
  std::string group_id{};
  std::string title{};
  std::string description{};
  std::vector<std::string> assignee_participant_ids{};
  std::optional<absl::CivilDay> due_date{};
  TaskStatus status = TaskStatus::kTodo;
  std::string created_by{};
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  int64_t version = 0;
};

struct Document {
  std::string id{};
  std::string group_id{};
  std::string title{};
  std::string url{};          // exactly one of url and storage_key
  std::string storage_key{};  //
  std::string version_label{};
  std::string author_member_id{};
  std::string author_subject{};
  absl::Time create_time = absl::InfinitePast();
};

// ---------------------------------------------------------------------------------------
// Meetings
// ---------------------------------------------------------------------------------------

enum class MeetingState { kUnspecified, kScheduled, kCancelled };

// Where a meeting takes place: exactly one of the two is set.
struct MeetingLocation {
  std::string place{};
  std::string video_link{};
  bool operator==(const MeetingLocation&) const = default;
};

struct Minutes {
  std::string text{};
  std::string document_id{};
  std::string author_subject{};
  absl::Time attach_time = absl::InfinitePast();
};

struct Meeting {
  std::string id{};
  std::string tenant_id{};
  std::string group_id{};
  std::string action_id{};
  absl::Time start_time = absl::InfinitePast();
  absl::Time end_time = absl::InfinitePast();
  MeetingLocation location{};
  std::string agenda{};
  MeetingState state = MeetingState::kScheduled;
  std::string cancel_reason{};
  std::optional<Minutes> minutes{};
  absl::Time create_time = absl::InfinitePast();
  absl::Time update_time = absl::InfinitePast();
  int64_t version = 0;
};

enum class ReplyKind { kUnspecified, kAttending, kExcused };

struct MeetingReply {
  std::string meeting_id{};
  std::string participant_id{};
  ReplyKind kind = ReplyKind::kUnspecified;
  bool late = false;  // an excuse less than 48 hours before the start
  std::string reason{};
  absl::Time reply_time = absl::InfinitePast();
};

// ---------------------------------------------------------------------------------------
// Attendance sheets and the entitlement events they produce
// ---------------------------------------------------------------------------------------

enum class SheetState { kUnspecified, kOpen, kRecorded, kClosed, kAmended };
enum class AttendanceStatus { kUnspecified, kPresent, kExcused, kExcusedLate, kAbsent };

struct AttendanceLine {
  std::string participant_id{};
  std::string member_id{};
  GroupRole role = GroupRole::kUnspecified;
  AttendanceStatus status = AttendanceStatus::kUnspecified;
  int minutes_worked = 0;
  // The sheet version whose entitlement event is in force for this line; 0 = none.
  int entitled_version = 0;
  bool operator==(const AttendanceLine&) const = default;
};

struct AttendanceAmendment {
  int version = 0;
  std::string reason{};
  std::string amended_by{};
  absl::Time amend_time = absl::InfinitePast();
};

struct AttendanceSheet {
  std::string tenant_id{};
  std::string meeting_id{};
  std::string group_id{};
  SheetState state = SheetState::kOpen;
  int version = 0;                      // 0 until closed, then 1, +1 per amendment
  std::vector<AttendanceLine> lines{};  // ordered by participant_id
  bool hourly = false;  // paid by the hour (the tenant's setting when first recorded)
  std::string closed_by{};
  std::optional<absl::Time> close_time{};
  std::vector<AttendanceAmendment> amendments{};
  int64_t revision = 0;  // bumped by the store on every write; the etag derives from it
};

enum class EntitlementRole { kUnspecified, kReferent, kMember, kGuest, kStaff };

// The payload of cpts.projects.v1.AttendanceEntitlementEvent.
struct EntitlementEvent {
  std::string tenant_id{};
  std::string idempotency_key{};
  std::string meeting_id{};
  std::string group_id{};
  std::string action_id{};
  std::string participant_id{};
  std::string member_id{};
  EntitlementRole role = EntitlementRole::kUnspecified;
  bool present = false;
  int minutes_worked = 0;
  absl::CivilDay meeting_date{};
  int sheet_version = 0;
  bool correction = false;
  bool reversal = false;
  bool indemnifiable = false;
  bool operator==(const EntitlementEvent&) const = default;
};

// ---------------------------------------------------------------------------------------
// Tenant settings
// ---------------------------------------------------------------------------------------

enum class AttendancePayment { kUnspecified, kPerMeeting, kPerHour };

// What varies between CPTS in the rules of this service (DOMAIN.md: a rule that varies is a
// per-tenant setting). settings.h has the defaults and the checks.
struct ProjectSettings {
  std::string tenant_id{};
  std::string time_zone{};  // IANA name
  AttendancePayment attendance_payment = AttendancePayment::kUnspecified;
  absl::Time update_time = absl::InfinitePast();  // never changed: the defaults
  std::string updated_by{};
  int64_t version = 0;  // 0 for the defaults, +1 on every change; the etag derives from it
};

// ---------------------------------------------------------------------------------------
// Names for messages and logs (the enumerator names of the proto, without the prefix).
// ---------------------------------------------------------------------------------------

absl::string_view ActionStatusName(ActionStatus status);
absl::string_view GroupRoleName(GroupRole role);
absl::string_view JoinRequestStateName(JoinRequestState state);
absl::string_view MeetingStateName(MeetingState state);
absl::string_view SheetStateName(SheetState state);
absl::string_view AttendanceStatusName(AttendanceStatus status);
absl::string_view AttendancePaymentName(AttendancePayment payment);

}  // namespace cpts::projects
