-- The CPTS's own bank account, debtor of its SEPA credit transfer files: one row per tenant
-- (it used to be recorded as a payee account under member_id = the tenant id, which this
-- migration moves here). Conventions of 0001. Written so that a partial application can be
-- run again.

CREATE TABLE IF NOT EXISTS debtor_accounts (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  holder_name VARCHAR(200) NOT NULL,
  iban VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  bic VARCHAR(16) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  update_time DATETIME(6) NOT NULL,
  updated_by VARCHAR(190) NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT IGNORE INTO debtor_accounts (tenant_id, holder_name, iban, bic, update_time)
SELECT tenant_id, holder_name, iban, bic, update_time FROM bank_accounts
WHERE member_id = tenant_id;

DELETE FROM bank_accounts WHERE member_id = tenant_id;
