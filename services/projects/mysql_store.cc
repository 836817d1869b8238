#include "services/projects/mysql_store.h"

#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cpts/projects/v1/events.pb.h"
#include "services/platform/core/status_macros.h"
#include "services/platform/db/audit_log.h"
#include "services/platform/db/connection_pool.h"
#include "services/platform/db/idempotency.h"
#include "services/platform/db/outbox.h"
#include "services/platform/db/sql_errors.h"
#include "services/platform/db/sql_values.h"
#include "services/platform/db/transaction.h"
#include "services/projects/convert.h"

namespace cpts::projects {
namespace {

using platform::db::Binder;
using platform::db::Connection;
using platform::db::ConnectionPool;
using platform::db::IsFinite;
using platform::db::MapDuplicate;
using platform::db::MapSqlException;
using platform::db::NotFound;
using platform::db::QueryRows;
using platform::db::RowReader;
using platform::db::RunInTransaction;

// =========================================================================================
// SQL: every statement is a named constant with `?` for every value. Optional filters are
// written `(? = '' OR column = ?)` (a tenant has tens of actions and groups, hundreds of
// meetings: the tenant-leading index bounds the scan).
// =========================================================================================

// --- settings --------------------------------------------------------------------------------

#define CPTS_SETTINGS_COLUMNS "time_zone, attendance_payment, update_time, updated_by, version"
constexpr std::string_view kSelectSettings =
    "SELECT " CPTS_SETTINGS_COLUMNS " FROM project_settings WHERE tenant_id = ?";
constexpr std::string_view kSelectSettingsForUpdate =
    "SELECT " CPTS_SETTINGS_COLUMNS " FROM project_settings WHERE tenant_id = ? FOR UPDATE";
#undef CPTS_SETTINGS_COLUMNS

// The row of a first change, holding the defaults at version 0: inserting it (or finding it)
// takes the row's exclusive lock, which serialises two first changes under READ COMMITTED,
// where a SELECT ... FOR UPDATE of a missing row locks nothing.
constexpr std::string_view kLockSettings = R"sql(
INSERT INTO project_settings (tenant_id, time_zone, attendance_payment, update_time, updated_by,
                              version)
VALUES (?, ?, ?, NULL, '', 0)
ON DUPLICATE KEY UPDATE version = version)sql";

constexpr std::string_view kUpdateSettings = R"sql(
UPDATE project_settings SET time_zone = ?, attendance_payment = ?, update_time = ?,
                            updated_by = ?, version = version + 1
WHERE tenant_id = ? AND version = ?)sql";

// --- missions --------------------------------------------------------------------------------

#define CPTS_MISSION_COLUMNS \
  "id, number, label, description, kind, create_time, update_time, version"

constexpr std::string_view kListMissions =
    "SELECT " CPTS_MISSION_COLUMNS " FROM missions WHERE tenant_id = ? ORDER BY number";
constexpr std::string_view kSelectMission =
    "SELECT " CPTS_MISSION_COLUMNS " FROM missions WHERE tenant_id = ? AND id = ?";
constexpr std::string_view kSelectMissionForUpdate =
    "SELECT " CPTS_MISSION_COLUMNS " FROM missions WHERE tenant_id = ? AND id = ? FOR UPDATE";
#undef CPTS_MISSION_COLUMNS

constexpr std::string_view kInsertSeedMark = R"sql(
INSERT IGNORE INTO mission_seeds (tenant_id, seed_time) VALUES (?, UTC_TIMESTAMP(6)))sql";

constexpr std::string_view kCountMissions = R"sql(
SELECT COUNT(*) FROM missions WHERE tenant_id = ?)sql";

constexpr std::string_view kInsertMission = R"sql(
INSERT INTO missions (tenant_id, id, number, label, description, kind, create_time,
                      update_time, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1))sql";

constexpr std::string_view kUpdateMission = R"sql(
UPDATE missions SET number = ?, label = ?, description = ?, kind = ?, update_time = ?,
                    version = version + 1
WHERE tenant_id = ? AND id = ? AND version = ?)sql";

constexpr std::string_view kUpdateActionsMissionNumber = R"sql(
UPDATE actions SET mission_number = ? WHERE tenant_id = ? AND mission_id = ?)sql";

// --- actions, indicators, values -----------------------------------------------------------

#define CPTS_ACTION_COLUMNS "id, mission_id, status, body, create_time, update_time, version"

constexpr std::string_view kSelectAction =
    "SELECT " CPTS_ACTION_COLUMNS " FROM actions WHERE tenant_id = ? AND id = ?";
constexpr std::string_view kSelectActionForUpdate =
    "SELECT " CPTS_ACTION_COLUMNS " FROM actions WHERE tenant_id = ? AND id = ? FOR UPDATE";
// Parameters: tenant, mission twice ('' = any), status twice (0 = any), cursor (number,
// number, title, number, title, id), limit.
constexpr std::string_view kListActions = "SELECT " CPTS_ACTION_COLUMNS R"sql(
FROM actions
WHERE tenant_id = ? AND (? = '' OR mission_id = ?) AND (? = 0 OR status = ?)
  AND (mission_number > ? OR (mission_number = ? AND title > ?)
       OR (mission_number = ? AND title = ? AND id > ?))
ORDER BY mission_number, title, id
LIMIT ?)sql";
constexpr std::string_view kListAllActions = "SELECT " CPTS_ACTION_COLUMNS
                                             " FROM actions WHERE tenant_id = ?"
                                             " ORDER BY mission_number, title, id";
#undef CPTS_ACTION_COLUMNS

constexpr std::string_view kSelectMissionNumber = R"sql(
SELECT number FROM missions WHERE tenant_id = ? AND id = ?)sql";

constexpr std::string_view kInsertAction = R"sql(
INSERT INTO actions (tenant_id, id, mission_id, mission_number, title, status, body,
                     create_time, update_time, version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1))sql";

constexpr std::string_view kUpdateAction = R"sql(
UPDATE actions SET mission_id = ?, mission_number = ?, title = ?, status = ?, body = ?,
                   update_time = ?, version = version + 1
WHERE tenant_id = ? AND id = ? AND version = ?)sql";

constexpr std::string_view kSelectIndicators = R"sql(
SELECT action_id, body FROM indicators WHERE tenant_id = ? AND action_id = ? ORDER BY ordinal)sql";
constexpr std::string_view kSelectAllIndicators = R"sql(
SELECT action_id, body FROM indicators WHERE tenant_id = ? ORDER BY action_id, ordinal)sql";
constexpr std::string_view kDeleteIndicators = R"sql(
DELETE FROM indicators WHERE tenant_id = ? AND action_id = ?)sql";
constexpr std::string_view kInsertIndicator = R"sql(
INSERT INTO indicators (tenant_id, id, action_id, ordinal, name, body) VALUES (?, ?, ?, ?, ?, ?))sql";
constexpr std::string_view kSelectIndicatorOfAction = R"sql(
SELECT id FROM indicators WHERE tenant_id = ? AND id = ? AND action_id = ?)sql";

#define CPTS_VALUE_COLUMNS \
  "id, action_id, indicator_id, year, month, value, source, recorded_by, record_time"
constexpr std::string_view kUpsertValue = R"sql(
INSERT INTO indicator_values (tenant_id, id, action_id, indicator_id, year, month, value,
                              source, recorded_by, record_time)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON DUPLICATE KEY UPDATE value = VALUES(value), source = VALUES(source),
                        recorded_by = VALUES(recorded_by), record_time = VALUES(record_time))sql";
constexpr std::string_view kSelectValueByPeriod =
    "SELECT " CPTS_VALUE_COLUMNS
    " FROM indicator_values WHERE tenant_id = ? AND indicator_id = ? AND year = ? AND month = ?";
constexpr std::string_view kSelectValueById =
    "SELECT " CPTS_VALUE_COLUMNS " FROM indicator_values WHERE tenant_id = ? AND id = ?";
constexpr std::string_view kListValues = "SELECT " CPTS_VALUE_COLUMNS
                                         " FROM indicator_values"
                                         " WHERE tenant_id = ? AND action_id = ? AND year = ?"
                                         " ORDER BY indicator_id, month";
constexpr std::string_view kListAllValues = "SELECT " CPTS_VALUE_COLUMNS
                                            " FROM indicator_values"
                                            " WHERE tenant_id = ? AND year = ?"
                                            " ORDER BY action_id, indicator_id, month";
#undef CPTS_VALUE_COLUMNS

// --- groups --------------------------------------------------------------------------------

#define CPTS_GROUP_COLUMNS "g.id, g.body, g.create_time, g.update_time, g.version"
constexpr std::string_view kSelectGroup =
    "SELECT " CPTS_GROUP_COLUMNS " FROM working_groups g WHERE g.tenant_id = ? AND g.id = ?";
constexpr std::string_view kSelectGroupForUpdate = "SELECT " CPTS_GROUP_COLUMNS
                                                   " FROM working_groups g"
                                                   " WHERE g.tenant_id = ? AND g.id = ?"
                                                   " FOR UPDATE";
// Parameters: tenant, action twice, member twice, cursor (name, name, id), limit.
constexpr std::string_view kListGroups = "SELECT " CPTS_GROUP_COLUMNS R"sql(
FROM working_groups g
WHERE g.tenant_id = ?
  AND (? = '' OR EXISTS (SELECT 1 FROM group_actions a
                         WHERE a.tenant_id = g.tenant_id AND a.action_id = ? AND a.group_id = g.id))
  AND (? = '' OR EXISTS (SELECT 1 FROM group_participants p
                         WHERE p.tenant_id = g.tenant_id AND p.group_id = g.id
                           AND p.current_member = ?))
  AND (g.name > ? OR (g.name = ? AND g.id > ?))
ORDER BY g.name, g.id
LIMIT ?)sql";
#undef CPTS_GROUP_COLUMNS

constexpr std::string_view kSelectActionExists = R"sql(
SELECT id FROM actions WHERE tenant_id = ? AND id = ?)sql";
constexpr std::string_view kInsertGroup = R"sql(
INSERT INTO working_groups (tenant_id, id, name, body, create_time, update_time, version)
VALUES (?, ?, ?, ?, ?, ?, 1))sql";
constexpr std::string_view kUpdateGroup = R"sql(
UPDATE working_groups SET name = ?, body = ?, update_time = ?, version = version + 1
WHERE tenant_id = ? AND id = ? AND version = ?)sql";
constexpr std::string_view kDeleteGroupActions = R"sql(
DELETE FROM group_actions WHERE tenant_id = ? AND group_id = ?)sql";
constexpr std::string_view kInsertGroupAction = R"sql(
INSERT INTO group_actions (tenant_id, action_id, group_id, ordinal) VALUES (?, ?, ?, ?))sql";

#define CPTS_PARTICIPANT_COLUMNS                                                      \
  "id, group_id, member_id, guest_name, guest_organization, role, state, join_time, " \
  "leave_time"
constexpr std::string_view kListParticipants = "SELECT " CPTS_PARTICIPANT_COLUMNS
                                               " FROM group_participants"
                                               " WHERE tenant_id = ? AND group_id = ?"
                                               " ORDER BY id";
constexpr std::string_view kListParticipantsForUpdate = "SELECT " CPTS_PARTICIPANT_COLUMNS
                                                        " FROM group_participants"
                                                        " WHERE tenant_id = ? AND group_id = ?"
                                                        " ORDER BY id FOR UPDATE";
#undef CPTS_PARTICIPANT_COLUMNS
constexpr std::string_view kInsertParticipant = R"sql(
INSERT INTO group_participants (tenant_id, id, group_id, member_id, guest_name,
                                guest_organization, role, state, join_time, leave_time)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?))sql";
constexpr std::string_view kUpdateParticipant = R"sql(
UPDATE group_participants SET member_id = ?, guest_name = ?, guest_organization = ?, role = ?,
                              state = ?, join_time = ?, leave_time = ?
WHERE tenant_id = ? AND id = ? AND group_id = ?)sql";

#define CPTS_JOIN_COLUMNS                                                               \
  "id, group_id, member_id, message, state, decided_by, decision_reason, create_time, " \
  "decide_time"
constexpr std::string_view kSelectJoinRequest =
    "SELECT " CPTS_JOIN_COLUMNS " FROM join_requests WHERE tenant_id = ? AND id = ?";
constexpr std::string_view kSelectJoinRequestForUpdate =
    "SELECT " CPTS_JOIN_COLUMNS
    " FROM join_requests WHERE tenant_id = ? AND id = ? AND group_id = ? FOR UPDATE";
// Parameters: tenant, group, state twice (0 = any), cursor (time, time, id), limit.
constexpr std::string_view kListJoinRequests = "SELECT " CPTS_JOIN_COLUMNS R"sql(
FROM join_requests
WHERE tenant_id = ? AND group_id = ? AND (? = 0 OR state = ?)
  AND (create_time < ? OR (create_time = ? AND id < ?))
ORDER BY create_time DESC, id DESC
LIMIT ?)sql";
#undef CPTS_JOIN_COLUMNS
constexpr std::string_view kInsertJoinRequest = R"sql(
INSERT INTO join_requests (tenant_id, id, group_id, member_id, message, state, decided_by,
                           decision_reason, create_time, decide_time)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?))sql";
constexpr std::string_view kUpdateJoinRequest = R"sql(
UPDATE join_requests SET state = ?, decided_by = ?, decision_reason = ?, decide_time = ?
WHERE tenant_id = ? AND id = ?)sql";

// --- tasks and documents -------------------------------------------------------------------

constexpr std::string_view kSelectGroupExists = R"sql(
SELECT id FROM working_groups WHERE tenant_id = ? AND id = ?)sql";
constexpr std::string_view kInsertTask = R"sql(
INSERT INTO tasks (tenant_id, id, group_id, status, due_sort, body, version)
VALUES (?, ?, ?, ?, ?, ?, 1))sql";
constexpr std::string_view kSelectTask = R"sql(
SELECT body, version FROM tasks WHERE tenant_id = ? AND id = ?)sql";
constexpr std::string_view kSelectTaskForUpdate = R"sql(
SELECT body, version FROM tasks WHERE tenant_id = ? AND id = ? FOR UPDATE)sql";
constexpr std::string_view kUpdateTask = R"sql(
UPDATE tasks SET status = ?, due_sort = ?, body = ?, version = version + 1
WHERE tenant_id = ? AND id = ? AND version = ?)sql";
constexpr std::string_view kDeleteAssignees = R"sql(
DELETE FROM task_assignees WHERE tenant_id = ? AND task_id = ?)sql";
constexpr std::string_view kInsertAssignee = R"sql(
INSERT INTO task_assignees (tenant_id, task_id, participant_id, member_id)
SELECT ?, ?, ?, COALESCE((SELECT member_id FROM group_participants
                          WHERE tenant_id = ? AND id = ?), ''))sql";
// Parameters: tenant, group twice, participant twice, member twice, status twice, cursor
// (due, due, id), limit.
constexpr std::string_view kListTasks = R"sql(
SELECT t.body, t.version FROM tasks t
WHERE t.tenant_id = ? AND (? = '' OR t.group_id = ?)
  AND (? = '' OR EXISTS (SELECT 1 FROM task_assignees a WHERE a.tenant_id = t.tenant_id
                         AND a.task_id = t.id AND a.participant_id = ?))
  AND (? = '' OR EXISTS (SELECT 1 FROM task_assignees a WHERE a.tenant_id = t.tenant_id
                         AND a.task_id = t.id AND a.member_id = ?))
  AND (? = 0 OR t.status = ?)
  AND (t.due_sort > ? OR (t.due_sort = ? AND t.id > ?))
ORDER BY t.due_sort, t.id
LIMIT ?)sql";
constexpr std::string_view kSelectTaskCursor = R"sql(
SELECT due_sort FROM tasks WHERE tenant_id = ? AND id = ?)sql";

constexpr std::string_view kInsertDocument = R"sql(
INSERT INTO documents (tenant_id, id, group_id, body, create_time) VALUES (?, ?, ?, ?, ?))sql";
constexpr std::string_view kSelectDocument = R"sql(
SELECT body FROM documents WHERE tenant_id = ? AND id = ?)sql";
constexpr std::string_view kListDocuments = R"sql(
SELECT body FROM documents
WHERE tenant_id = ? AND group_id = ? AND (create_time < ? OR (create_time = ? AND id < ?))
ORDER BY create_time DESC, id DESC
LIMIT ?)sql";

// --- meetings ------------------------------------------------------------------------------

constexpr std::string_view kInsertMeeting = R"sql(
INSERT INTO meetings (tenant_id, id, group_id, start_time, state, body, version)
VALUES (?, ?, ?, ?, ?, ?, 1))sql";
constexpr std::string_view kSelectMeeting = R"sql(
SELECT body, version FROM meetings WHERE tenant_id = ? AND id = ?)sql";
constexpr std::string_view kSelectMeetingForUpdate = R"sql(
SELECT body, version FROM meetings WHERE tenant_id = ? AND id = ? FOR UPDATE)sql";
constexpr std::string_view kUpdateMeeting = R"sql(
UPDATE meetings SET start_time = ?, state = ?, body = ?, version = version + 1
WHERE tenant_id = ? AND id = ? AND version = ?)sql";
// Parameters: tenant, group twice, start_after twice (NULL = any), start_before twice, state
// twice, cursor (time, time, id), limit.
constexpr std::string_view kListMeetings = R"sql(
SELECT body, version FROM meetings
WHERE tenant_id = ? AND (? = '' OR group_id = ?)
  AND (? IS NULL OR start_time >= ?) AND (? IS NULL OR start_time < ?)
  AND (? = 0 OR state = ?)
  AND (start_time > ? OR (start_time = ? AND id > ?))
ORDER BY start_time, id
LIMIT ?)sql";
constexpr std::string_view kUpsertReply = R"sql(
INSERT INTO meeting_replies (tenant_id, meeting_id, participant_id, kind, late, reason,
                             reply_time)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON DUPLICATE KEY UPDATE kind = VALUES(kind), late = VALUES(late), reason = VALUES(reason),
                        reply_time = VALUES(reply_time))sql";
constexpr std::string_view kListReplies = R"sql(
SELECT meeting_id, participant_id, kind, late, reason, reply_time FROM meeting_replies
WHERE tenant_id = ? AND meeting_id = ? ORDER BY participant_id)sql";

// --- attendance ----------------------------------------------------------------------------

constexpr std::string_view kSelectSheet = R"sql(
SELECT body, revision FROM attendance_sheets WHERE tenant_id = ? AND meeting_id = ?)sql";
constexpr std::string_view kSelectSheetForUpdate = R"sql(
SELECT body, revision FROM attendance_sheets WHERE tenant_id = ? AND meeting_id = ? FOR UPDATE)sql";
constexpr std::string_view kInsertSheet = R"sql(
INSERT INTO attendance_sheets (tenant_id, meeting_id, group_id, start_time, state, body,
                               revision)
VALUES (?, ?, ?, ?, ?, ?, 1))sql";
constexpr std::string_view kUpdateSheet = R"sql(
UPDATE attendance_sheets SET state = ?, body = ?, revision = revision + 1
WHERE tenant_id = ? AND meeting_id = ? AND revision = ?)sql";
constexpr std::string_view kDeleteAttendanceMembers = R"sql(
DELETE FROM attendance_members WHERE tenant_id = ? AND meeting_id = ?)sql";
constexpr std::string_view kInsertAttendanceMember = R"sql(
INSERT IGNORE INTO attendance_members (tenant_id, member_id, start_time, meeting_id)
VALUES (?, ?, ?, ?))sql";
// Parameters: tenant, group twice ('' = all), from, to.
constexpr std::string_view kListFinalSheets = R"sql(
SELECT m.body, m.version, s.body, s.revision
FROM attendance_sheets s
JOIN meetings m ON m.tenant_id = s.tenant_id AND m.id = s.meeting_id
WHERE s.tenant_id = ? AND (? = '' OR s.group_id = ?) AND s.start_time >= ? AND s.start_time < ?
  AND s.state IN (3, 4)
ORDER BY s.start_time, s.meeting_id)sql";
// Parameters: tenant, member, cursor (time, time, meeting), limit.
constexpr std::string_view kListSheetsOfMember = R"sql(
SELECT m.body, m.version, s.body, s.revision
FROM attendance_members am
JOIN attendance_sheets s ON s.tenant_id = am.tenant_id AND s.meeting_id = am.meeting_id
JOIN meetings m ON m.tenant_id = am.tenant_id AND m.id = am.meeting_id
WHERE am.tenant_id = ? AND am.member_id = ?
  AND (am.start_time < ? OR (am.start_time = ? AND am.meeting_id < ?))
ORDER BY am.start_time DESC, am.meeting_id DESC
LIMIT ?)sql";

// =========================================================================================
// Helpers
// =========================================================================================

// Cursors before the first row / after the last one.
absl::Time TimeMin() { return absl::FromUnixSeconds(0); }
absl::Time TimeMax() {
  return absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone());
}
constexpr std::string_view kDayMax = "9999-12-31";
constexpr std::string_view kIdMax = "\x7f";

template <typename E>
int N(E e) {
  return static_cast<int>(e);
}

template <typename M>
std::string Serialize(const M& message) {
  std::string out;
  message.SerializeToString(&out);
  return out;
}

// The update of a row whose version was read under FOR UPDATE changes exactly one row; zero
// means another writer got in (should not happen under the lock): Aborted.
absl::Status ExpectOneRow(int rows, absl::string_view what) {
  if (rows == 1) return absl::OkStatus();
  return absl::AbortedError(absl::StrCat(what, " changed concurrently; read it again"));
}

// The read-lock-mutate-write of an update, in one transaction: reads row `id` of `what` with
// `select` under FOR UPDATE (NotFound when there is none), lets `mutate` change a copy and has
// `write` store it (its UPDATE checks `before.version`; it may fill in what it assigns, e.g.
// ids). Returns the row as written, at version `before.version + 1`.
template <typename T>
absl::StatusOr<T> UpdateLocked(
    ConnectionPool& pool, absl::string_view what, absl::string_view tenant_id, absl::string_view id,
    absl::StatusOr<std::optional<T>> (*select)(Connection&, absl::string_view, absl::string_view,
                                               bool),
    absl::FunctionRef<absl::Status(T&)> mutate,
    absl::FunctionRef<absl::Status(Connection&, const T& before, T& changed)> write) {
  T out;
  const absl::Status tx = RunInTransaction(pool, [&](Connection& conn) -> absl::Status {
    CPTS_ASSIGN_OR_RETURN(std::optional<T> before, select(conn, tenant_id, id, true));
    if (!before.has_value()) return NotFound(what, id);
    T changed = *before;
    CPTS_RETURN_IF_ERROR(mutate(changed));
    CPTS_RETURN_IF_ERROR(write(conn, *before, changed));
    changed.version = before->version + 1;
    out = std::move(changed);
    return absl::OkStatus();
  });
  if (!tx.ok()) return tx;
  return out;
}

// --- idempotency ---------------------------------------------------------------------------

absl::StatusOr<std::optional<std::string>> LookUpKey(Connection& conn, absl::string_view tenant_id,
                                                     const IdempotencyKey* key) {
  return platform::db::LookUpIdempotencyKey(conn, tenant_id, platform::db::IdempotencyKeyOf(key));
}

absl::Status RememberKey(Connection& conn, absl::string_view tenant_id, const IdempotencyKey* key,
                         absl::string_view resource_id) {
  return platform::db::RememberIdempotencyKey(conn, tenant_id, platform::db::IdempotencyKeyOf(key),
                                              resource_id);
}

// Runs `body` in a transaction; when it loses the race for its idempotency key, once more
// (it then replays).
template <typename T>
absl::StatusOr<CreateResult<T>> RunCreate(
    ConnectionPool& pool, absl::FunctionRef<absl::Status(Connection&, CreateResult<T>&)> body) {
  CreateResult<T> result;
  CPTS_RETURN_IF_ERROR(platform::db::RunInTransactionRetryingKeyRace(pool, [&](Connection& conn) {
    result = CreateResult<T>();
    return body(conn, result);
  }));
  return result;
}

// --- audit ---------------------------------------------------------------------------------

absl::Status AppendAuditEntry(Connection& conn, const AuditEntry& entry) {
  platform::db::AuditRecord record;
  record.tenant_id = entry.tenant_id;
  record.actor_subject = entry.actor;
  record.action = absl::StrCat("projects.", entry.action);
  record.resource_type = entry.subject_kind;
  record.resource_id = entry.subject_id;
  record.reason = entry.reason;
  if (!entry.details.empty()) record.details = platform::db::AuditSummaryJson(entry.details);
  record.occurred_at = IsFinite(entry.time) ? entry.time : absl::UnixEpoch();
  return platform::db::AppendAudit(conn, record);
}

// =========================================================================================
// Row readers
// =========================================================================================

absl::StatusOr<ProjectSettings> ReadSettings(const sql::ResultSet& rs,
                                             absl::string_view tenant_id) {
  RowReader r(rs);
  ProjectSettings s;
  s.tenant_id = std::string(tenant_id);
  s.time_zone = r.Str();
  s.attendance_payment = r.Enum<AttendancePayment>(N(AttendancePayment::kPerHour));
  s.update_time = r.NullableInstant();
  s.updated_by = r.Str();
  s.version = r.Int64();
  if (!r.status().ok()) return r.status();
  return s;
}

absl::StatusOr<Mission> ReadMission(const sql::ResultSet& rs, absl::string_view tenant_id) {
  RowReader r(rs);
  Mission m;
  m.tenant_id = std::string(tenant_id);
  m.id = r.Str();
  m.number = r.Int();
  m.label = r.Str();
  m.description = r.Str();
  m.kind = r.Enum<MissionKind>(N(MissionKind::kOptional));
  m.create_time = r.Instant();
  m.update_time = r.Instant();
  m.version = r.Int64();
  if (!r.status().ok()) return r.status();
  return m;
}

// An action row without its indicators.
absl::StatusOr<Action> ReadActionRow(const sql::ResultSet& rs, absl::string_view tenant_id) {
  RowReader r(rs);
  const std::string id = r.Str();
  const std::string mission_id = r.Str();
  const ActionStatus status = r.Enum<ActionStatus>(N(ActionStatus::kDone));
  const auto body = r.Message<v1::Action>();
  const absl::Time create_time = r.Instant();
  const absl::Time update_time = r.Instant();
  const int64_t version = r.Int64();
  if (!r.status().ok()) return r.status();
  CPTS_ASSIGN_OR_RETURN(Action a, FromProto(body, "action"));
  a.tenant_id = std::string(tenant_id);
  a.id = id;
  a.mission_id = mission_id;
  a.status = status;
  a.indicators.clear();
  a.create_time = create_time;
  a.update_time = update_time;
  a.version = version;
  return a;
}

// (action id, indicator).
using IndicatorRow = std::pair<std::string, Indicator>;

absl::StatusOr<IndicatorRow> ReadIndicatorRow(const sql::ResultSet& rs) {
  RowReader r(rs);
  std::string action_id = r.Str();
  const auto body = r.Message<v1::Indicator>();
  if (!r.status().ok()) return r.status();
  CPTS_ASSIGN_OR_RETURN(Indicator i, FromProto(body, "indicator"));
  return std::make_pair(std::move(action_id), std::move(i));
}

absl::StatusOr<IndicatorValue> ReadValue(const sql::ResultSet& rs) {
  RowReader r(rs);
  IndicatorValue v;
  v.id = r.Str();
  v.action_id = r.Str();
  v.indicator_id = r.Str();
  v.year = r.Int();
  v.month = r.Int();
  v.value = r.Int64();
  v.source = r.Enum<IndicatorSource>(N(IndicatorSource::kMeetings));
  v.recorded_by = r.Str();
  v.record_time = r.Instant();
  if (!r.status().ok()) return r.status();
  return v;
}

absl::StatusOr<WorkingGroup> ReadGroup(const sql::ResultSet& rs, absl::string_view tenant_id) {
  RowReader r(rs);
  const std::string id = r.Str();
  const auto body = r.Message<v1::WorkingGroup>();
  const absl::Time create_time = r.Instant();
  const absl::Time update_time = r.Instant();
  const int64_t version = r.Int64();
  if (!r.status().ok()) return r.status();
  CPTS_ASSIGN_OR_RETURN(WorkingGroup g, FromProto(body, "working_group"));
  g.tenant_id = std::string(tenant_id);
  g.id = id;
  g.create_time = create_time;
  g.update_time = update_time;
  g.version = version;
  return g;
}

absl::StatusOr<GroupParticipant> ReadParticipant(const sql::ResultSet& rs) {
  RowReader r(rs);
  GroupParticipant p;
  p.id = r.Str();
  p.group_id = r.Str();
  p.member_id = r.Str();
  p.guest_name = r.Str();
  p.guest_organization = r.Str();
  p.role = r.Enum<GroupRole>(N(GroupRole::kGuest));
  p.state = r.Enum<ParticipantState>(N(ParticipantState::kLeft));
  p.join_time = r.Instant();
  p.leave_time = r.OptionalInstant();
  if (!r.status().ok()) return r.status();
  return p;
}

absl::StatusOr<JoinRequest> ReadJoinRequest(const sql::ResultSet& rs) {
  RowReader r(rs);
  JoinRequest j;
  j.id = r.Str();
  j.group_id = r.Str();
  j.member_id = r.Str();
  j.message = r.Str();
  j.state = r.Enum<JoinRequestState>(N(JoinRequestState::kRefused));
  j.decided_by = r.Str();
  j.decision_reason = r.Str();
  j.create_time = r.Instant();
  j.decide_time = r.OptionalInstant();
  if (!r.status().ok()) return r.status();
  return j;
}

absl::StatusOr<Task> ReadTask(const sql::ResultSet& rs) {
  RowReader r(rs);
  const auto body = r.Message<v1::Task>();
  const int64_t version = r.Int64();
  if (!r.status().ok()) return r.status();
  CPTS_ASSIGN_OR_RETURN(Task t, FromProto(body, "task"));
  t.version = version;
  return t;
}

absl::StatusOr<Document> ReadDocument(const sql::ResultSet& rs) {
  RowReader r(rs);
  const auto body = r.Message<v1::Document>();
  if (!r.status().ok()) return r.status();
  return FromProto(body, "document");
}

absl::StatusOr<Meeting> ReadMeeting(RowReader& r, absl::string_view tenant_id) {
  const auto body = r.Message<v1::Meeting>();
  const int64_t version = r.Int64();
  if (!r.status().ok()) return r.status();
  CPTS_ASSIGN_OR_RETURN(Meeting m, FromProto(body, "meeting"));
  m.tenant_id = std::string(tenant_id);
  m.version = version;
  return m;
}

absl::StatusOr<AttendanceSheet> ReadSheet(RowReader& r, absl::string_view tenant_id) {
  const auto body = r.Message<v1::AttendanceSheet>();
  const int64_t revision = r.Int64();
  if (!r.status().ok()) return r.status();
  CPTS_ASSIGN_OR_RETURN(AttendanceSheet s, FromProto(body, "sheet"));
  s.tenant_id = std::string(tenant_id);
  s.revision = revision;
  return s;
}

absl::StatusOr<MeetingReply> ReadReply(const sql::ResultSet& rs) {
  RowReader r(rs);
  MeetingReply m;
  m.meeting_id = r.Str();
  m.participant_id = r.Str();
  m.kind = r.Enum<ReplyKind>(N(ReplyKind::kExcused));
  m.late = r.Bool();
  m.reason = r.Str();
  m.reply_time = r.Instant();
  if (!r.status().ok()) return r.status();
  return m;
}

// What is stored in a body: the record without its columns' duplicates is fine to keep
// whole; the columns win when read back.
std::string ActionBody(const Action& a) {
  v1::Action p;
  Action copy = a;
  copy.indicators.clear();
  ToProto(copy, &p);
  p.clear_etag();
  return Serialize(p);
}
std::string IndicatorBody(const Indicator& i) {
  v1::Indicator p;
  ToProto(i, &p);
  return Serialize(p);
}
std::string GroupBody(const WorkingGroup& g) {
  v1::WorkingGroup p;
  ToProto(g, &p);
  p.clear_etag();
  return Serialize(p);
}
std::string TaskBody(const Task& t) {
  v1::Task p;
  ToProto(t, &p);
  p.clear_etag();
  return Serialize(p);
}
std::string DocumentBody(const Document& d) {
  v1::Document p;
  ToProto(d, &p);
  return Serialize(p);
}
std::string MeetingBody(const Meeting& m) {
  v1::Meeting p;
  ToProto(m, &p);
  p.clear_etag();
  return Serialize(p);
}
std::string SheetBody(const AttendanceSheet& s) {
  v1::AttendanceSheet p;
  ToProto(s, &p);
  p.clear_etag();
  return Serialize(p);
}
std::string DueSort(const std::optional<absl::CivilDay>& due) {
  return due.has_value() ? absl::FormatCivilTime(*due) : std::string(kDayMax);
}

// =========================================================================================
// Building blocks on a connection (each its own catch boundary)
// =========================================================================================

absl::StatusOr<std::optional<ProjectSettings>> SelectSettings(Connection& conn,
                                                              absl::string_view tenant_id,
                                                              bool for_update) {
  try {
    sql::PreparedStatement& ps =
        conn.Prepare(for_update ? kSelectSettingsForUpdate : kSelectSettings);
    Binder(ps).Str(tenant_id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return std::optional<ProjectSettings>();
    CPTS_ASSIGN_OR_RETURN(ProjectSettings s, ReadSettings(*rs, tenant_id));
    return std::optional<ProjectSettings>(std::move(s));
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read settings");
  }
}

absl::StatusOr<std::optional<Mission>> SelectMission(Connection& conn, absl::string_view tenant_id,
                                                     absl::string_view id, bool for_update) {
  try {
    sql::PreparedStatement& ps =
        conn.Prepare(for_update ? kSelectMissionForUpdate : kSelectMission);
    Binder(ps).Str(tenant_id).Str(id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return std::optional<Mission>();
    CPTS_ASSIGN_OR_RETURN(Mission m, ReadMission(*rs, tenant_id));
    return std::optional<Mission>(std::move(m));
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read mission");
  }
}

absl::Status InsertMission(Connection& conn, const Mission& m) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(kInsertMission);
    Binder(ps)
        .Str(m.tenant_id)
        .Str(m.id)
        .Int(m.number)
        .Str(m.label)
        .Str(m.description)
        .Int(N(m.kind))
        .Instant(m.create_time)
        .Instant(m.update_time);
    ps.executeUpdate();
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return MapDuplicate(e, "insert mission",
                        {{"missions_by_number", "mission.number: already used in this CPTS"},
                         {"PRIMARY", "mission.id: already exists"}});
  }
}

absl::StatusOr<std::vector<Indicator>> SelectIndicators(Connection& conn,
                                                        absl::string_view tenant_id,
                                                        absl::string_view action_id) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(kSelectIndicators);
    Binder(ps).Str(tenant_id).Str(action_id);
    CPTS_ASSIGN_OR_RETURN(auto rows, QueryRows<IndicatorRow>(ps, ReadIndicatorRow));
    std::vector<Indicator> out;
    out.reserve(rows.size());
    for (auto& [unused, i] : rows) out.push_back(std::move(i));
    return out;
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read indicators");
  }
}

absl::StatusOr<std::optional<Action>> SelectAction(Connection& conn, absl::string_view tenant_id,
                                                   absl::string_view id, bool for_update) {
  std::optional<Action> action;
  try {
    sql::PreparedStatement& ps = conn.Prepare(for_update ? kSelectActionForUpdate : kSelectAction);
    Binder(ps).Str(tenant_id).Str(id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return std::optional<Action>();
    CPTS_ASSIGN_OR_RETURN(Action a, ReadActionRow(*rs, tenant_id));
    action = std::move(a);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read action");
  }
  CPTS_ASSIGN_OR_RETURN(action->indicators, SelectIndicators(conn, tenant_id, id));
  return action;
}

absl::StatusOr<int> MissionNumber(Connection& conn, absl::string_view tenant_id,
                                  absl::string_view mission_id) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(kSelectMissionNumber);
    Binder(ps).Str(tenant_id).Str(mission_id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return NotFound("mission", mission_id);
    return rs->getInt(1);
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read mission number");
  }
}

// Replaces the action's indicators; those without id get one.
absl::Status WriteIndicators(Connection& conn, platform::IdGenerator& ids,
                             absl::string_view tenant_id, Action& action) {
  try {
    sql::PreparedStatement& del = conn.Prepare(kDeleteIndicators);
    Binder(del).Str(tenant_id).Str(action.id);
    del.executeUpdate();
    sql::PreparedStatement& ins = conn.Prepare(kInsertIndicator);
    int ordinal = 0;
    for (Indicator& i : action.indicators) {
      if (i.id.empty()) i.id = ids.NewId();
      Binder(ins).Str(tenant_id).Str(i.id).Str(action.id).Int(ordinal++).Str(i.name).Str(
          IndicatorBody(i));
      ins.executeUpdate();
    }
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return MapDuplicate(
        e, "write indicators",
        {{"indicators_by_name", "indicator.name: another indicator of the action has it"},
         {"PRIMARY", "indicator.id: already exists"}});
  }
}

absl::Status CheckActionExists(Connection& conn, absl::string_view tenant_id,
                               absl::string_view action_id) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(kSelectActionExists);
    Binder(ps).Str(tenant_id).Str(action_id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return NotFound("action", action_id);
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "check action");
  }
}

absl::Status CheckGroupExists(Connection& conn, absl::string_view tenant_id,
                              absl::string_view group_id) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(kSelectGroupExists);
    Binder(ps).Str(tenant_id).Str(group_id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return NotFound("working group", group_id);
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "check group");
  }
}

absl::StatusOr<std::optional<WorkingGroup>> SelectGroup(Connection& conn,
                                                        absl::string_view tenant_id,
                                                        absl::string_view id, bool for_update) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(for_update ? kSelectGroupForUpdate : kSelectGroup);
    Binder(ps).Str(tenant_id).Str(id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return std::optional<WorkingGroup>();
    CPTS_ASSIGN_OR_RETURN(WorkingGroup g, ReadGroup(*rs, tenant_id));
    return std::optional<WorkingGroup>(std::move(g));
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read working group");
  }
}

absl::Status WriteGroupActions(Connection& conn, absl::string_view tenant_id,
                               const WorkingGroup& g) {
  for (const std::string& a : g.action_ids) {
    CPTS_RETURN_IF_ERROR(CheckActionExists(conn, tenant_id, a));
  }
  try {
    sql::PreparedStatement& del = conn.Prepare(kDeleteGroupActions);
    Binder(del).Str(tenant_id).Str(g.id);
    del.executeUpdate();
    sql::PreparedStatement& ins = conn.Prepare(kInsertGroupAction);
    int ordinal = 0;
    for (const std::string& a : g.action_ids) {
      Binder(ins).Str(tenant_id).Str(a).Str(g.id).Int(ordinal++);
      ins.executeUpdate();
    }
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "write group actions");
  }
}

absl::StatusOr<std::vector<GroupParticipant>> SelectParticipants(Connection& conn,
                                                                 absl::string_view tenant_id,
                                                                 absl::string_view group_id,
                                                                 bool for_update) {
  try {
    sql::PreparedStatement& ps =
        conn.Prepare(for_update ? kListParticipantsForUpdate : kListParticipants);
    Binder(ps).Str(tenant_id).Str(group_id);
    CPTS_ASSIGN_OR_RETURN(auto rows, QueryRows<GroupParticipant>(ps, ReadParticipant));
    return rows;
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read participants");
  }
}

constexpr std::pair<absl::string_view, absl::string_view> kDuplicateParticipation = {
    "participants_current", "participant: the member already takes part in the group"};
constexpr std::pair<absl::string_view, absl::string_view> kDuplicatePending = {
    "join_requests_pending", "join_request: the member already has a pending request"};

absl::Status WriteParticipant(Connection& conn, absl::string_view tenant_id,
                              const GroupParticipant& p, bool insert) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(insert ? kInsertParticipant : kUpdateParticipant);
    Binder b(ps);
    if (insert) b.Str(tenant_id).Str(p.id).Str(p.group_id);
    b.Str(p.member_id)
        .Str(p.guest_name)
        .Str(p.guest_organization)
        .Int(N(p.role))
        .Int(N(p.state))
        .Instant(p.join_time)
        .Instant(p.leave_time);
    if (!insert) b.Str(tenant_id).Str(p.id).Str(p.group_id);
    ps.executeUpdate();
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return MapDuplicate(e, "write participant", {kDuplicateParticipation});
  }
}

absl::Status WriteJoinRequest(Connection& conn, absl::string_view tenant_id, const JoinRequest& j,
                              bool insert) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(insert ? kInsertJoinRequest : kUpdateJoinRequest);
    Binder b(ps);
    if (insert) {
      b.Str(tenant_id)
          .Str(j.id)
          .Str(j.group_id)
          .Str(j.member_id)
          .Str(j.message)
          .Int(N(j.state))
          .Str(j.decided_by)
          .Str(j.decision_reason)
          .Instant(j.create_time)
          .Instant(j.decide_time);
    } else {
      b.Int(N(j.state))
          .Str(j.decided_by)
          .Str(j.decision_reason)
          .Instant(j.decide_time)
          .Str(tenant_id)
          .Str(j.id);
    }
    ps.executeUpdate();
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return MapDuplicate(e, "write join request", {kDuplicatePending});
  }
}

absl::StatusOr<std::optional<Meeting>> SelectMeeting(Connection& conn, absl::string_view tenant_id,
                                                     absl::string_view id, bool for_update) {
  try {
    sql::PreparedStatement& ps =
        conn.Prepare(for_update ? kSelectMeetingForUpdate : kSelectMeeting);
    Binder(ps).Str(tenant_id).Str(id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return std::optional<Meeting>();
    RowReader r(*rs);
    CPTS_ASSIGN_OR_RETURN(Meeting m, ReadMeeting(r, tenant_id));
    return std::optional<Meeting>(std::move(m));
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read meeting");
  }
}

absl::StatusOr<std::optional<AttendanceSheet>> SelectSheet(Connection& conn,
                                                           absl::string_view tenant_id,
                                                           absl::string_view meeting_id,
                                                           bool for_update) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(for_update ? kSelectSheetForUpdate : kSelectSheet);
    Binder(ps).Str(tenant_id).Str(meeting_id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return std::optional<AttendanceSheet>();
    RowReader r(*rs);
    CPTS_ASSIGN_OR_RETURN(AttendanceSheet s, ReadSheet(r, tenant_id));
    return std::optional<AttendanceSheet>(std::move(s));
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read attendance sheet");
  }
}

absl::StatusOr<std::optional<Task>> SelectTask(Connection& conn, absl::string_view tenant_id,
                                               absl::string_view id, bool for_update) {
  try {
    sql::PreparedStatement& ps = conn.Prepare(for_update ? kSelectTaskForUpdate : kSelectTask);
    Binder(ps).Str(tenant_id).Str(id);
    std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
    if (!rs->next()) return std::optional<Task>();
    CPTS_ASSIGN_OR_RETURN(Task t, ReadTask(*rs));
    return std::optional<Task>(std::move(t));
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "read task");
  }
}

absl::Status WriteAssignees(Connection& conn, absl::string_view tenant_id, const Task& t) {
  try {
    sql::PreparedStatement& del = conn.Prepare(kDeleteAssignees);
    Binder(del).Str(tenant_id).Str(t.id);
    del.executeUpdate();
    sql::PreparedStatement& ins = conn.Prepare(kInsertAssignee);
    for (const std::string& p : t.assignee_participant_ids) {
      Binder(ins).Str(tenant_id).Str(t.id).Str(p).Str(tenant_id).Str(p);
      ins.executeUpdate();
    }
    return absl::OkStatus();
  } catch (const sql::SQLException& e) {
    return MapSqlException(e, "write task assignees");
  }
}

absl::StatusOr<std::vector<AttendanceRepository::HeldSheet>> ReadHeldSheets(
    sql::PreparedStatement& ps, absl::string_view tenant_id) {
  std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
  std::vector<AttendanceRepository::HeldSheet> out;
  while (rs->next()) {
    RowReader r(*rs);
    CPTS_ASSIGN_OR_RETURN(Meeting m, ReadMeeting(r, tenant_id));
    CPTS_ASSIGN_OR_RETURN(AttendanceSheet s, ReadSheet(r, tenant_id));
    out.push_back({.meeting = std::move(m), .sheet = std::move(s)});
  }
  return out;
}

}  // namespace

// =========================================================================================
// Settings
// =========================================================================================

absl::StatusOr<std::optional<ProjectSettings>> MysqlProjectsStore::GetSettings(
    absl::string_view tenant_id) {
  std::optional<ProjectSettings> out;
  if (absl::Status tx = RunInTransaction(pool_,
                                         [&](Connection& conn) -> absl::Status {
                                           CPTS_ASSIGN_OR_RETURN(
                                               out, SelectSettings(conn, tenant_id, false));
                                           return absl::OkStatus();
                                         });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<ProjectSettings> MysqlProjectsStore::UpdateSettings(
    absl::string_view tenant_id, const ProjectSettings& defaults,
    absl::FunctionRef<absl::Status(ProjectSettings&)> mutate, AuditEntry audit) {
  ProjectSettings out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            try {
              sql::PreparedStatement& lock = conn.Prepare(kLockSettings);
              Binder(lock).Str(tenant_id).Str(defaults.time_zone).Enum(defaults.attendance_payment);
              lock.executeUpdate();
            } catch (const sql::SQLException& e) {
              return MapSqlException(e, "lock settings");
            }
            CPTS_ASSIGN_OR_RETURN(std::optional<ProjectSettings> before,
                                  SelectSettings(conn, tenant_id, true));
            if (!before.has_value()) return absl::InternalError("settings row vanished");
            ProjectSettings changed = *before;
            CPTS_RETURN_IF_ERROR(mutate(changed));
            try {
              sql::PreparedStatement& ps = conn.Prepare(kUpdateSettings);
              Binder(ps)
                  .Str(changed.time_zone)
                  .Enum(changed.attendance_payment)
                  .Instant(changed.update_time)
                  .Str(changed.updated_by)
                  .Str(tenant_id)
                  .Int64(before->version);
              CPTS_RETURN_IF_ERROR(ExpectOneRow(ps.executeUpdate(), "settings"));
            } catch (const sql::SQLException& e) {
              return MapSqlException(e, "update settings");
            }
            audit.tenant_id = std::string(tenant_id);
            CPTS_RETURN_IF_ERROR(AppendAuditEntry(conn, audit));
            changed.version = before->version + 1;
            out = std::move(changed);
            return absl::OkStatus();
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

// =========================================================================================
// Missions
// =========================================================================================

absl::StatusOr<std::vector<Mission>> MysqlProjectsStore::ListOrSeedMissions(
    absl::string_view tenant_id, const std::vector<Mission>& seed) {
  std::vector<Mission> out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            out.clear();
            try {
              // The first caller of a tenant inserts the mark (a concurrent one waits on its key)
              // and seeds when the tenant has no mission.
              sql::PreparedStatement& mark = conn.Prepare(kInsertSeedMark);
              Binder(mark).Str(tenant_id);
              if (mark.executeUpdate() == 1) {
                sql::PreparedStatement& count = conn.Prepare(kCountMissions);
                Binder(count).Str(tenant_id);
                std::unique_ptr<sql::ResultSet> rs(count.executeQuery());
                if (rs->next() && rs->getInt64(1) == 0) {
                  for (const Mission& m : seed) {
                    Mission copy = m;
                    copy.tenant_id = std::string(tenant_id);
                    CPTS_RETURN_IF_ERROR(InsertMission(conn, copy));
                  }
                }
              }
              sql::PreparedStatement& ps = conn.Prepare(kListMissions);
              Binder(ps).Str(tenant_id);
              CPTS_ASSIGN_OR_RETURN(out, QueryRows<Mission>(ps, [&](const sql::ResultSet& rs) {
                                      return ReadMission(rs, tenant_id);
                                    }));
              return absl::OkStatus();
            } catch (const sql::SQLException& e) {
              return MapSqlException(e, "list missions");
            }
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<CreateResult<Mission>> MysqlProjectsStore::CreateMission(const Mission& mission,
                                                                        const IdempotencyKey* key) {
  return RunCreate<Mission>(pool_, [&](Connection& conn, CreateResult<Mission>& result) {
    CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                          LookUpKey(conn, mission.tenant_id, key));
    if (replay.has_value()) {
      CPTS_ASSIGN_OR_RETURN(std::optional<Mission> m,
                            SelectMission(conn, mission.tenant_id, *replay, false));
      if (!m.has_value()) return NotFound("mission", *replay);
      result.value = *std::move(m);
      result.replayed = true;
      return absl::OkStatus();
    }
    CPTS_RETURN_IF_ERROR(InsertMission(conn, mission));
    CPTS_RETURN_IF_ERROR(RememberKey(conn, mission.tenant_id, key, mission.id));
    result.value = mission;
    result.value.version = 1;
    return absl::OkStatus();
  });
}

absl::StatusOr<Mission> MysqlProjectsStore::UpdateMission(
    absl::string_view tenant_id, absl::string_view mission_id,
    absl::FunctionRef<absl::Status(Mission&)> mutate) {
  return UpdateLocked<Mission>(
      pool_, "mission", tenant_id, mission_id, SelectMission, mutate,
      [&](Connection& conn, const Mission& before, const Mission& changed) -> absl::Status {
        try {
          sql::PreparedStatement& ps = conn.Prepare(kUpdateMission);
          Binder(ps)
              .Int(changed.number)
              .Str(changed.label)
              .Str(changed.description)
              .Int(N(changed.kind))
              .Instant(changed.update_time)
              .Str(tenant_id)
              .Str(mission_id)
              .Int64(before.version);
          CPTS_RETURN_IF_ERROR(ExpectOneRow(ps.executeUpdate(), "mission"));
          if (changed.number != before.number) {
            sql::PreparedStatement& n = conn.Prepare(kUpdateActionsMissionNumber);
            Binder(n).Int(changed.number).Str(tenant_id).Str(mission_id);
            n.executeUpdate();
          }
        } catch (const sql::SQLException& e) {
          return MapDuplicate(
              e, "update mission",
              {{"missions_by_number", "mission.number: already used in this CPTS"}});
        }
        return absl::OkStatus();
      });
}

// =========================================================================================
// Actions
// =========================================================================================

absl::StatusOr<CreateResult<Action>> MysqlProjectsStore::CreateAction(const Action& action,
                                                                      const IdempotencyKey* key) {
  return RunCreate<Action>(pool_, [&](Connection& conn, CreateResult<Action>& result) {
    CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                          LookUpKey(conn, action.tenant_id, key));
    if (replay.has_value()) {
      CPTS_ASSIGN_OR_RETURN(std::optional<Action> a,
                            SelectAction(conn, action.tenant_id, *replay, false));
      if (!a.has_value()) return NotFound("action", *replay);
      result.value = *std::move(a);
      result.replayed = true;
      return absl::OkStatus();
    }
    CPTS_ASSIGN_OR_RETURN(int number, MissionNumber(conn, action.tenant_id, action.mission_id));
    Action a = action;
    try {
      sql::PreparedStatement& ps = conn.Prepare(kInsertAction);
      Binder(ps)
          .Str(a.tenant_id)
          .Str(a.id)
          .Str(a.mission_id)
          .Int(number)
          .Str(a.title)
          .Int(N(a.status))
          .Str(ActionBody(a))
          .Instant(a.create_time)
          .Instant(a.update_time);
      ps.executeUpdate();
    } catch (const sql::SQLException& e) {
      return MapDuplicate(e, "insert action", {{"PRIMARY", "action.id: already exists"}});
    }
    CPTS_RETURN_IF_ERROR(WriteIndicators(conn, ids_, a.tenant_id, a));
    CPTS_RETURN_IF_ERROR(RememberKey(conn, a.tenant_id, key, a.id));
    a.version = 1;
    result.value = std::move(a);
    return absl::OkStatus();
  });
}

absl::StatusOr<Action> MysqlProjectsStore::GetAction(absl::string_view tenant_id,
                                                     absl::string_view action_id) {
  std::optional<Action> out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            CPTS_ASSIGN_OR_RETURN(out, SelectAction(conn, tenant_id, action_id, false));
            return absl::OkStatus();
          });
      !tx.ok()) {
    return tx;
  }
  if (!out.has_value()) return NotFound("action", action_id);
  return *std::move(out);
}

absl::StatusOr<std::vector<Action>> MysqlProjectsStore::ListActions(
    absl::string_view tenant_id, absl::string_view mission_id, ActionStatus status,
    const std::optional<Cursor>& after, int limit) {
  std::vector<Action> out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            out.clear();
            try {
              sql::PreparedStatement& ps = conn.Prepare(kListActions);
              const int number = after.has_value() ? after->mission_number : -1;
              const std::string title = after.has_value() ? after->title : "";
              const std::string id = after.has_value() ? after->id : "";
              Binder(ps)
                  .Str(tenant_id)
                  .Str(mission_id)
                  .Str(mission_id)
                  .Int(N(status))
                  .Int(N(status))
                  .Int(number)
                  .Int(number)
                  .Str(title)
                  .Int(number)
                  .Str(title)
                  .Str(id)
                  .Int(limit);
              CPTS_ASSIGN_OR_RETURN(out, QueryRows<Action>(ps, [&](const sql::ResultSet& rs) {
                                      return ReadActionRow(rs, tenant_id);
                                    }));
            } catch (const sql::SQLException& e) {
              return MapSqlException(e, "list actions");
            }
            for (Action& a : out) {
              CPTS_ASSIGN_OR_RETURN(a.indicators, SelectIndicators(conn, tenant_id, a.id));
            }
            return absl::OkStatus();
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<Action> MysqlProjectsStore::UpdateAction(
    absl::string_view tenant_id, absl::string_view action_id,
    absl::FunctionRef<absl::Status(Action&)> mutate) {
  return UpdateLocked<Action>(
      pool_, "action", tenant_id, action_id, SelectAction, mutate,
      [&](Connection& conn, const Action& before, Action& changed) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(int number, MissionNumber(conn, tenant_id, changed.mission_id));
        try {
          sql::PreparedStatement& ps = conn.Prepare(kUpdateAction);
          Binder(ps)
              .Str(changed.mission_id)
              .Int(number)
              .Str(changed.title)
              .Int(N(changed.status))
              .Str(ActionBody(changed))
              .Instant(changed.update_time)
              .Str(tenant_id)
              .Str(action_id)
              .Int64(before.version);
          CPTS_RETURN_IF_ERROR(ExpectOneRow(ps.executeUpdate(), "action"));
        } catch (const sql::SQLException& e) {
          return MapSqlException(e, "update action");
        }
        return WriteIndicators(conn, ids_, tenant_id, changed);
      });
}

absl::StatusOr<CreateResult<IndicatorValue>> MysqlProjectsStore::RecordValue(
    absl::string_view tenant_id, const IndicatorValue& value, const IdempotencyKey* key) {
  return RunCreate<IndicatorValue>(
      pool_, [&](Connection& conn, CreateResult<IndicatorValue>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, key));
        try {
          if (replay.has_value()) {
            sql::PreparedStatement& ps = conn.Prepare(kSelectValueById);
            Binder(ps).Str(tenant_id).Str(*replay);
            CPTS_ASSIGN_OR_RETURN(auto rows, QueryRows<IndicatorValue>(ps, ReadValue));
            if (rows.empty()) return NotFound("indicator value", *replay);
            result.value = std::move(rows.front());
            result.replayed = true;
            return absl::OkStatus();
          }
          sql::PreparedStatement& check = conn.Prepare(kSelectIndicatorOfAction);
          Binder(check).Str(tenant_id).Str(value.indicator_id).Str(value.action_id);
          std::unique_ptr<sql::ResultSet> rs(check.executeQuery());
          if (!rs->next()) return NotFound("indicator", value.indicator_id);
          sql::PreparedStatement& ps = conn.Prepare(kUpsertValue);
          Binder(ps)
              .Str(tenant_id)
              .Str(value.id.empty() ? ids_.NewId() : value.id)
              .Str(value.action_id)
              .Str(value.indicator_id)
              .Int(value.year)
              .Int(value.month)
              .Int64(value.value)
              .Int(N(value.source))
              .Str(value.recorded_by)
              .Instant(value.record_time);
          ps.executeUpdate();
          sql::PreparedStatement& back = conn.Prepare(kSelectValueByPeriod);
          Binder(back).Str(tenant_id).Str(value.indicator_id).Int(value.year).Int(value.month);
          CPTS_ASSIGN_OR_RETURN(auto rows, QueryRows<IndicatorValue>(back, ReadValue));
          if (rows.empty()) return absl::InternalError("recorded value not found");
          result.value = std::move(rows.front());
        } catch (const sql::SQLException& e) {
          return MapSqlException(e, "record indicator value");
        }
        return RememberKey(conn, tenant_id, key, result.value.id);
      });
}

absl::StatusOr<std::vector<IndicatorValue>> MysqlProjectsStore::ListValues(
    absl::string_view tenant_id, absl::string_view action_id, int year) {
  std::vector<IndicatorValue> out;
  if (absl::Status tx = RunInTransaction(pool_,
                                         [&](Connection& conn) -> absl::Status {
                                           try {
                                             sql::PreparedStatement& ps = conn.Prepare(kListValues);
                                             Binder(ps).Str(tenant_id).Str(action_id).Int(year);
                                             CPTS_ASSIGN_OR_RETURN(
                                                 out, QueryRows<IndicatorValue>(ps, ReadValue));
                                             return absl::OkStatus();
                                           } catch (const sql::SQLException& e) {
                                             return MapSqlException(e, "list indicator values");
                                           }
                                         });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<std::vector<Action>> MysqlProjectsStore::ListAllActions(
    absl::string_view tenant_id) {
  std::vector<Action> out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            try {
              sql::PreparedStatement& ps = conn.Prepare(kListAllActions);
              Binder(ps).Str(tenant_id);
              CPTS_ASSIGN_OR_RETURN(out, QueryRows<Action>(ps, [&](const sql::ResultSet& rs) {
                                      return ReadActionRow(rs, tenant_id);
                                    }));
              sql::PreparedStatement& ind = conn.Prepare(kSelectAllIndicators);
              Binder(ind).Str(tenant_id);
              CPTS_ASSIGN_OR_RETURN(auto rows, QueryRows<IndicatorRow>(ind, ReadIndicatorRow));
              for (auto& [action_id, indicator] : rows) {
                for (Action& a : out) {
                  if (a.id == action_id) a.indicators.push_back(indicator);
                }
              }
              return absl::OkStatus();
            } catch (const sql::SQLException& e) {
              return MapSqlException(e, "list all actions");
            }
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<std::vector<IndicatorValue>> MysqlProjectsStore::ListAllValues(
    absl::string_view tenant_id, int year) {
  std::vector<IndicatorValue> out;
  if (absl::Status tx =
          RunInTransaction(pool_,
                           [&](Connection& conn) -> absl::Status {
                             try {
                               sql::PreparedStatement& ps = conn.Prepare(kListAllValues);
                               Binder(ps).Str(tenant_id).Int(year);
                               CPTS_ASSIGN_OR_RETURN(out, QueryRows<IndicatorValue>(ps, ReadValue));
                               return absl::OkStatus();
                             } catch (const sql::SQLException& e) {
                               return MapSqlException(e, "list all indicator values");
                             }
                           });
      !tx.ok()) {
    return tx;
  }
  return out;
}

// =========================================================================================
// Groups
// =========================================================================================

absl::StatusOr<CreateResult<WorkingGroup>> MysqlProjectsStore::CreateGroup(
    const WorkingGroup& group, const IdempotencyKey* key) {
  return RunCreate<WorkingGroup>(
      pool_, [&](Connection& conn, CreateResult<WorkingGroup>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                              LookUpKey(conn, group.tenant_id, key));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(std::optional<WorkingGroup> g,
                                SelectGroup(conn, group.tenant_id, *replay, false));
          if (!g.has_value()) return NotFound("working group", *replay);
          result.value = *std::move(g);
          result.replayed = true;
          return absl::OkStatus();
        }
        try {
          sql::PreparedStatement& ps = conn.Prepare(kInsertGroup);
          Binder(ps)
              .Str(group.tenant_id)
              .Str(group.id)
              .Str(group.name)
              .Str(GroupBody(group))
              .Instant(group.create_time)
              .Instant(group.update_time);
          ps.executeUpdate();
        } catch (const sql::SQLException& e) {
          return MapDuplicate(e, "insert group", {{"PRIMARY", "working_group.id: already exists"}});
        }
        CPTS_RETURN_IF_ERROR(WriteGroupActions(conn, group.tenant_id, group));
        CPTS_RETURN_IF_ERROR(RememberKey(conn, group.tenant_id, key, group.id));
        result.value = group;
        result.value.version = 1;
        return absl::OkStatus();
      });
}

absl::StatusOr<WorkingGroup> MysqlProjectsStore::GetGroup(absl::string_view tenant_id,
                                                          absl::string_view group_id) {
  std::optional<WorkingGroup> out;
  if (absl::Status tx = RunInTransaction(pool_,
                                         [&](Connection& conn) -> absl::Status {
                                           CPTS_ASSIGN_OR_RETURN(
                                               out, SelectGroup(conn, tenant_id, group_id, false));
                                           return absl::OkStatus();
                                         });
      !tx.ok()) {
    return tx;
  }
  if (!out.has_value()) return NotFound("working group", group_id);
  return *std::move(out);
}

absl::StatusOr<std::vector<WorkingGroup>> MysqlProjectsStore::ListGroups(
    absl::string_view tenant_id, absl::string_view action_id, absl::string_view member_id,
    const std::optional<std::pair<std::string, std::string>>& after, int limit) {
  std::vector<WorkingGroup> out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            try {
              sql::PreparedStatement& ps = conn.Prepare(kListGroups);
              const std::string name = after.has_value() ? after->first : "";
              const std::string id = after.has_value() ? after->second : "";
              Binder(ps)
                  .Str(tenant_id)
                  .Str(action_id)
                  .Str(action_id)
                  .Str(member_id)
                  .Str(member_id)
                  .Str(name)
                  .Str(name)
                  .Str(id)
                  .Int(limit);
              CPTS_ASSIGN_OR_RETURN(out, QueryRows<WorkingGroup>(ps, [&](const sql::ResultSet& rs) {
                                      return ReadGroup(rs, tenant_id);
                                    }));
              return absl::OkStatus();
            } catch (const sql::SQLException& e) {
              return MapSqlException(e, "list groups");
            }
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<WorkingGroup> MysqlProjectsStore::UpdateGroup(
    absl::string_view tenant_id, absl::string_view group_id,
    absl::FunctionRef<absl::Status(WorkingGroup&)> mutate) {
  return UpdateLocked<WorkingGroup>(
      pool_, "working group", tenant_id, group_id, SelectGroup, mutate,
      [&](Connection& conn, const WorkingGroup& before,
          const WorkingGroup& changed) -> absl::Status {
        try {
          sql::PreparedStatement& ps = conn.Prepare(kUpdateGroup);
          Binder(ps)
              .Str(changed.name)
              .Str(GroupBody(changed))
              .Instant(changed.update_time)
              .Str(tenant_id)
              .Str(group_id)
              .Int64(before.version);
          CPTS_RETURN_IF_ERROR(ExpectOneRow(ps.executeUpdate(), "working group"));
        } catch (const sql::SQLException& e) {
          return MapSqlException(e, "update group");
        }
        if (changed.action_ids == before.action_ids) return absl::OkStatus();
        return WriteGroupActions(conn, tenant_id, changed);
      });
}

absl::StatusOr<std::vector<GroupParticipant>> MysqlProjectsStore::ListParticipants(
    absl::string_view tenant_id, absl::string_view group_id) {
  std::vector<GroupParticipant> out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            CPTS_ASSIGN_OR_RETURN(out, SelectParticipants(conn, tenant_id, group_id, false));
            return absl::OkStatus();
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<std::vector<GroupParticipant>> MysqlProjectsStore::ApplyStep(
    absl::string_view tenant_id, absl::string_view group_id, absl::string_view join_request_id,
    absl::FunctionRef<absl::StatusOr<Step>(const std::vector<GroupParticipant>&,
                                           const std::optional<JoinRequest>&)>
        mutate) {
  std::vector<GroupParticipant> written;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            written.clear();
            // The group's row is the lock every step of the group takes first.
            CPTS_ASSIGN_OR_RETURN(std::optional<WorkingGroup> g,
                                  SelectGroup(conn, tenant_id, group_id, true));
            if (!g.has_value()) return NotFound("working group", group_id);
            CPTS_ASSIGN_OR_RETURN(std::vector<GroupParticipant> participants,
                                  SelectParticipants(conn, tenant_id, group_id, true));
            std::optional<JoinRequest> request;
            if (!join_request_id.empty()) {
              try {
                sql::PreparedStatement& ps = conn.Prepare(kSelectJoinRequestForUpdate);
                Binder(ps).Str(tenant_id).Str(join_request_id).Str(group_id);
                CPTS_ASSIGN_OR_RETURN(auto rows, QueryRows<JoinRequest>(ps, ReadJoinRequest));
                if (rows.empty()) return NotFound("join request", join_request_id);
                request = std::move(rows.front());
              } catch (const sql::SQLException& e) {
                return MapSqlException(e, "read join request");
              }
            }
            CPTS_ASSIGN_OR_RETURN(Step step, mutate(participants, request));
            for (GroupParticipant p : step.upserts) {
              p.group_id = std::string(group_id);
              bool insert = true;
              if (p.id.empty()) {
                p.id = ids_.NewId();
              } else {
                insert = std::none_of(participants.begin(), participants.end(),
                                      [&](const GroupParticipant& e) { return e.id == p.id; });
              }
              CPTS_RETURN_IF_ERROR(WriteParticipant(conn, tenant_id, p, insert));
              written.push_back(std::move(p));
            }
            if (step.join_request.has_value()) {
              JoinRequest j = *step.join_request;
              j.group_id = std::string(group_id);
              const bool insert = !request.has_value() || request->id != j.id;
              if (j.id.empty()) j.id = ids_.NewId();
              CPTS_RETURN_IF_ERROR(WriteJoinRequest(conn, tenant_id, j, insert));
              if (step.audit.subject_id.empty()) step.audit.subject_id = j.id;
            }
            if (!step.audit.action.empty()) {
              step.audit.tenant_id = std::string(tenant_id);
              CPTS_RETURN_IF_ERROR(AppendAuditEntry(conn, step.audit));
            }
            return absl::OkStatus();
          });
      !tx.ok()) {
    return tx;
  }
  return written;
}

absl::StatusOr<JoinRequest> MysqlProjectsStore::GetJoinRequest(absl::string_view tenant_id,
                                                               absl::string_view join_request_id) {
  std::vector<JoinRequest> rows;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            try {
              sql::PreparedStatement& ps = conn.Prepare(kSelectJoinRequest);
              Binder(ps).Str(tenant_id).Str(join_request_id);
              CPTS_ASSIGN_OR_RETURN(rows, QueryRows<JoinRequest>(ps, ReadJoinRequest));
              return absl::OkStatus();
            } catch (const sql::SQLException& e) {
              return MapSqlException(e, "read join request");
            }
          });
      !tx.ok()) {
    return tx;
  }
  if (rows.empty()) return NotFound("join request", join_request_id);
  return std::move(rows.front());
}

absl::StatusOr<std::vector<JoinRequest>> MysqlProjectsStore::ListJoinRequests(
    absl::string_view tenant_id, absl::string_view group_id, JoinRequestState state,
    const std::optional<std::pair<absl::Time, std::string>>& before, int limit) {
  std::vector<JoinRequest> out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            try {
              sql::PreparedStatement& ps = conn.Prepare(kListJoinRequests);
              const absl::Time t = before.has_value() ? before->first : TimeMax();
              const std::string id = before.has_value() ? before->second : std::string(kIdMax);
              Binder(ps)
                  .Str(tenant_id)
                  .Str(group_id)
                  .Int(N(state))
                  .Int(N(state))
                  .Instant(t)
                  .Instant(t)
                  .Str(id)
                  .Int(limit);
              CPTS_ASSIGN_OR_RETURN(out, QueryRows<JoinRequest>(ps, ReadJoinRequest));
              return absl::OkStatus();
            } catch (const sql::SQLException& e) {
              return MapSqlException(e, "list join requests");
            }
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

// =========================================================================================
// Tasks and documents
// =========================================================================================

absl::StatusOr<CreateResult<Task>> MysqlProjectsStore::CreateTask(absl::string_view tenant_id,
                                                                  const Task& task,
                                                                  const IdempotencyKey* key) {
  return RunCreate<Task>(pool_, [&](Connection& conn, CreateResult<Task>& result) -> absl::Status {
    CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, key));
    if (replay.has_value()) {
      CPTS_ASSIGN_OR_RETURN(std::optional<Task> t, SelectTask(conn, tenant_id, *replay, false));
      if (!t.has_value()) return NotFound("task", *replay);
      result.value = *std::move(t);
      result.replayed = true;
      return absl::OkStatus();
    }
    CPTS_RETURN_IF_ERROR(CheckGroupExists(conn, tenant_id, task.group_id));
    try {
      sql::PreparedStatement& ps = conn.Prepare(kInsertTask);
      Binder(ps)
          .Str(tenant_id)
          .Str(task.id)
          .Str(task.group_id)
          .Int(N(task.status))
          .Str(DueSort(task.due_date))
          .Str(TaskBody(task));
      ps.executeUpdate();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "insert task");
    }
    CPTS_RETURN_IF_ERROR(WriteAssignees(conn, tenant_id, task));
    CPTS_RETURN_IF_ERROR(RememberKey(conn, tenant_id, key, task.id));
    result.value = task;
    result.value.version = 1;
    return absl::OkStatus();
  });
}

absl::StatusOr<Task> MysqlProjectsStore::UpdateTask(absl::string_view tenant_id,
                                                    absl::string_view task_id,
                                                    absl::FunctionRef<absl::Status(Task&)> mutate) {
  return UpdateLocked<Task>(
      pool_, "task", tenant_id, task_id, SelectTask, mutate,
      [&](Connection& conn, const Task& before, const Task& changed) -> absl::Status {
        try {
          sql::PreparedStatement& ps = conn.Prepare(kUpdateTask);
          Binder(ps)
              .Int(N(changed.status))
              .Str(DueSort(changed.due_date))
              .Str(TaskBody(changed))
              .Str(tenant_id)
              .Str(task_id)
              .Int64(before.version);
          CPTS_RETURN_IF_ERROR(ExpectOneRow(ps.executeUpdate(), "task"));
        } catch (const sql::SQLException& e) {
          return MapSqlException(e, "update task");
        }
        if (changed.assignee_participant_ids == before.assignee_participant_ids) {
          return absl::OkStatus();
        }
        return WriteAssignees(conn, tenant_id, changed);
      });
}

absl::StatusOr<std::vector<Task>> MysqlProjectsStore::ListTasks(
    absl::string_view tenant_id, const TaskRepository::Filter& filter,
    absl::string_view after_token, int limit) {
  std::vector<Task> out;
  if (absl::Status tx =
          RunInTransaction(pool_,
                           [&](Connection& conn) -> absl::Status {
                             try {
                               std::string due = "0000-01-01";
                               std::string id;
                               if (!after_token.empty()) {
                                 sql::PreparedStatement& c = conn.Prepare(kSelectTaskCursor);
                                 Binder(c).Str(tenant_id).Str(after_token);
                                 std::unique_ptr<sql::ResultSet> rs(c.executeQuery());
                                 if (!rs->next())
                                   return absl::InvalidArgumentError("page_token: unknown");
                                 due = rs->getString(1).asStdString();
                                 id = std::string(after_token);
                               }
                               sql::PreparedStatement& ps = conn.Prepare(kListTasks);
                               Binder(ps)
                                   .Str(tenant_id)
                                   .Str(filter.group_id)
                                   .Str(filter.group_id)
                                   .Str(filter.assignee_participant_id)
                                   .Str(filter.assignee_participant_id)
                                   .Str(filter.assignee_member_id)
                                   .Str(filter.assignee_member_id)
                                   .Int(N(filter.status))
                                   .Int(N(filter.status))
                                   .Str(due)
                                   .Str(due)
                                   .Str(id)
                                   .Int(limit);
                               CPTS_ASSIGN_OR_RETURN(out, QueryRows<Task>(ps, ReadTask));
                               return absl::OkStatus();
                             } catch (const sql::SQLException& e) {
                               return MapSqlException(e, "list tasks");
                             }
                           });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<CreateResult<Document>> MysqlProjectsStore::CreateDocument(
    absl::string_view tenant_id, const Document& document, const IdempotencyKey* key) {
  return RunCreate<Document>(
      pool_, [&](Connection& conn, CreateResult<Document>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay, LookUpKey(conn, tenant_id, key));
        try {
          if (replay.has_value()) {
            sql::PreparedStatement& ps = conn.Prepare(kSelectDocument);
            Binder(ps).Str(tenant_id).Str(*replay);
            CPTS_ASSIGN_OR_RETURN(auto rows, QueryRows<Document>(ps, ReadDocument));
            if (rows.empty()) return NotFound("document", *replay);
            result.value = std::move(rows.front());
            result.replayed = true;
            return absl::OkStatus();
          }
          CPTS_RETURN_IF_ERROR(CheckGroupExists(conn, tenant_id, document.group_id));
          sql::PreparedStatement& ps = conn.Prepare(kInsertDocument);
          Binder(ps)
              .Str(tenant_id)
              .Str(document.id)
              .Str(document.group_id)
              .Str(DocumentBody(document))
              .Instant(document.create_time);
          ps.executeUpdate();
        } catch (const sql::SQLException& e) {
          return MapSqlException(e, "insert document");
        }
        CPTS_RETURN_IF_ERROR(RememberKey(conn, tenant_id, key, document.id));
        result.value = document;
        return absl::OkStatus();
      });
}

absl::StatusOr<std::vector<Document>> MysqlProjectsStore::ListDocuments(
    absl::string_view tenant_id, absl::string_view group_id,
    const std::optional<std::pair<absl::Time, std::string>>& before, int limit) {
  std::vector<Document> out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            try {
              sql::PreparedStatement& ps = conn.Prepare(kListDocuments);
              const absl::Time t = before.has_value() ? before->first : TimeMax();
              const std::string id = before.has_value() ? before->second : std::string(kIdMax);
              Binder(ps).Str(tenant_id).Str(group_id).Instant(t).Instant(t).Str(id).Int(limit);
              CPTS_ASSIGN_OR_RETURN(out, QueryRows<Document>(ps, ReadDocument));
              return absl::OkStatus();
            } catch (const sql::SQLException& e) {
              return MapSqlException(e, "list documents");
            }
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

// =========================================================================================
// Meetings
// =========================================================================================

absl::StatusOr<CreateResult<Meeting>> MysqlProjectsStore::CreateMeeting(const Meeting& meeting,
                                                                        const IdempotencyKey* key) {
  return RunCreate<Meeting>(
      pool_, [&](Connection& conn, CreateResult<Meeting>& result) -> absl::Status {
        CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                              LookUpKey(conn, meeting.tenant_id, key));
        if (replay.has_value()) {
          CPTS_ASSIGN_OR_RETURN(std::optional<Meeting> m,
                                SelectMeeting(conn, meeting.tenant_id, *replay, false));
          if (!m.has_value()) return NotFound("meeting", *replay);
          result.value = *std::move(m);
          result.replayed = true;
          return absl::OkStatus();
        }
        CPTS_RETURN_IF_ERROR(CheckGroupExists(conn, meeting.tenant_id, meeting.group_id));
        try {
          sql::PreparedStatement& ps = conn.Prepare(kInsertMeeting);
          Binder(ps)
              .Str(meeting.tenant_id)
              .Str(meeting.id)
              .Str(meeting.group_id)
              .Instant(meeting.start_time)
              .Int(N(meeting.state))
              .Str(MeetingBody(meeting));
          ps.executeUpdate();
        } catch (const sql::SQLException& e) {
          return MapSqlException(e, "insert meeting");
        }
        CPTS_RETURN_IF_ERROR(RememberKey(conn, meeting.tenant_id, key, meeting.id));
        result.value = meeting;
        result.value.version = 1;
        return absl::OkStatus();
      });
}

absl::StatusOr<Meeting> MysqlProjectsStore::GetMeeting(absl::string_view tenant_id,
                                                       absl::string_view meeting_id) {
  std::optional<Meeting> out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            CPTS_ASSIGN_OR_RETURN(out, SelectMeeting(conn, tenant_id, meeting_id, false));
            return absl::OkStatus();
          });
      !tx.ok()) {
    return tx;
  }
  if (!out.has_value()) return NotFound("meeting", meeting_id);
  return *std::move(out);
}

absl::StatusOr<std::vector<Meeting>> MysqlProjectsStore::ListMeetings(
    absl::string_view tenant_id, const MeetingRepository::Filter& filter,
    const std::optional<std::pair<absl::Time, std::string>>& after, int limit) {
  std::vector<Meeting> out;
  if (absl::Status tx =
          RunInTransaction(pool_,
                           [&](Connection& conn) -> absl::Status {
                             try {
                               sql::PreparedStatement& ps = conn.Prepare(kListMeetings);
                               const absl::Time t = after.has_value() ? after->first : TimeMin();
                               const std::string id = after.has_value() ? after->second : "";
                               Binder(ps)
                                   .Str(tenant_id)
                                   .Str(filter.group_id)
                                   .Str(filter.group_id)
                                   .Instant(filter.start_after)
                                   .Instant(filter.start_after)
                                   .Instant(filter.start_before)
                                   .Instant(filter.start_before)
                                   .Int(N(filter.state))
                                   .Int(N(filter.state))
                                   .Instant(t)
                                   .Instant(t)
                                   .Str(id)
                                   .Int(limit);
                               std::unique_ptr<sql::ResultSet> rs(ps.executeQuery());
                               out.clear();
                               while (rs->next()) {
                                 RowReader r(*rs);
                                 CPTS_ASSIGN_OR_RETURN(Meeting m, ReadMeeting(r, tenant_id));
                                 out.push_back(std::move(m));
                               }
                               return absl::OkStatus();
                             } catch (const sql::SQLException& e) {
                               return MapSqlException(e, "list meetings");
                             }
                           });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<Meeting> MysqlProjectsStore::UpdateMeeting(
    absl::string_view tenant_id, absl::string_view meeting_id,
    absl::FunctionRef<absl::Status(Meeting&)> mutate) {
  return UpdateLocked<Meeting>(
      pool_, "meeting", tenant_id, meeting_id, SelectMeeting, mutate,
      [&](Connection& conn, const Meeting& before, const Meeting& changed) -> absl::Status {
        try {
          sql::PreparedStatement& ps = conn.Prepare(kUpdateMeeting);
          Binder(ps)
              .Instant(changed.start_time)
              .Int(N(changed.state))
              .Str(MeetingBody(changed))
              .Str(tenant_id)
              .Str(meeting_id)
              .Int64(before.version);
          CPTS_RETURN_IF_ERROR(ExpectOneRow(ps.executeUpdate(), "meeting"));
        } catch (const sql::SQLException& e) {
          return MapSqlException(e, "update meeting");
        }
        return absl::OkStatus();
      });
}

absl::Status MysqlProjectsStore::PutReply(absl::string_view tenant_id, const MeetingReply& reply) {
  return RunInTransaction(pool_, [&](Connection& conn) -> absl::Status {
    try {
      sql::PreparedStatement& ps = conn.Prepare(kUpsertReply);
      Binder(ps)
          .Str(tenant_id)
          .Str(reply.meeting_id)
          .Str(reply.participant_id)
          .Int(N(reply.kind))
          .Bool(reply.late)
          .Str(reply.reason)
          .Instant(reply.reply_time);
      ps.executeUpdate();
      return absl::OkStatus();
    } catch (const sql::SQLException& e) {
      return MapSqlException(e, "record reply");
    }
  });
}

absl::StatusOr<std::vector<MeetingReply>> MysqlProjectsStore::ListReplies(
    absl::string_view tenant_id, absl::string_view meeting_id) {
  std::vector<MeetingReply> out;
  if (absl::Status tx =
          RunInTransaction(pool_,
                           [&](Connection& conn) -> absl::Status {
                             try {
                               sql::PreparedStatement& ps = conn.Prepare(kListReplies);
                               Binder(ps).Str(tenant_id).Str(meeting_id);
                               CPTS_ASSIGN_OR_RETURN(out, QueryRows<MeetingReply>(ps, ReadReply));
                               return absl::OkStatus();
                             } catch (const sql::SQLException& e) {
                               return MapSqlException(e, "list replies");
                             }
                           });
      !tx.ok()) {
    return tx;
  }
  return out;
}

// =========================================================================================
// Attendance
// =========================================================================================

absl::StatusOr<std::optional<AttendanceSheet>> MysqlProjectsStore::GetSheet(
    absl::string_view tenant_id, absl::string_view meeting_id) {
  std::optional<AttendanceSheet> out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            CPTS_ASSIGN_OR_RETURN(out, SelectSheet(conn, tenant_id, meeting_id, false));
            return absl::OkStatus();
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<AttendanceSheet> MysqlProjectsStore::MutateSheet(
    absl::string_view tenant_id, absl::string_view meeting_id, const AttendanceSheet& initial,
    absl::FunctionRef<absl::StatusOr<std::vector<EntitlementEvent>>(AttendanceSheet&)> mutate,
    AuditEntry audit, const IdempotencyKey* key) {
  AttendanceSheet out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            // The meeting's row serialises the writers of its sheet, the first one included.
            CPTS_ASSIGN_OR_RETURN(std::optional<Meeting> meeting,
                                  SelectMeeting(conn, tenant_id, meeting_id, true));
            if (!meeting.has_value()) return NotFound("meeting", meeting_id);
            CPTS_ASSIGN_OR_RETURN(std::optional<AttendanceSheet> stored,
                                  SelectSheet(conn, tenant_id, meeting_id, true));
            CPTS_ASSIGN_OR_RETURN(std::optional<std::string> replay,
                                  LookUpKey(conn, tenant_id, key));
            if (replay.has_value()) {
              if (*replay != meeting_id || !stored.has_value()) {
                return absl::InvalidArgumentError(
                    "request_id: already used for a different request");
              }
              out = *stored;
              return absl::OkStatus();
            }
            AttendanceSheet sheet = stored.has_value() ? *stored : initial;
            sheet.tenant_id = std::string(tenant_id);
            sheet.meeting_id = std::string(meeting_id);
            sheet.group_id = meeting->group_id;
            CPTS_ASSIGN_OR_RETURN(std::vector<EntitlementEvent> events, mutate(sheet));
            try {
              if (stored.has_value()) {
                sql::PreparedStatement& ps = conn.Prepare(kUpdateSheet);
                Binder(ps)
                    .Int(N(sheet.state))
                    .Str(SheetBody(sheet))
                    .Str(tenant_id)
                    .Str(meeting_id)
                    .Int64(stored->revision);
                CPTS_RETURN_IF_ERROR(ExpectOneRow(ps.executeUpdate(), "attendance sheet"));
                sheet.revision = stored->revision + 1;
              } else {
                sql::PreparedStatement& ps = conn.Prepare(kInsertSheet);
                Binder(ps)
                    .Str(tenant_id)
                    .Str(meeting_id)
                    .Str(meeting->group_id)
                    .Instant(meeting->start_time)
                    .Int(N(sheet.state))
                    .Str(SheetBody(sheet));
                ps.executeUpdate();
                sheet.revision = 1;
              }
              sql::PreparedStatement& del = conn.Prepare(kDeleteAttendanceMembers);
              Binder(del).Str(tenant_id).Str(meeting_id);
              del.executeUpdate();
              sql::PreparedStatement& ins = conn.Prepare(kInsertAttendanceMember);
              for (const AttendanceLine& line : sheet.lines) {
                if (line.member_id.empty()) continue;
                Binder(ins)
                    .Str(tenant_id)
                    .Str(line.member_id)
                    .Instant(meeting->start_time)
                    .Str(meeting_id);
                ins.executeUpdate();
              }
            } catch (const sql::SQLException& e) {
              return MapSqlException(e, "write attendance sheet");
            }
            audit.tenant_id = std::string(tenant_id);
            if (audit.subject_kind.empty()) audit.subject_kind = "meeting";
            if (audit.subject_id.empty()) audit.subject_id = std::string(meeting_id);
            if (!audit.action.empty()) CPTS_RETURN_IF_ERROR(AppendAuditEntry(conn, audit));
            for (const EntitlementEvent& event : events) {
              v1::AttendanceEntitlementEvent payload;
              ToProto(event, &payload);
              platform::db::OutboxEvent row;
              row.tenant_id = std::string(tenant_id);
              row.topic = kAttendanceTopic;
              row.event_key = event.idempotency_key;
              row.payload = Serialize(payload);
              row.created_at = IsFinite(audit.time) ? audit.time : absl::UnixEpoch();
              absl::Status appended = platform::db::AppendOutbox(conn, row);
              if (!appended.ok() && !absl::IsAlreadyExists(appended)) return appended;
            }
            CPTS_RETURN_IF_ERROR(RememberKey(conn, tenant_id, key, meeting_id));
            out = std::move(sheet);
            return absl::OkStatus();
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<std::vector<AttendanceRepository::HeldSheet>> MysqlProjectsStore::ListFinalSheets(
    absl::string_view tenant_id, absl::string_view group_id, absl::Time from, absl::Time to) {
  std::vector<HeldSheet> out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            try {
              sql::PreparedStatement& ps = conn.Prepare(kListFinalSheets);
              Binder(ps).Str(tenant_id).Str(group_id).Str(group_id).Instant(from).Instant(to);
              CPTS_ASSIGN_OR_RETURN(out, ReadHeldSheets(ps, tenant_id));
              return absl::OkStatus();
            } catch (const sql::SQLException& e) {
              return MapSqlException(e, "list final sheets");
            }
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<std::vector<AttendanceRepository::HeldSheet>> MysqlProjectsStore::ListSheetsOfMember(
    absl::string_view tenant_id, absl::string_view member_id,
    const std::optional<std::pair<absl::Time, std::string>>& before, int limit) {
  std::vector<HeldSheet> out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            try {
              sql::PreparedStatement& ps = conn.Prepare(kListSheetsOfMember);
              const absl::Time t = before.has_value() ? before->first : TimeMax();
              const std::string id = before.has_value() ? before->second : std::string(kIdMax);
              Binder(ps).Str(tenant_id).Str(member_id).Instant(t).Instant(t).Str(id).Int(limit);
              CPTS_ASSIGN_OR_RETURN(out, ReadHeldSheets(ps, tenant_id));
              return absl::OkStatus();
            } catch (const sql::SQLException& e) {
              return MapSqlException(e, "list sheets of member");
            }
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

// =========================================================================================
// Outbox
// =========================================================================================

namespace {
// A whole topic may be re-queued at once: the audit row names the first ids and the count.
std::string IdList(const std::vector<int64_t>& ids) {
  constexpr size_t kMaxListed = 100;
  if (ids.size() <= kMaxListed) return absl::StrJoin(ids, ",");
  return absl::StrCat(absl::StrJoin(ids.begin(), ids.begin() + kMaxListed, ","), ",...(",
                      ids.size(), ")");
}
}  // namespace

absl::StatusOr<DeadEventPage> MysqlProjectsStore::ListDeadEvents(absl::string_view tenant_id,
                                                                 int limit, int64_t after_id) {
  DeadEventPage out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            CPTS_ASSIGN_OR_RETURN(
                platform::db::DeadOutboxPage page,
                platform::db::ListDeadOutbox(conn, std::string(tenant_id), limit, after_id));
            out = DeadEventPage{};
            out.events.reserve(page.events.size());
            for (platform::db::DeadOutboxEvent& e : page.events) {
              out.events.push_back({.id = e.seq,
                                    .topic = std::move(e.topic),
                                    .event_key = std::move(e.event_key),
                                    .attempts = e.attempts,
                                    .last_error = std::move(e.last_error),
                                    .dead_time = e.dead_since});
            }
            out.next_after_id = page.next_after_seq;
            return absl::OkStatus();
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

absl::StatusOr<RequeueOutcome> MysqlProjectsStore::RequeueEvents(absl::string_view tenant_id,
                                                                 const std::vector<int64_t>& ids,
                                                                 absl::string_view topic,
                                                                 absl::Time now, AuditEntry audit) {
  RequeueOutcome out;
  if (absl::Status tx = RunInTransaction(
          pool_,
          [&](Connection& conn) -> absl::Status {
            const std::string tenant(tenant_id);
            absl::StatusOr<platform::db::OutboxRequeueResult> result =
                ids.empty()
                    ? platform::db::RequeueDeadOutboxTopic(conn, tenant, std::string(topic), now)
                    : platform::db::RequeueDeadOutbox(conn, tenant, ids, now);
            if (!result.ok()) return result.status();
            out = RequeueOutcome{.requeued = std::move(result->requeued),
                                 .not_dead = std::move(result->not_dead)};
            AuditEntry entry = audit;
            entry.tenant_id = tenant;
            absl::StrAppend(&entry.details, entry.details.empty() ? "" : " ",
                            "requeued=", IdList(out.requeued), " not_dead=", IdList(out.not_dead));
            return AppendAuditEntry(conn, entry);
          });
      !tx.ok()) {
    return tx;
  }
  return out;
}

}  // namespace cpts::projects
