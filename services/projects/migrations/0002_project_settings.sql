-- The settings of each CPTS (cpts.projects.v1.ProjectSettings): its time zone and how it pays
-- attendance, until now flags of the server process. One row per tenant that changed them; a
-- tenant without a row has the defaults (settings.h DefaultSettings: Europe/Paris, per
-- meeting). attendance_payment is the proto number of AttendancePayment. update_time is NULL
-- only on the row a first change inserts to lock it, which that change's transaction
-- overwrites before it commits.
CREATE TABLE project_settings (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  time_zone VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  attendance_payment TINYINT NOT NULL,
  update_time DATETIME(6) NULL,
  updated_by VARCHAR(200) COLLATE utf8mb4_bin NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
