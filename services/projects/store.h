#pragma once

// Repository interfaces of the projects domain, one per aggregate. Implemented by
// MysqlProjectsStore (mysql_store.h).
//
// Common contract, as in services/membership/store.h:
// - Every method takes the tenant id and never sees another tenant's rows; a record of
//   another tenant is NotFound, exactly like a missing one. Every table and index leads with
//   tenant_id.
// - Errors: NotFound, AlreadyExists (a uniqueness rule: mission number, indicator name within
//   an action, one pending join request per member and group, one current participation per
//   member and group), Aborted (a concurrent transaction won: re-read and retry),
//   Unavailable (database unreachable), Internal. A status returned by a callback is returned
//   unchanged and nothing is written.
// - `mutate` callbacks run inside the transaction, after the rows they receive were read
//   FOR UPDATE; they are the pure domain functions (group_roles.h, meeting_rules.h,
//   attendance.h, indicators.h) and do no I/O.
// - Mutable records carry `version` (sheets: `revision`): 1 on create, +1 on every write.
//   The application compares it with the client's etag inside `mutate` (stale: Aborted).
// - Time: the store never reads a clock; the domain sets every time field.
// - Idempotent creates take an optional IdempotencyKey with the semantics of membership's
//   (same key and fingerprint: replay, nothing written; other fingerprint: InvalidArgument).

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
#include "services/projects/model.h"

namespace cpts::projects {

struct IdempotencyKey {
  std::string scope{};        // the operation, e.g. "ScheduleMeeting"
  std::string request_id{};   // chosen by the client
  std::string fingerprint{};  // digest of the normalised request, computed by the domain
};

template <typename T>
struct CreateResult {
  T value{};
  bool replayed = false;  // true: `value` was created by an earlier call with the same key
};

// One append-only audit row of a workflow step (join decisions, role changes, attendance
// closes and amendments), written in the transaction of the change.
struct AuditEntry {
  std::string tenant_id{};
  std::string subject_kind{};  // "meeting", "group", "join_request", ...
  std::string subject_id{};
  std::string action{};  // e.g. "ATTENDANCE_AMENDED"
  std::string actor{};   // caller's subject
  absl::Time time = absl::InfinitePast();
  std::string reason{};
  std::string details{};  // machine-readable summary
};

// ---------------------------------------------------------------------------------------

class SettingsRepository {
 public:
  virtual ~SettingsRepository() = default;

  // The tenant's settings, or nullopt when they were never changed (the application then
  // applies settings.h DefaultSettings).
  virtual absl::StatusOr<std::optional<ProjectSettings>> GetSettings(
      absl::string_view tenant_id) = 0;

  // Reads the tenant's settings FOR UPDATE (`defaults`, version 0, when none are stored; two
  // concurrent first changes are serialised all the same), applies `mutate`, and writes them
  // (version + 1) with `audit` in one transaction.
  virtual absl::StatusOr<ProjectSettings> UpdateSettings(
      absl::string_view tenant_id, const ProjectSettings& defaults,
      absl::FunctionRef<absl::Status(ProjectSettings&)> mutate, AuditEntry audit) = 0;
};

class MissionRepository {
 public:
  virtual ~MissionRepository() = default;

  // All missions of the tenant by number. When the tenant has none yet, inserts `seed`
  // (missions_catalog.h DefaultMissions with ids and times set by the caller) in the same
  // transaction first, so two concurrent first calls seed once.
  virtual absl::StatusOr<std::vector<Mission>> ListOrSeedMissions(
      absl::string_view tenant_id, const std::vector<Mission>& seed) = 0;

  // AlreadyExists when the number is taken.
  virtual absl::StatusOr<CreateResult<Mission>> CreateMission(const Mission& mission,
                                                              const IdempotencyKey* key) = 0;

  // Reads FOR UPDATE, applies `mutate`, writes back. AlreadyExists when the new number is
  // taken.
  virtual absl::StatusOr<Mission> UpdateMission(
      absl::string_view tenant_id, absl::string_view mission_id,
      absl::FunctionRef<absl::Status(Mission&)> mutate) = 0;
};

class ActionRepository {
 public:
  virtual ~ActionRepository() = default;

  // Inserts the action with its indicators (the store assigns indicator ids). NotFound when
  // the mission does not exist.
  virtual absl::StatusOr<CreateResult<Action>> CreateAction(const Action& action,
                                                            const IdempotencyKey* key) = 0;

  // The action with its indicators and targets.
  virtual absl::StatusOr<Action> GetAction(absl::string_view tenant_id,
                                           absl::string_view action_id) = 0;

  // Up to `limit` actions (of `mission_id` when not empty, in `status` unless unspecified)
  // with (mission number, title, id) after `after` (keyset), in that order.
  struct Cursor {
    int mission_number = 0;
    std::string title{};
    std::string id{};
  };
  virtual absl::StatusOr<std::vector<Action>> ListActions(absl::string_view tenant_id,
                                                          absl::string_view mission_id,
                                                          ActionStatus status,
                                                          const std::optional<Cursor>& after,
                                                          int limit) = 0;

  // Reads the action and its indicators FOR UPDATE, applies `mutate` (fields, status,
  // indicators and targets), writes everything back; new indicators (empty id) get ids.
  virtual absl::StatusOr<Action> UpdateAction(absl::string_view tenant_id,
                                              absl::string_view action_id,
                                              absl::FunctionRef<absl::Status(Action&)> mutate) = 0;

  // Upserts the value of (indicator, year, month): a second value for the same period
  // replaces the first. NotFound when the indicator is not one of the action's.
  virtual absl::StatusOr<CreateResult<IndicatorValue>> RecordValue(absl::string_view tenant_id,
                                                                   const IndicatorValue& value,
                                                                   const IdempotencyKey* key) = 0;

  // The values of the action's indicators for `year`, by indicator id then month.
  virtual absl::StatusOr<std::vector<IndicatorValue>> ListValues(absl::string_view tenant_id,
                                                                 absl::string_view action_id,
                                                                 int year) = 0;

  // Every action of the tenant with its indicators, and every indicator value of `year`
  // (for the yearly report; a tenant has tens of actions, not thousands).
  virtual absl::StatusOr<std::vector<Action>> ListAllActions(absl::string_view tenant_id) = 0;
  virtual absl::StatusOr<std::vector<IndicatorValue>> ListAllValues(absl::string_view tenant_id,
                                                                    int year) = 0;
};

class GroupRepository {
 public:
  virtual ~GroupRepository() = default;

  // NotFound when one of the action ids does not exist.
  virtual absl::StatusOr<CreateResult<WorkingGroup>> CreateGroup(const WorkingGroup& group,
                                                                 const IdempotencyKey* key) = 0;
  virtual absl::StatusOr<WorkingGroup> GetGroup(absl::string_view tenant_id,
                                                absl::string_view group_id) = 0;
  // Groups (carrying `action_id` / with `member_id` as a current participant, when not
  // empty) with (name, id) after `after`, by (name, id).
  virtual absl::StatusOr<std::vector<WorkingGroup>> ListGroups(
      absl::string_view tenant_id, absl::string_view action_id, absl::string_view member_id,
      const std::optional<std::pair<std::string, std::string>>& after, int limit) = 0;
  virtual absl::StatusOr<WorkingGroup> UpdateGroup(
      absl::string_view tenant_id, absl::string_view group_id,
      absl::FunctionRef<absl::Status(WorkingGroup&)> mutate) = 0;

  // Every participation of the group, current and past (the roster), by id.
  virtual absl::StatusOr<std::vector<GroupParticipant>> ListParticipants(
      absl::string_view tenant_id, absl::string_view group_id) = 0;

  // One membership step of the group, atomically: reads the group's participants and (when
  // `join_request_id` is not empty) that join request FOR UPDATE, calls `mutate` with them,
  // then writes the participations `mutate` returns (empty id: insert with a new id; else
  // update) and the request, plus `audit`. Returns the written participations. This is what
  // keeps "one current participation per member" and "accept once" true under concurrency.
  struct Step {
    std::vector<GroupParticipant> upserts{};
    std::optional<JoinRequest> join_request{};  // insert (empty id) or update
    AuditEntry audit{};
  };
  virtual absl::StatusOr<std::vector<GroupParticipant>> ApplyStep(
      absl::string_view tenant_id, absl::string_view group_id, absl::string_view join_request_id,
      absl::FunctionRef<absl::StatusOr<Step>(const std::vector<GroupParticipant>&,
                                             const std::optional<JoinRequest>&)>
          mutate) = 0;

  virtual absl::StatusOr<JoinRequest> GetJoinRequest(absl::string_view tenant_id,
                                                     absl::string_view join_request_id) = 0;
  // Requests of the group (in `state` unless unspecified), newest first, keyset on
  // (create_time, id).
  virtual absl::StatusOr<std::vector<JoinRequest>> ListJoinRequests(
      absl::string_view tenant_id, absl::string_view group_id, JoinRequestState state,
      const std::optional<std::pair<absl::Time, std::string>>& before, int limit) = 0;
};

class TaskRepository {
 public:
  virtual ~TaskRepository() = default;
  virtual absl::StatusOr<CreateResult<Task>> CreateTask(absl::string_view tenant_id,
                                                        const Task& task,
                                                        const IdempotencyKey* key) = 0;
  virtual absl::StatusOr<Task> UpdateTask(absl::string_view tenant_id, absl::string_view task_id,
                                          absl::FunctionRef<absl::Status(Task&)> mutate) = 0;
  // Tasks of `group_id`, or assigned to `assignee_participant_id`, or to any participation
  // of `assignee_member_id` (the non-empty filters all apply), by (due date, nulls last, id).
  struct Filter {
    std::string group_id{};
    std::string assignee_participant_id{};
    std::string assignee_member_id{};
    TaskStatus status = TaskStatus::kUnspecified;
  };
  virtual absl::StatusOr<std::vector<Task>> ListTasks(absl::string_view tenant_id,
                                                      const Filter& filter,
                                                      absl::string_view after_token, int limit) = 0;
};

class DocumentRepository {
 public:
  virtual ~DocumentRepository() = default;
  virtual absl::StatusOr<CreateResult<Document>> CreateDocument(absl::string_view tenant_id,
                                                                const Document& document,
                                                                const IdempotencyKey* key) = 0;
  // Newest first, keyset on (create_time, id).
  virtual absl::StatusOr<std::vector<Document>> ListDocuments(
      absl::string_view tenant_id, absl::string_view group_id,
      const std::optional<std::pair<absl::Time, std::string>>& before, int limit) = 0;
};

class MeetingRepository {
 public:
  virtual ~MeetingRepository() = default;
  virtual absl::StatusOr<CreateResult<Meeting>> CreateMeeting(const Meeting& meeting,
                                                              const IdempotencyKey* key) = 0;
  virtual absl::StatusOr<Meeting> GetMeeting(absl::string_view tenant_id,
                                             absl::string_view meeting_id) = 0;
  struct Filter {
    std::string group_id{};
    std::optional<absl::Time> start_after{};
    std::optional<absl::Time> start_before{};
    MeetingState state = MeetingState::kUnspecified;
  };
  // By (start_time, id) after `after`.
  virtual absl::StatusOr<std::vector<Meeting>> ListMeetings(
      absl::string_view tenant_id, const Filter& filter,
      const std::optional<std::pair<absl::Time, std::string>>& after, int limit) = 0;
  // Reschedule, cancel, attach minutes.
  virtual absl::StatusOr<Meeting> UpdateMeeting(
      absl::string_view tenant_id, absl::string_view meeting_id,
      absl::FunctionRef<absl::Status(Meeting&)> mutate) = 0;

  // Upserts the reply of (meeting, participant): the last answer wins.
  virtual absl::Status PutReply(absl::string_view tenant_id, const MeetingReply& reply) = 0;
  // By participant id.
  virtual absl::StatusOr<std::vector<MeetingReply>> ListReplies(absl::string_view tenant_id,
                                                                absl::string_view meeting_id) = 0;
};

class AttendanceRepository {
 public:
  virtual ~AttendanceRepository() = default;

  // The stored sheet, or nullopt when nothing was recorded yet (the application then shows
  // attendance.h NewSheet).
  virtual absl::StatusOr<std::optional<AttendanceSheet>> GetSheet(absl::string_view tenant_id,
                                                                  absl::string_view meeting_id) = 0;

  // Reads the sheet FOR UPDATE (or starts from `initial` when none is stored), applies
  // `mutate` (RecordLines, CloseSheet or AmendSheet), and in ONE transaction writes the sheet
  // (revision + 1), `audit`, and each returned EntitlementEvent to the outbox as a
  // cpts.projects.v1.AttendanceEntitlementEvent keyed by its idempotency_key (a key already
  // in the outbox is not written twice). Either all of it is committed or nothing is.
  // With `key` (CloseAttendance, AmendAttendance): a replay of a committed mutation returns
  // the stored sheet without calling `mutate` and writes nothing.
  virtual absl::StatusOr<AttendanceSheet> MutateSheet(
      absl::string_view tenant_id, absl::string_view meeting_id, const AttendanceSheet& initial,
      absl::FunctionRef<absl::StatusOr<std::vector<EntitlementEvent>>(AttendanceSheet&)> mutate,
      AuditEntry audit, const IdempotencyKey* key) = 0;

  // Closed or amended sheets with their meetings, for the statistics and the report:
  // meetings of `group_id` (all groups when empty) whose start falls in
  // [`from`, `to`).
  struct HeldSheet {
    Meeting meeting{};
    AttendanceSheet sheet{};
  };
  virtual absl::StatusOr<std::vector<HeldSheet>> ListFinalSheets(absl::string_view tenant_id,
                                                                 absl::string_view group_id,
                                                                 absl::Time from,
                                                                 absl::Time to) = 0;

  // A member's lines across meetings, newest meeting first (participation history).
  virtual absl::StatusOr<std::vector<HeldSheet>> ListSheetsOfMember(
      absl::string_view tenant_id, absl::string_view member_id,
      const std::optional<std::pair<absl::Time, std::string>>& before, int limit) = 0;
};

// An outbox event the relay parked as dead (docs/outbox.md).
struct DeadEvent {
  int64_t id = 0;  // the outbox seq
  std::string topic{};
  std::string event_key{};
  int attempts = 0;
  std::string last_error{};  // as stored: not necessarily valid UTF-8
  absl::Time dead_time = absl::InfinitePast();
};

struct DeadEventPage {
  std::vector<DeadEvent> events{};  // by id
  int64_t next_after_id = 0;        // 0: last page
};

struct RequeueOutcome {
  std::vector<int64_t> requeued{};  // pending again
  std::vector<int64_t> not_dead{};  // asked for but not dead: untouched
};

// The tenant's rows of the platform outbox, for the coordinator's repairs.
class OutboxRepository {
 public:
  virtual ~OutboxRepository() = default;

  // Dead events with id > after_id, oldest first, at most `limit` (1 to 1000).
  virtual absl::StatusOr<DeadEventPage> ListDeadEvents(absl::string_view tenant_id, int limit,
                                                       int64_t after_id) = 0;

  // In one transaction: re-queues the dead events among `ids` (or, when `ids` is empty, every
  // dead event of `topic`) due at `now`, and writes `audit` with the outcome appended to its
  // details. NotFound, nothing written, for an id that is no event of the tenant.
  virtual absl::StatusOr<RequeueOutcome> RequeueEvents(absl::string_view tenant_id,
                                                       const std::vector<int64_t>& ids,
                                                       absl::string_view topic, absl::Time now,
                                                       AuditEntry audit) = 0;
};

}  // namespace cpts::projects
