-- The postal data of the territory's communes, replaced as a whole by UpdateTerritory (beside
-- the links of 0002, or instead of them when its update_mask says so). The SAS FHIR answer's
-- Location.address takes its city and postal code from here: slots only know the INSEE code.
-- Conventions of 0001; mt_territories (0002) records who replaced either part last.
CREATE TABLE mt_territory_communes (
  tenant_id VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
  commune_insee VARCHAR(5) COLLATE utf8mb4_bin NOT NULL,
  -- As validated by the desk: 1 to 100 characters (code points).
  name VARCHAR(100) NOT NULL,
  postal_code CHAR(5) COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (tenant_id, commune_insee)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
