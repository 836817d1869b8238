#pragma once

// The projects application service: one method per RPC of cpts.projects.v1.ProjectsService.
// Plain C++: the gRPC handlers (service.{h,cc}) convert proto <-> domain, call one method and
// map the returned status once.
//
// Every method:
// - takes the verified caller; the tenant always comes from caller.tenant_id;
// - validates through the domain (validators.h, group_roles.h, meeting_rules.h,
//   attendance.h, indicators.h) and answers InvalidArgument("<field>: ..."), PermissionDenied
//   (the data-dependent rules: référent of *this* group...), FailedPrecondition (the state
//   does not allow the step), Aborted (stale etag, compared inside the store's transaction);
// - checks "is this member ACTIVE today" with membership (MemberDirectory, the shared
//   client of services/membership/client/) where the domain needs it;
// - writes an audit entry with the workflow steps (join decisions, role changes, attendance).
// Idempotent creates take a RequestKey (request id + fingerprint of the request).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/membership/client/member_directory.h"
#include "services/platform/auth/principal.h"
#include "services/platform/core/clock.h"
#include "services/platform/core/ids.h"
#include "services/projects/attendance.h"
#include "services/projects/model.h"
#include "services/projects/report.h"
#include "services/projects/settings.h"
#include "services/projects/store.h"

namespace cpts::projects {

using Caller = platform::auth::Principal;

struct ProjectsDeps {
  SettingsRepository& settings;
  MissionRepository& missions;
  ActionRepository& actions;
  GroupRepository& groups;
  TaskRepository& tasks;
  DocumentRepository& documents;
  MeetingRepository& meetings;
  AttendanceRepository& attendance;
  OutboxRepository& outbox;
  membership::client::MemberDirectory& members;
  const platform::Clock& clock;
  platform::IdGenerator& ids;
};

// An optional idempotency key: empty request_id = none.
struct RequestKey {
  std::string request_id{};
  std::string fingerprint{};
};

template <typename T>
struct Page {
  std::vector<T> items{};
  std::string next_page_token{};
};

struct ParticipationEntry {
  std::string meeting_id{};
  std::string group_id{};
  absl::Time start_time = absl::InfinitePast();
  ReplyKind reply = ReplyKind::kUnspecified;
  AttendanceStatus attendance = AttendanceStatus::kUnspecified;
  int minutes_worked = 0;
};

struct MeetingQuery {
  std::string group_id{};
  std::optional<absl::Time> start_after{};
  std::optional<absl::Time> start_before{};
  MeetingState state = MeetingState::kUnspecified;
  int page_size = 0;
  std::string page_token{};
};

struct TaskQuery {
  std::string group_id{};
  std::string assignee_participant_id{};
  std::string assignee_member_id{};
  TaskStatus status = TaskStatus::kUnspecified;
  int page_size = 0;
  std::string page_token{};
};

class Projects {
 public:
  explicit Projects(ProjectsDeps deps) : d_(deps) {}

  // Settings: the tenant's time zone and attendance payment, read by the calls that need
  // them (meeting dates, calendar years, hourly sheets). A sheet keeps the payment in force
  // when it was first recorded.
  absl::StatusOr<ProjectSettings> GetProjectSettings(const Caller& caller);
  absl::StatusOr<ProjectSettings> UpdateProjectSettings(const Caller& caller,
                                                        const ProjectSettings& settings,
                                                        const std::vector<std::string>& mask,
                                                        absl::string_view etag);

  // Missions
  absl::StatusOr<std::vector<Mission>> ListMissions(const Caller& caller);
  absl::StatusOr<Mission> CreateMission(const Caller& caller, Mission mission,
                                        const RequestKey& key);
  absl::StatusOr<Mission> UpdateMission(const Caller& caller, const Mission& mission,
                                        const std::vector<std::string>& mask,
                                        absl::string_view etag);

  // Actions and indicators
  absl::StatusOr<Action> CreateAction(const Caller& caller, Action action, const RequestKey& key);
  absl::StatusOr<Action> GetAction(const Caller& caller, absl::string_view action_id);
  absl::StatusOr<Page<Action>> ListActions(const Caller& caller, absl::string_view mission_id,
                                           ActionStatus status, int page_size,
                                           absl::string_view page_token);
  absl::StatusOr<Action> UpdateAction(const Caller& caller, const Action& action,
                                      const std::vector<std::string>& mask, absl::string_view etag);
  absl::StatusOr<Action> ChangeActionStatus(const Caller& caller, absl::string_view action_id,
                                            ActionStatus status, absl::string_view reason,
                                            absl::string_view etag);
  absl::StatusOr<Action> CreateIndicator(const Caller& caller, absl::string_view action_id,
                                         Indicator indicator);
  absl::StatusOr<Action> UpdateIndicator(const Caller& caller, absl::string_view action_id,
                                         const Indicator& indicator,
                                         const std::vector<std::string>& mask,
                                         absl::string_view etag);
  absl::StatusOr<std::pair<Action, int>> CopyIndicatorTargets(const Caller& caller,
                                                              absl::string_view action_id,
                                                              int from_year, int to_year);
  absl::StatusOr<IndicatorValue> RecordIndicatorValue(const Caller& caller, IndicatorValue value,
                                                      const RequestKey& key);
  absl::StatusOr<std::vector<IndicatorValue>> ListIndicatorValues(const Caller& caller,
                                                                  absl::string_view action_id,
                                                                  int year);

  // Working groups
  absl::StatusOr<WorkingGroup> CreateWorkingGroup(const Caller& caller, WorkingGroup group,
                                                  const RequestKey& key);
  absl::StatusOr<WorkingGroup> GetWorkingGroup(const Caller& caller, absl::string_view group_id);
  absl::StatusOr<Page<WorkingGroup>> ListWorkingGroups(const Caller& caller,
                                                       absl::string_view action_id,
                                                       absl::string_view member_id, int page_size,
                                                       absl::string_view page_token);
  absl::StatusOr<WorkingGroup> UpdateWorkingGroup(const Caller& caller, const WorkingGroup& group,
                                                  const std::vector<std::string>& mask,
                                                  absl::string_view etag);
  absl::StatusOr<Page<GroupParticipant>> ListGroupParticipants(const Caller& caller,
                                                               absl::string_view group_id,
                                                               ParticipantState state,
                                                               int page_size,
                                                               absl::string_view page_token);
  absl::StatusOr<GroupParticipant> AddGroupParticipant(const Caller& caller,
                                                       absl::string_view group_id,
                                                       GroupParticipant participant,
                                                       GroupRole role);
  absl::StatusOr<JoinRequest> RequestToJoin(const Caller& caller, absl::string_view group_id,
                                            absl::string_view message);
  absl::StatusOr<std::pair<JoinRequest, GroupParticipant>> AcceptJoin(
      const Caller& caller, absl::string_view join_request_id, absl::string_view reason);
  absl::StatusOr<JoinRequest> RefuseJoin(const Caller& caller, absl::string_view join_request_id,
                                         absl::string_view reason);
  absl::StatusOr<Page<JoinRequest>> ListJoinRequests(const Caller& caller,
                                                     absl::string_view group_id,
                                                     JoinRequestState state, int page_size,
                                                     absl::string_view page_token);
  absl::StatusOr<GroupParticipant> LeaveGroup(const Caller& caller, absl::string_view group_id);
  absl::StatusOr<GroupParticipant> AppointReferent(const Caller& caller, absl::string_view group_id,
                                                   absl::string_view participant_id);
  absl::StatusOr<GroupParticipant> StepDown(const Caller& caller, absl::string_view group_id,
                                            absl::string_view participant_id);

  // Tasks and documents
  absl::StatusOr<Task> CreateTask(const Caller& caller, Task task, const RequestKey& key);
  absl::StatusOr<Task> UpdateTask(const Caller& caller, const Task& task,
                                  const std::vector<std::string>& mask, absl::string_view etag);
  absl::StatusOr<Page<Task>> ListTasks(const Caller& caller, const TaskQuery& query);
  absl::StatusOr<Document> CreateDocument(const Caller& caller, Document document,
                                          const RequestKey& key);
  absl::StatusOr<Page<Document>> ListDocuments(const Caller& caller, absl::string_view group_id,
                                               int page_size, absl::string_view page_token);

  // Meetings
  absl::StatusOr<Meeting> ScheduleMeeting(const Caller& caller, Meeting meeting,
                                          const RequestKey& key);
  absl::StatusOr<Meeting> GetMeeting(const Caller& caller, absl::string_view meeting_id);
  absl::StatusOr<Page<Meeting>> ListMeetings(const Caller& caller, const MeetingQuery& query);
  absl::StatusOr<Meeting> RescheduleMeeting(const Caller& caller, absl::string_view meeting_id,
                                            absl::Time start, absl::Time end,
                                            const std::optional<MeetingLocation>& location,
                                            absl::string_view etag);
  absl::StatusOr<Meeting> CancelMeeting(const Caller& caller, absl::string_view meeting_id,
                                        absl::string_view reason, absl::string_view etag);
  absl::StatusOr<Meeting> AttachMinutes(const Caller& caller, absl::string_view meeting_id,
                                        Minutes minutes);
  absl::StatusOr<MeetingReply> ReplyToMeeting(const Caller& caller, absl::string_view meeting_id,
                                              ReplyKind kind, absl::string_view reason);
  absl::StatusOr<std::vector<MeetingReply>> ListMeetingReplies(const Caller& caller,
                                                               absl::string_view meeting_id);

  // Attendance
  absl::StatusOr<AttendanceSheet> GetAttendanceSheet(const Caller& caller,
                                                     absl::string_view meeting_id);
  absl::StatusOr<AttendanceSheet> RecordAttendance(const Caller& caller,
                                                   absl::string_view meeting_id,
                                                   const std::vector<AttendanceLine>& lines,
                                                   absl::string_view etag);
  // A retry with the same request id (and request) returns the sheet as it is, writing
  // nothing: no second close, no second amendment, no second event.
  absl::StatusOr<AttendanceSheet> CloseAttendance(const Caller& caller,
                                                  absl::string_view meeting_id,
                                                  absl::string_view etag, const RequestKey& key);
  absl::StatusOr<AttendanceSheet> AmendAttendance(const Caller& caller,
                                                  absl::string_view meeting_id,
                                                  const std::vector<AttendanceLine>& lines,
                                                  absl::string_view reason, absl::string_view etag,
                                                  const RequestKey& key);

  // Reports
  absl::StatusOr<Page<ParticipationEntry>> ListParticipationHistory(
      const Caller& caller, absl::string_view member_id, std::optional<absl::Time> start_after,
      int page_size, absl::string_view page_token);
  absl::StatusOr<AttendanceStats> GetGroupAttendanceStats(const Caller& caller,
                                                          absl::string_view group_id, int year);
  absl::StatusOr<ProjectReport> GetProjectReport(const Caller& caller, int year);

  // Outbox repairs (coordinator): the events the relay parked as dead, oldest first, and
  // their re-queueing, by ids or all of a topic (see ValidateRequeueTarget), audited.
  absl::StatusOr<Page<DeadEvent>> ListDeadOutboxEvents(const Caller& caller, int page_size,
                                                       absl::string_view page_token);
  absl::StatusOr<RequeueOutcome> RequeueOutboxEvents(const Caller& caller,
                                                     const std::vector<int64_t>& ids,
                                                     absl::string_view topic,
                                                     absl::string_view reason);

 private:
  struct GroupView {
    WorkingGroup group;
    std::vector<GroupParticipant> participants;
  };
  absl::StatusOr<GroupView> LoadGroup(const Caller& caller, absl::string_view group_id);
  // Changes meeting `meeting_id` as a manager of its group: `change` gets the meeting and the
  // time now, then the update time is set to it.
  absl::StatusOr<Meeting> ManageMeeting(
      const Caller& caller, absl::string_view meeting_id,
      absl::FunctionRef<absl::Status(Meeting&, absl::Time)> change);
  absl::Status RequireCoordinator(const Caller& caller, absl::string_view what) const;
  absl::Status RequireGroupReader(const Caller& caller,
                                  const std::vector<GroupParticipant>& participants) const;
  absl::StatusOr<bool> MemberActive(const Caller& caller, absl::string_view member_id);
  // A group step with the membership check of `member_id` done first.
  absl::StatusOr<std::vector<GroupParticipant>> ApplyStep(
      const Caller& caller, absl::string_view group_id, absl::string_view join_request_id,
      absl::FunctionRef<absl::StatusOr<GroupRepository::Step>(const std::vector<GroupParticipant>&,
                                                              const std::optional<JoinRequest>&)>
          mutate);
  // A group step writing the one participant `change` makes from the current ones, audited as
  // `audit_action` on the group with `audit_details` (default: the participant's id).
  absl::StatusOr<GroupParticipant> WriteParticipant(
      const Caller& caller, absl::string_view group_id, absl::string_view audit_action,
      absl::Time now,
      absl::FunctionRef<absl::StatusOr<GroupParticipant>(const std::vector<GroupParticipant>&)>
          change,
      absl::string_view audit_details = "");
  // Changes the sheet of `meeting_id` as a manager of its group: `mutate` gets the meeting,
  // the group's roster and the tenant's rules.
  absl::StatusOr<AttendanceSheet> MutateSheet(
      const Caller& caller, absl::string_view meeting_id, absl::string_view audit_action,
      absl::string_view reason,
      absl::FunctionRef<absl::StatusOr<std::vector<EntitlementEvent>>(
          const Meeting&, const std::vector<GroupParticipant>&, const TenantRules&,
          AttendanceSheet&)>
          mutate,
      const IdempotencyKey* key = nullptr);
  // What the tenant's settings make of the rules (time zone, hourly sheets).
  absl::StatusOr<TenantRules> RulesFor(const Caller& caller);

  ProjectsDeps d_;
};

}  // namespace cpts::projects
