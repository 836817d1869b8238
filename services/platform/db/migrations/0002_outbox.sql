-- The transactional outbox (services/platform/db/outbox.h, docs/outbox.md): events appended in
-- the same transaction as the change they announce, delivered by OutboxRelay to the consuming
-- service's idempotent RPC. Rows are never deleted: state goes pending -> delivered, or
-- pending -> dead (kept with last_error for an operator to inspect and re-queue).
--
-- Finding due events across tenants while every index leads with tenant_id:
--  - `seq` is a global AUTO_INCREMENT. InnoDB needs an index led by it (as audit_log_by_id), so
--    UNIQUE KEY (seq) is the one index not led by tenant_id; it is shard-local under sharding,
--    where each shard runs its own relay.
--  - KEY (tenant_id, state, seq) gives, per tenant, the oldest pending seq in one index dive:
--    SELECT tenant_id, MIN(seq) ... WHERE state = 'pending' GROUP BY tenant_id is a loose index
--    scan costing one dive per tenant, whatever the number of delivered rows.
--  - The relay then scans UNIQUE KEY (seq) from the smallest of those (the low-water mark) with
--    FOR UPDATE SKIP LOCKED, so it only reads rows written since the oldest pending event, and
--    two relays never claim the same row.
-- topic and event_key compare byte for byte (utf8mb4_bin): "A-1" and "a-1" are distinct keys.
-- last_error is VARBINARY: a consumer's error message is stored as is, whatever its bytes.
CREATE TABLE outbox_event (
  tenant_id VARCHAR(64) NOT NULL,
  seq BIGINT NOT NULL AUTO_INCREMENT,
  topic VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  event_key VARCHAR(190) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  payload LONGBLOB NOT NULL,
  created_at DATETIME(6) NOT NULL,
  state ENUM('pending', 'delivered', 'dead') NOT NULL DEFAULT 'pending',
  attempts INT NOT NULL DEFAULT 0,
  next_attempt_at DATETIME(6) NOT NULL,
  delivered_at DATETIME(6) NULL,
  last_error VARBINARY(1000) NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, seq),
  UNIQUE KEY outbox_event_by_key (tenant_id, topic, event_key),
  KEY outbox_event_by_state (tenant_id, state, seq),
  UNIQUE KEY outbox_event_by_seq (seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
