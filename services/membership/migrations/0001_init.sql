-- The membership schema: tenants (CPTS), their reference lists, members and what hangs off
-- them. Audit entries go to the platform's shared audit_log table (platform migrations).
--
-- Conventions of every table here:
-- - tenant_id leads every table, its primary key and every index, so that the data can be
--   sharded by tenant later (Vitess) without touching a query.
-- - Ids, codes, request ids and sort keys are utf8mb4_bin: compared byte for byte, like the
--   domain and the in-memory fake compare them (an id is case-sensitive; keyset pagination on
--   (sort_name, id) needs a total order with no two "equal" distinct values).
-- - Instants are DATETIME(6) in UTC (the pool's sessions run with time_zone '+00:00'); days are
--   DATE; money is BIGINT euro cents.
-- - Enumerations are ENUMs listing the domain's enumerators in the domain's order (so ORDER BY
--   follows the C++ enum); a new enumerator needs a migration that appends it.
-- - No foreign keys: every child row is written by the store while it holds the parent row's
--   lock, and foreign keys would not survive sharding by tenant anyway.

CREATE TABLE tenants (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  name VARCHAR(200) NOT NULL,
  finess VARCHAR(16) NOT NULL DEFAULT '',
  aci_size TINYINT NOT NULL,
  -- INSEE codes joined by ','; only ever read and written whole.
  territory_communes TEXT NOT NULL,
  annual_fee_cents BIGINT NOT NULL,
  year_model ENUM('CALENDAR') NOT NULL,
  create_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE professions (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  code VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  label VARCHAR(200) NOT NULL,
  requires_rpps BOOLEAN NOT NULL,
  is_reference BOOLEAN NOT NULL,
  PRIMARY KEY (tenant_id, code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The name is unique per tenant ignoring case and accents: that is what utf8mb4_unicode_ci
-- compares.
CREATE TABLE colleges (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  name VARCHAR(200) COLLATE utf8mb4_unicode_ci NOT NULL,
  description VARCHAR(1000) NOT NULL DEFAULT '',
  create_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY colleges_by_name (tenant_id, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per member. rpps is NULL when empty, so the unique key only binds real numbers.
-- The secondary keys end with (sort_name, id): ListMembers filtered by status, profession or
-- collège reads them in page order and stops after one page (keyset pagination, no filesort).
CREATE TABLE members (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  kind ENUM('UNSPECIFIED', 'PERSON', 'LEGAL_ENTITY') NOT NULL,
  given_name VARCHAR(200) NOT NULL DEFAULT '',
  family_name VARCHAR(200) NOT NULL DEFAULT '',
  organization_name VARCHAR(200) NOT NULL DEFAULT '',
  profession_code VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  rpps VARCHAR(32) COLLATE utf8mb4_bin NULL,
  finess VARCHAR(16) NOT NULL DEFAULT '',
  exercise_mode ENUM('UNSPECIFIED', 'LIBERAL', 'SALARIED', 'MIXED') NOT NULL,
  college_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  email VARCHAR(254) NOT NULL DEFAULT '',
  phone VARCHAR(32) NOT NULL DEFAULT '',
  directory_listing_granted BOOLEAN NOT NULL,
  directory_listing_time DATETIME(6) NULL,
  communications_granted BOOLEAN NOT NULL,
  communications_time DATETIME(6) NULL,
  adhesion_submit_time DATETIME(6) NULL,
  adhesion_message VARCHAR(2000) NOT NULL DEFAULT '',
  adhesion_decide_time DATETIME(6) NULL,
  adhesion_decided_by VARCHAR(190) NOT NULL DEFAULT '',
  status ENUM('UNSPECIFIED', 'PENDING', 'ACTIVE', 'LAPSED', 'SUSPENDED', 'RESIGNED',
              'REJECTED') NOT NULL,
  status_since DATE NOT NULL,
  previous_status ENUM('UNSPECIFIED', 'PENDING', 'ACTIVE', 'LAPSED', 'SUSPENDED', 'RESIGNED',
                       'REJECTED') NOT NULL,
  status_reason VARCHAR(500) NOT NULL DEFAULT '',
  sort_name VARCHAR(400) COLLATE utf8mb4_bin NOT NULL,
  create_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY members_by_rpps (tenant_id, rpps),
  KEY members_by_name (tenant_id, sort_name, id),
  KEY members_by_status (tenant_id, status, sort_name, id),
  KEY members_by_profession (tenant_id, profession_code, sort_name, id),
  KEY members_by_college (tenant_id, college_id, sort_name, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A member's practice places, in the member's order (ordinal from 0).
CREATE TABLE member_places (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  ordinal SMALLINT NOT NULL,
  commune_insee VARCHAR(8) COLLATE utf8mb4_bin NOT NULL,
  label VARCHAR(200) NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, member_id, ordinal),
  KEY member_places_by_commune (tenant_id, commune_insee, member_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The membership years a member is covered for (ACTIVE vs LAPSED this year).
CREATE TABLE member_years (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  year INT NOT NULL,
  PRIMARY KEY (tenant_id, member_id, year),
  KEY member_years_by_year (tenant_id, year, member_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- cotisations_by_member serves both ListCotisations' order and the per-year sums of every
-- member read.
CREATE TABLE cotisations (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  year INT NOT NULL,
  amount_cents BIGINT NOT NULL,
  paid_on DATE NOT NULL,
  method ENUM('UNSPECIFIED', 'BANK_TRANSFER', 'CHECK', 'CASH', 'CARD', 'DIRECT_DEBIT',
              'OTHER') NOT NULL,
  reference VARCHAR(200) NOT NULL DEFAULT '',
  recorded_by VARCHAR(190) NOT NULL DEFAULT '',
  create_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, id),
  KEY cotisations_by_member (tenant_id, member_id, year, paid_on, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE employer_conventions (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  employer_member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  valid_from DATE NOT NULL,
  valid_until DATE NULL,
  reference VARCHAR(200) NOT NULL DEFAULT '',
  end_reason VARCHAR(500) NOT NULL DEFAULT '',
  create_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  KEY employer_conventions_by_member (tenant_id, member_id, valid_from, id),
  KEY employer_conventions_by_employer (tenant_id, employer_member_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE mandates (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  member_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  body ENUM('UNSPECIFIED', 'BUREAU', 'BOARD', 'STAFF') NOT NULL,
  role ENUM('UNSPECIFIED', 'PRESIDENT', 'VICE_PRESIDENT', 'TREASURER', 'DEPUTY_TREASURER',
            'SECRETARY', 'DEPUTY_SECRETARY', 'BOARD_MEMBER', 'COORDINATOR',
            'ADMINISTRATIVE_SECRETARY', 'COORDINATION_NURSE') NOT NULL,
  start_date DATE NOT NULL,
  end_date DATE NULL,
  end_reason VARCHAR(500) NOT NULL DEFAULT '',
  create_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  KEY mandates_by_role (tenant_id, body, role, start_date, id),
  KEY mandates_by_member (tenant_id, member_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Request ids of idempotent creates (AIP-155), written in the creating transaction. Platform
-- scoped keys (CreateTenant) use tenant_id ''. Kept at least 7 days: a purge may delete rows
-- whose created_at is older, tenant by tenant through idempotency_keys_by_age.
CREATE TABLE idempotency_keys (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  scope VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  request_id VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
  fingerprint VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
  resource_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, scope, request_id),
  KEY idempotency_keys_by_age (tenant_id, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
