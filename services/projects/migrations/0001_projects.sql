-- The projects schema: missions, actions and their indicators, working groups (participants,
-- join requests, tasks, documents), meetings (replies) and attendance sheets. Audit entries
-- go to the platform's audit_log, entitlement events to its outbox_event table (platform
-- migrations, run first).
--
-- Conventions (as in membership):
-- - tenant_id leads every table, its primary key and every index.
-- - Ids, request ids and sort keys are utf8mb4_bin; instants DATETIME(6) UTC; days DATE.
-- - The columns that are filtered, sorted or unique are real columns; the rest of a record
--   that is only ever read and written whole is its cpts.projects.v1 message, serialized, in
--   `body` (the API's own evolution rules then apply to the stored form).
-- - Enumerations are stored as their proto number (TINYINT).
-- - No foreign keys: children are written while the parent row is locked.

CREATE TABLE missions (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  number INT NOT NULL,
  label VARCHAR(200) NOT NULL,
  description TEXT NOT NULL,
  kind TINYINT NOT NULL,
  create_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY missions_by_number (tenant_id, number)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per tenant that has been seeded: the lock two concurrent first ListMissions take.
CREATE TABLE mission_seeds (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  seed_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- body: cpts.projects.v1.Action without its indicators.
CREATE TABLE actions (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  mission_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  mission_number INT NOT NULL,
  title VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
  status TINYINT NOT NULL,
  body MEDIUMBLOB NOT NULL,
  create_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  KEY actions_in_order (tenant_id, mission_number, title, id),
  KEY actions_by_mission (tenant_id, mission_id, title, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- body: cpts.projects.v1.Indicator (with its targets). ordinal keeps the action's order.
CREATE TABLE indicators (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  action_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  ordinal INT NOT NULL,
  name VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY indicators_by_name (tenant_id, action_id, name),
  KEY indicators_of_action (tenant_id, action_id, ordinal)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE indicator_values (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  action_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  indicator_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  year INT NOT NULL,
  month TINYINT NOT NULL,
  value BIGINT NOT NULL,
  source TINYINT NOT NULL,
  recorded_by VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
  record_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY values_by_period (tenant_id, indicator_id, year, month),
  KEY values_of_action (tenant_id, action_id, year),
  KEY values_of_year (tenant_id, year)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- body: cpts.projects.v1.WorkingGroup.
CREATE TABLE working_groups (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  name VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
  body BLOB NOT NULL,
  create_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  KEY groups_by_name (tenant_id, name, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The actions a group carries (ListWorkingGroups by action).
CREATE TABLE group_actions (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  action_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  group_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  ordinal INT NOT NULL,
  PRIMARY KEY (tenant_id, action_id, group_id),
  KEY actions_of_group (tenant_id, group_id, ordinal)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- current_member is the member id of an ACTIVE participation (NULL otherwise): one current
-- participation per member and group.
CREATE TABLE group_participants (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  group_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  guest_name VARCHAR(200) NOT NULL,
  guest_organization VARCHAR(200) NOT NULL,
  role TINYINT NOT NULL,
  state TINYINT NOT NULL,
  join_time DATETIME(6) NOT NULL,
  leave_time DATETIME(6) NULL,
  current_member VARCHAR(64) COLLATE utf8mb4_bin
    AS (IF(state = 1 AND member_id <> '', member_id, NULL)) PERSISTENT,
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY participants_current (tenant_id, group_id, current_member),
  KEY participants_of_group (tenant_id, group_id, id),
  KEY participations_of_member (tenant_id, member_id, state)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- pending_member is the member id of a PENDING request: one pending request per member and
-- group.
CREATE TABLE join_requests (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  group_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  message TEXT NOT NULL,
  state TINYINT NOT NULL,
  decided_by VARCHAR(200) NOT NULL,
  decision_reason TEXT NOT NULL,
  create_time DATETIME(6) NOT NULL,
  decide_time DATETIME(6) NULL,
  pending_member VARCHAR(64) COLLATE utf8mb4_bin AS (IF(state = 1, member_id, NULL)) PERSISTENT,
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY join_requests_pending (tenant_id, group_id, pending_member),
  KEY join_requests_of_group (tenant_id, group_id, create_time, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- body: cpts.projects.v1.Task. due_sort puts tasks without a due date last.
CREATE TABLE tasks (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  group_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  status TINYINT NOT NULL,
  due_sort DATE NOT NULL,
  body BLOB NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  KEY tasks_of_group (tenant_id, group_id, due_sort, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE task_assignees (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  task_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  participant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (tenant_id, task_id, participant_id),
  KEY assignees_by_participant (tenant_id, participant_id),
  KEY assignees_by_member (tenant_id, member_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- body: cpts.projects.v1.Document.
CREATE TABLE documents (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  group_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  body BLOB NOT NULL,
  create_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, id),
  KEY documents_of_group (tenant_id, group_id, create_time, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- body: cpts.projects.v1.Meeting.
CREATE TABLE meetings (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  group_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  start_time DATETIME(6) NOT NULL,
  state TINYINT NOT NULL,
  body MEDIUMBLOB NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  KEY meetings_by_start (tenant_id, start_time, id),
  KEY meetings_of_group (tenant_id, group_id, start_time, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE meeting_replies (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  meeting_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  participant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  kind TINYINT NOT NULL,
  late BOOLEAN NOT NULL,
  reason TEXT NOT NULL,
  reply_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, meeting_id, participant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- body: cpts.projects.v1.AttendanceSheet (lines, amendments). start_time copies the
-- meeting's (it never changes once a sheet exists: a started meeting cannot move).
CREATE TABLE attendance_sheets (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  meeting_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  group_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  start_time DATETIME(6) NOT NULL,
  state TINYINT NOT NULL,
  body MEDIUMBLOB NOT NULL,
  revision BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, meeting_id),
  KEY sheets_by_start (tenant_id, start_time, meeting_id),
  KEY sheets_of_group (tenant_id, group_id, start_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The members named on a sheet (participation history), rewritten with the sheet.
CREATE TABLE attendance_members (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  start_time DATETIME(6) NOT NULL,
  meeting_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (tenant_id, member_id, start_time, meeting_id),
  KEY attendance_members_of_meeting (tenant_id, meeting_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE idempotency_keys (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  scope VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  request_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
  fingerprint VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
  resource_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, scope, request_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
