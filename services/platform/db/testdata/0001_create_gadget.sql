-- Test data for cpts_embed_migrations: two statements, comments, a quote and a backslash.
CREATE TABLE gadget (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(64) NOT NULL,
  label VARCHAR(100) NOT NULL DEFAULT 'it''s \\ fine',
  PRIMARY KEY (tenant_id, id)
) ENGINE=InnoDB;

CREATE INDEX gadget_by_label ON gadget (tenant_id, label);
