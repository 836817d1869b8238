-- The finance schema: indemnity policies, annual ceilings, entitlements, the double-entry
-- journal, payee bank accounts, payment batches and ACI funding.
--
-- Conventions (as in the other services):
-- - tenant_id leads every table, its primary key and every index. The annual ceilings are
--   platform-wide: their rows carry tenant_id '' (the platform).
-- - Ids, keys and request ids are utf8mb4_bin (compared byte for byte).
-- - Instants are DATETIME(6) in UTC; days are DATE; money is BIGINT euro cents.
-- - Enumerations are TINYINT holding the domain's enumerator (model.h), which is also the
--   proto's number.
-- - No foreign keys: children are written by the store while it holds the parent's lock.

CREATE TABLE idempotency_keys (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  scope VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  request_id VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
  fingerprint VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  resource_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, scope, request_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE annual_ceilings (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  year INT NOT NULL,
  ceiling_cents BIGINT NOT NULL,
  update_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, year)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE indemnity_policies (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  year INT NOT NULL,
  version INT NOT NULL,
  kind TINYINT NOT NULL,
  member_amount_cents BIGINT NOT NULL,
  referent_amount_cents BIGINT NOT NULL,
  member_millipoints_per_hour BIGINT NOT NULL,
  referent_millipoints_per_hour BIGINT NOT NULL,
  point_value_cents BIGINT NOT NULL,
  decision_reference VARCHAR(500) NOT NULL DEFAULT '',
  frozen BOOLEAN NOT NULL,
  in_force BOOLEAN NOT NULL,
  create_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  row_version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY indemnity_policies_by_year (tenant_id, year, version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per (member, year) that has been rated: RecordEntitlement locks it FOR UPDATE so
-- two meetings of the same member cannot both use the last room under the annual cap.
CREATE TABLE cap_locks (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  year INT NOT NULL,
  PRIMARY KEY (tenant_id, member_id, year)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per attendance event applied. The unique key on the event's idempotency key is
-- what makes a replayed event pay nothing twice.
CREATE TABLE entitlements (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  idempotency_key VARCHAR(250) COLLATE utf8mb4_bin NOT NULL,
  meeting_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  group_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  action_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  participant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  meeting_date DATE NOT NULL,
  sheet_version INT NOT NULL,
  role TINYINT NOT NULL,
  minutes_worked INT NOT NULL,
  category TINYINT NOT NULL,
  policy_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  rated_cents BIGINT NOT NULL,
  capped_cents BIGINT NOT NULL,
  amount_cents BIGINT NOT NULL,
  ineligible_reason TINYINT NOT NULL,
  cap_reason VARCHAR(500) NOT NULL DEFAULT '',
  payee_type TINYINT NOT NULL,
  payee_member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  payee_convention_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  status TINYINT NOT NULL,
  supersedes_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  batch_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  approved_by VARCHAR(190) NOT NULL DEFAULT '',
  approve_time DATETIME(6) NULL,
  create_time DATETIME(6) NOT NULL,
  row_version BIGINT NOT NULL,
  -- The journal transaction of the amount due ('' when nothing was due).
  transaction_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY entitlements_by_event (tenant_id, idempotency_key),
  KEY entitlements_by_date (tenant_id, meeting_date, id),
  KEY entitlements_by_member (tenant_id, member_id, meeting_date, id),
  KEY entitlements_by_status (tenant_id, status, payee_member_id, id),
  KEY entitlements_by_batch (tenant_id, batch_id),
  KEY entitlements_by_supersedes (tenant_id, supersedes_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The journal's order per tenant: every append locks the tenant's head row, so sequence
-- numbers are gap-free and in commit order (keyset pages never skip a late commit).
CREATE TABLE ledger_heads (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  last_sequence BIGINT NOT NULL,
  PRIMARY KEY (tenant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- reverses_id is NULL unless the transaction is a reversal: the unique key then forbids
-- reversing a transaction twice.
CREATE TABLE ledger_transactions (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  sequence BIGINT NOT NULL,
  kind TINYINT NOT NULL,
  value_date DATE NOT NULL,
  description VARCHAR(500) NOT NULL DEFAULT '',
  reverses_id VARCHAR(64) COLLATE utf8mb4_bin NULL,
  source_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  create_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY ledger_transactions_by_sequence (tenant_id, sequence),
  UNIQUE KEY ledger_transactions_by_reversed (tenant_id, reverses_id),
  KEY ledger_transactions_by_date (tenant_id, value_date, sequence),
  KEY ledger_transactions_by_source (tenant_id, source_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE ledger_entries (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  transaction_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  line_no INT NOT NULL,
  sequence BIGINT NOT NULL,
  value_date DATE NOT NULL,
  account_kind TINYINT NOT NULL,
  account_key VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  amount_cents BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, transaction_id, line_no),
  KEY ledger_entries_by_account (tenant_id, account_kind, account_key, sequence),
  KEY ledger_entries_by_sequence (tenant_id, sequence),
  KEY ledger_entries_by_date (tenant_id, value_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The journal is append-only, enforced by the database: the service's user (SELECT, INSERT,
-- UPDATE, DELETE) can neither drop these triggers nor TRUNCATE the tables.
CREATE TRIGGER ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ledger_transactions is append-only';

CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ledger_transactions is append-only';

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ledger_entries is append-only';

CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ledger_entries is append-only';

CREATE TABLE bank_accounts (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  holder_name VARCHAR(200) NOT NULL,
  iban VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  bic VARCHAR(16) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  update_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, member_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE payment_batches (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  label VARCHAR(200) NOT NULL DEFAULT '',
  state TINYINT NOT NULL,
  execution_date DATE NOT NULL,
  approved_by VARCHAR(190) NOT NULL DEFAULT '',
  approve_time DATETIME(6) NULL,
  export_time DATETIME(6) NULL,
  paid_date DATE NULL,
  create_time DATETIME(6) NOT NULL,
  row_version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  KEY payment_batches_by_creation (tenant_id, create_time, id),
  KEY payment_batches_by_state (tenant_id, state, create_time, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- entitlement_ids: the line's entitlement ids joined by ',' (ids never hold a comma); only
-- ever read and written whole.
CREATE TABLE payment_batch_lines (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  batch_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  line_no INT NOT NULL,
  payee_member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  payee_name VARCHAR(200) NOT NULL DEFAULT '',
  iban VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  bic VARCHAR(16) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  entitlement_ids MEDIUMTEXT COLLATE utf8mb4_bin NOT NULL,
  amount_cents BIGINT NOT NULL,
  blocked BOOLEAN NOT NULL,
  blocked_reason VARCHAR(500) NOT NULL DEFAULT '',
  end_to_end_id VARCHAR(35) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, batch_id, line_no)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE aci_contracts (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  signature_date DATE NOT NULL,
  duration_years INT NOT NULL,
  size INT NOT NULL,
  reference VARCHAR(200) NOT NULL DEFAULT '',
  create_time DATETIME(6) NOT NULL,
  row_version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE aci_envelopes (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  year INT NOT NULL,
  kind TINYINT NOT NULL,
  mission_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  fixed_cents BIGINT NOT NULL,
  variable_cents BIGINT NOT NULL,
  advance_basis_points INT NOT NULL,
  PRIMARY KEY (tenant_id, year, kind, mission_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- expected_transaction_id: the kAciExpected transaction of the current expected amount.
CREATE TABLE aci_instalments (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  year INT NOT NULL,
  envelope_kind TINYINT NOT NULL,
  mission_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  kind TINYINT NOT NULL,
  expected_cents BIGINT NOT NULL,
  due_date DATE NOT NULL,
  received_cents BIGINT NOT NULL DEFAULT 0,
  received_date DATE NULL,
  expected_transaction_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY aci_instalments_by_envelope (tenant_id, year, envelope_kind, mission_id, kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE aci_attainments (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  year INT NOT NULL,
  indicator_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  mission_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  label VARCHAR(200) NOT NULL DEFAULT '',
  weight_basis_points INT NOT NULL,
  target_milli BIGINT NOT NULL,
  achieved_milli BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, year, indicator_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE action_budgets (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  year INT NOT NULL,
  action_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  mission_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  allocated_cents BIGINT NOT NULL,
  committed_cents BIGINT NOT NULL,
  row_version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, year, action_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE expenses (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  action_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  category TINYINT NOT NULL,
  amount_cents BIGINT NOT NULL,
  expense_date DATE NOT NULL,
  supplier VARCHAR(200) NOT NULL DEFAULT '',
  reference VARCHAR(200) NOT NULL DEFAULT '',
  create_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, id),
  KEY expenses_by_date (tenant_id, expense_date, id),
  KEY expenses_by_action (tenant_id, action_id, expense_date, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
