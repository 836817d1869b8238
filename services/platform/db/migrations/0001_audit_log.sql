-- The shared append-only audit log: one row per read or write of protected data, written in
-- the same transaction as the change it records. Ids only, never patient data.
-- PRIMARY KEY (tenant_id, id) keeps a tenant's rows together; AUTO_INCREMENT on a column that
-- does not lead the primary key needs its own index, hence KEY (id).
CREATE TABLE audit_log (
  tenant_id VARCHAR(64) NOT NULL,
  id BIGINT NOT NULL AUTO_INCREMENT,
  occurred_at DATETIME(6) NOT NULL,
  actor_subject VARCHAR(190) NOT NULL DEFAULT '',
  actor_member_id VARCHAR(64) NOT NULL DEFAULT '',
  actor_roles VARCHAR(255) NOT NULL DEFAULT '',
  action VARCHAR(64) NOT NULL,
  resource_type VARCHAR(64) NOT NULL,
  resource_id VARCHAR(64) NOT NULL DEFAULT '',
  outcome VARCHAR(32) NOT NULL,
  reason VARCHAR(500) NOT NULL DEFAULT '',
  details JSON NULL,
  PRIMARY KEY (tenant_id, id),
  KEY audit_log_by_resource (tenant_id, resource_type, resource_id, id),
  KEY audit_log_by_id (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Append-only, enforced by the database itself. The services connect as a user with only
-- SELECT, INSERT, UPDATE, DELETE, which can neither drop these triggers nor TRUNCATE the table.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only';

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW
  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only';
