-- The tenant's territory for ProposeMatch: a graph of commune links (adjacency steps or
-- distances in km), replaced as a whole by UpdateTerritory. Conventions of 0001.

-- Who replaced the links last, and when; one row per tenant that ever set its territory.
CREATE TABLE mt_territories (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  updated_by VARCHAR(190) NOT NULL DEFAULT '',
  update_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per undirected link, stored with commune_a < commune_b.
CREATE TABLE mt_territory_links (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  commune_a VARCHAR(5) COLLATE utf8mb4_bin NOT NULL,
  commune_b VARCHAR(5) COLLATE utf8mb4_bin NOT NULL,
  distance DOUBLE NOT NULL,
  PRIMARY KEY (tenant_id, commune_a, commune_b),
  KEY mt_territory_links_by_b (tenant_id, commune_b),
  CONSTRAINT mt_territory_links_distance CHECK (distance > 0),
  CONSTRAINT mt_territory_links_order CHECK (commune_a < commune_b)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
