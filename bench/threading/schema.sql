-- The table of the threading benchmark (loaded by bench/run_threading.sh): as every table of
-- the platform, its primary key leads with tenant_id.
CREATE TABLE bench_item (
  tenant_id VARCHAR(64) NOT NULL,
  id BIGINT NOT NULL,
  name VARCHAR(200) NOT NULL,
  amount_cents BIGINT NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (tenant_id, id)
) ENGINE=InnoDB;
