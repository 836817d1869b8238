#pragma once

// The MySQL (MariaDB) implementation of every repository of store.h, over the schema of
// migrations/ (embedded as cpts::projects::Migrations(), see migrations.h).
//
// How it keeps the contracts of store.h:
// - Every mutation runs in platform::db::RunInTransaction: the rows a callback sees are read
//   with SELECT ... FOR UPDATE (a group step and a sheet mutation first lock the group or the
//   meeting row, which serialises concurrent steps on the same group or sheet), and the
//   write-back is `version = version + 1 WHERE version = ?`.
// - Audit entries go to the platform's audit_log (resource_type = AuditEntry::subject_kind,
//   action "projects.<action>") on the same connection, so they commit with the change.
// - MutateSheet writes the sheet, its audit row and one outbox event per EntitlementEvent
//   (topic kAttendanceTopic, event_key = the event's idempotency_key, payload = the
//   serialized cpts.projects.v1.AttendanceEntitlementEvent) in one transaction; an event key
//   already in the outbox is skipped.
// - Uniqueness rules are unique keys (mission number, indicator name per action, value per
//   period, one pending join request and one current participation per member and group,
//   idempotency keys): a violation is AlreadyExists naming the rule.
// - Idempotency keys live in `idempotency_keys`, written in the creating transaction.
// This header includes no connector header: only mysql_store.cc sees <cppconn/...>.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/platform/core/ids.h"
#include "services/platform/db/migrations.h"
#include "services/projects/store.h"

namespace cpts::platform::db {
class ConnectionPool;
}  // namespace cpts::platform::db

namespace cpts::projects {

// The outbox topic of attendance entitlement events (consumer: finance).
inline constexpr char kAttendanceTopic[] = "finance.attendance";

// The schema migrations of the projects service (component "projects").
platform::db::MigrationSet Migrations();

class MysqlProjectsStore final : public SettingsRepository,
                                 public MissionRepository,
                                 public ActionRepository,
                                 public GroupRepository,
                                 public TaskRepository,
                                 public DocumentRepository,
                                 public MeetingRepository,
                                 public AttendanceRepository,
                                 public OutboxRepository {
 public:
  // `pool` connects to a schema migrated with {PlatformMigrations(), Migrations()}; `ids`
  // names the rows the store creates itself (indicators, participations, join requests,
  // values). Both must outlive the store. Thread-safe.
  MysqlProjectsStore(platform::db::ConnectionPool& pool, platform::IdGenerator& ids)
      : pool_(pool), ids_(ids) {}
  MysqlProjectsStore(const MysqlProjectsStore&) = delete;
  MysqlProjectsStore& operator=(const MysqlProjectsStore&) = delete;

  // SettingsRepository
  absl::StatusOr<std::optional<ProjectSettings>> GetSettings(absl::string_view tenant_id) override;
  absl::StatusOr<ProjectSettings> UpdateSettings(
      absl::string_view tenant_id, const ProjectSettings& defaults,
      absl::FunctionRef<absl::Status(ProjectSettings&)> mutate, AuditEntry audit) override;

  // MissionRepository
  absl::StatusOr<std::vector<Mission>> ListOrSeedMissions(
      absl::string_view tenant_id, const std::vector<Mission>& seed) override;
  absl::StatusOr<CreateResult<Mission>> CreateMission(const Mission& mission,
                                                      const IdempotencyKey* key) override;
  absl::StatusOr<Mission> UpdateMission(absl::string_view tenant_id, absl::string_view mission_id,
                                        absl::FunctionRef<absl::Status(Mission&)> mutate) override;

  // ActionRepository
  absl::StatusOr<CreateResult<Action>> CreateAction(const Action& action,
                                                    const IdempotencyKey* key) override;
  absl::StatusOr<Action> GetAction(absl::string_view tenant_id,
                                   absl::string_view action_id) override;
  absl::StatusOr<std::vector<Action>> ListActions(absl::string_view tenant_id,
                                                  absl::string_view mission_id, ActionStatus status,
                                                  const std::optional<Cursor>& after,
                                                  int limit) override;
  absl::StatusOr<Action> UpdateAction(absl::string_view tenant_id, absl::string_view action_id,
                                      absl::FunctionRef<absl::Status(Action&)> mutate) override;
  absl::StatusOr<CreateResult<IndicatorValue>> RecordValue(absl::string_view tenant_id,
                                                           const IndicatorValue& value,
                                                           const IdempotencyKey* key) override;
  absl::StatusOr<std::vector<IndicatorValue>> ListValues(absl::string_view tenant_id,
                                                         absl::string_view action_id,
                                                         int year) override;
  absl::StatusOr<std::vector<Action>> ListAllActions(absl::string_view tenant_id) override;
  absl::StatusOr<std::vector<IndicatorValue>> ListAllValues(absl::string_view tenant_id,
                                                            int year) override;

  // GroupRepository
  absl::StatusOr<CreateResult<WorkingGroup>> CreateGroup(const WorkingGroup& group,
                                                         const IdempotencyKey* key) override;
  absl::StatusOr<WorkingGroup> GetGroup(absl::string_view tenant_id,
                                        absl::string_view group_id) override;
  absl::StatusOr<std::vector<WorkingGroup>> ListGroups(
      absl::string_view tenant_id, absl::string_view action_id, absl::string_view member_id,
      const std::optional<std::pair<std::string, std::string>>& after, int limit) override;
  absl::StatusOr<WorkingGroup> UpdateGroup(
      absl::string_view tenant_id, absl::string_view group_id,
      absl::FunctionRef<absl::Status(WorkingGroup&)> mutate) override;
  absl::StatusOr<std::vector<GroupParticipant>> ListParticipants(
      absl::string_view tenant_id, absl::string_view group_id) override;
  // As store.h, and: a participation or join request with an id that was not read is
  // inserted with that id (the application may choose ids).
  absl::StatusOr<std::vector<GroupParticipant>> ApplyStep(
      absl::string_view tenant_id, absl::string_view group_id, absl::string_view join_request_id,
      absl::FunctionRef<absl::StatusOr<Step>(const std::vector<GroupParticipant>&,
                                             const std::optional<JoinRequest>&)>
          mutate) override;
  absl::StatusOr<JoinRequest> GetJoinRequest(absl::string_view tenant_id,
                                             absl::string_view join_request_id) override;
  absl::StatusOr<std::vector<JoinRequest>> ListJoinRequests(
      absl::string_view tenant_id, absl::string_view group_id, JoinRequestState state,
      const std::optional<std::pair<absl::Time, std::string>>& before, int limit) override;

  // TaskRepository. `after_token` is the id of the last task of the previous page.
  absl::StatusOr<CreateResult<Task>> CreateTask(absl::string_view tenant_id, const Task& task,
                                                const IdempotencyKey* key) override;
  absl::StatusOr<Task> UpdateTask(absl::string_view tenant_id, absl::string_view task_id,
                                  absl::FunctionRef<absl::Status(Task&)> mutate) override;
  absl::StatusOr<std::vector<Task>> ListTasks(absl::string_view tenant_id,
                                              const TaskRepository::Filter& filter,
                                              absl::string_view after_token, int limit) override;

  // DocumentRepository
  absl::StatusOr<CreateResult<Document>> CreateDocument(absl::string_view tenant_id,
                                                        const Document& document,
                                                        const IdempotencyKey* key) override;
  absl::StatusOr<std::vector<Document>> ListDocuments(
      absl::string_view tenant_id, absl::string_view group_id,
      const std::optional<std::pair<absl::Time, std::string>>& before, int limit) override;

  // MeetingRepository
  absl::StatusOr<CreateResult<Meeting>> CreateMeeting(const Meeting& meeting,
                                                      const IdempotencyKey* key) override;
  absl::StatusOr<Meeting> GetMeeting(absl::string_view tenant_id,
                                     absl::string_view meeting_id) override;
  absl::StatusOr<std::vector<Meeting>> ListMeetings(
      absl::string_view tenant_id, const MeetingRepository::Filter& filter,
      const std::optional<std::pair<absl::Time, std::string>>& after, int limit) override;
  absl::StatusOr<Meeting> UpdateMeeting(absl::string_view tenant_id, absl::string_view meeting_id,
                                        absl::FunctionRef<absl::Status(Meeting&)> mutate) override;
  absl::Status PutReply(absl::string_view tenant_id, const MeetingReply& reply) override;
  absl::StatusOr<std::vector<MeetingReply>> ListReplies(absl::string_view tenant_id,
                                                        absl::string_view meeting_id) override;

  // AttendanceRepository
  absl::StatusOr<std::optional<AttendanceSheet>> GetSheet(absl::string_view tenant_id,
                                                          absl::string_view meeting_id) override;
  absl::StatusOr<AttendanceSheet> MutateSheet(
      absl::string_view tenant_id, absl::string_view meeting_id, const AttendanceSheet& initial,
      absl::FunctionRef<absl::StatusOr<std::vector<EntitlementEvent>>(AttendanceSheet&)> mutate,
      AuditEntry audit, const IdempotencyKey* key) override;
  absl::StatusOr<std::vector<HeldSheet>> ListFinalSheets(absl::string_view tenant_id,
                                                         absl::string_view group_id,
                                                         absl::Time from, absl::Time to) override;
  absl::StatusOr<std::vector<HeldSheet>> ListSheetsOfMember(
      absl::string_view tenant_id, absl::string_view member_id,
      const std::optional<std::pair<absl::Time, std::string>>& before, int limit) override;

  // OutboxRepository
  absl::StatusOr<DeadEventPage> ListDeadEvents(absl::string_view tenant_id, int limit,
                                               int64_t after_id) override;
  absl::StatusOr<RequeueOutcome> RequeueEvents(absl::string_view tenant_id,
                                               const std::vector<int64_t>& ids,
                                               absl::string_view topic, absl::Time now,
                                               AuditEntry audit) override;

 private:
  platform::db::ConnectionPool& pool_;
  platform::IdGenerator& ids_;
};

}  // namespace cpts::projects
