-- The MT half of the access schema: requests to find a médecin traitant, their history, the
-- GPs who declined them, GP capacities and placements. Audit rows go to the platform's shared
-- audit_log table (platform migrations).
--
-- Conventions:
-- - tenant_id leads every table, its primary key and every index (sharding by tenant later).
-- - Ids, member ids and keys are utf8mb4_bin (compared byte for byte, as the domain does).
-- - Instants are DATETIME(6) in UTC; days are DATE.
-- - Enumerations are TINYINT holding the C++ enumerator's value (mt_model.h); priority classes
--   are stored as their rank 1..4 (mt_priority.h PriorityRank), which is the queue order.
-- - Patient data (names, birth date, contact, notes, triage synthesis, reasons) are *_ct
--   columns holding FieldCipher ciphertext ("cpts1:<key>:..."), NULL once purged by the
--   retention job. duplicate_key is the FieldCipher keyed hash of the folded names, birth date
--   and commune (never plaintext).
-- - No foreign keys: children are written while the parent row is locked.

CREATE TABLE mt_requests (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  -- The client's idempotency key (NULL when none) and a keyed hash of the submission it came
  -- with, to tell a retry from a reuse of the key for another request.
  request_id VARCHAR(128) COLLATE utf8mb4_bin NULL,
  request_fingerprint VARCHAR(80) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  given_name_ct TEXT NULL,
  family_name_ct TEXT NULL,
  birth_date_ct TEXT NULL,
  sex TINYINT NOT NULL DEFAULT 0,
  phone_ct TEXT NULL,
  email_ct TEXT NULL,
  notes_ct TEXT NULL,
  duplicate_key VARCHAR(80) COLLATE utf8mb4_bin NULL,
  commune_insee VARCHAR(5) COLLATE utf8mb4_bin NOT NULL,
  ald BOOLEAN NOT NULL,
  over_70 BOOLEAN NOT NULL,
  under_6 BOOLEAN NOT NULL,
  precarity BOOLEAN NOT NULL,
  disability BOOLEAN NOT NULL,
  pregnancy BOOLEAN NOT NULL,
  origin TINYINT NOT NULL,
  origin_detail VARCHAR(200) NOT NULL DEFAULT '',
  consent_granted BOOLEAN NOT NULL,
  consent_time DATETIME(6) NOT NULL,
  state TINYINT NOT NULL,
  priority_rank TINYINT NOT NULL,
  computed_priority_rank TINYINT NOT NULL,
  triaged BOOLEAN NOT NULL DEFAULT FALSE,
  triage_synthesis_ct TEXT NULL,
  triage_priority_rank TINYINT NOT NULL DEFAULT 5,
  triage_overridden BOOLEAN NOT NULL DEFAULT FALSE,
  triaged_by VARCHAR(190) NOT NULL DEFAULT '',
  triage_time DATETIME(6) NULL,
  gp_member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  -- Ids joined by ','; only ever read and written whole.
  possible_duplicate_ids TEXT NOT NULL,
  state_reason_ct TEXT NULL,
  submitted_by VARCHAR(190) NOT NULL DEFAULT '',
  create_time DATETIME(6) NOT NULL,
  state_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  -- When the retention job erased the patient data; NULL before.
  purge_time DATETIME(6) NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY mt_requests_by_request_id (tenant_id, request_id),
  KEY mt_requests_queue (tenant_id, priority_rank, create_time, id),
  KEY mt_requests_by_duplicate_key (tenant_id, duplicate_key),
  KEY mt_requests_by_state (tenant_id, state, state_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The history of a request, one row per step, seq 1.. in order.
CREATE TABLE mt_transitions (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  mt_request_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  seq INT NOT NULL,
  action TINYINT NOT NULL,
  from_state TINYINT NOT NULL,
  to_state TINYINT NOT NULL,
  actor VARCHAR(190) NOT NULL DEFAULT '',
  actor_member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  time DATETIME(6) NOT NULL,
  reason_ct TEXT NULL,
  gp_member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  priority_rank TINYINT NOT NULL,
  PRIMARY KEY (tenant_id, mt_request_id, seq),
  KEY mt_transitions_by_action (tenant_id, action, time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The GPs who declined a request (never proposed it again), in decline order.
CREATE TABLE mt_declined_gps (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  mt_request_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  gp_member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  seq INT NOT NULL,
  PRIMARY KEY (tenant_id, mt_request_id, gp_member_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One declaration per GP. priority_mask has bit r set for each accepted class of rank r
-- (1..4). remaining_count never goes below 0 (the CHECK backs the conditional UPDATE).
CREATE TABLE gp_capacities (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  gp_member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  declared_count INT NOT NULL,
  remaining_count INT NOT NULL,
  valid_until DATE NOT NULL,
  priority_mask TINYINT NOT NULL,
  -- INSEE codes joined by ',', in declaration order; gp_capacity_communes indexes them.
  communes TEXT NOT NULL,
  declared_by VARCHAR(190) NOT NULL DEFAULT '',
  declare_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, gp_member_id),
  CONSTRAINT gp_capacities_remaining CHECK (remaining_count >= 0 AND remaining_count <= declared_count)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE gp_capacity_communes (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  gp_member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  commune_insee VARCHAR(5) COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (tenant_id, gp_member_id, commune_insee),
  KEY gp_capacity_communes_by_commune (tenant_id, commune_insee, gp_member_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per placed request: the non-personal facts kept for indicators after the patient
-- data are purged.
CREATE TABLE mt_placements (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  mt_request_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  gp_member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  priority_rank TINYINT NOT NULL,
  ald BOOLEAN NOT NULL,
  create_time DATETIME(6) NOT NULL,
  placed_time DATETIME(6) NOT NULL,
  wait_seconds BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, mt_request_id),
  KEY mt_placements_by_time (tenant_id, placed_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
