-- The SNP shared agenda: slots published by the professionals of a tenant, their bookings
-- (patient fields as FieldCipher ciphertext only), the professionals' publication locks and
-- FHIR identity, and the idempotency keys of PublishSlots. Every table leads with tenant_id,
-- every index starts with it.

-- One row per professional who has published: locked (FOR UPDATE) by every PublishSlots for
-- them, which serialises their publications so that the overlap check holds under
-- concurrency; also the RPPS and names the SAS FHIR answer needs (no patient data).
CREATE TABLE snp_professionals (
  tenant_id VARCHAR(64) NOT NULL,
  member_id VARCHAR(64) NOT NULL,
  rpps VARCHAR(11) NULL,
  given_name VARCHAR(100) NOT NULL DEFAULT '',
  family_name VARCHAR(100) NOT NULL DEFAULT '',
  profession_code VARCHAR(64) NOT NULL DEFAULT '',
  update_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, member_id),
  KEY snp_professionals_by_rpps (tenant_id, rpps)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Slots. end_time = start_time + duration, stored for the overlap range query.
-- professional_rpps is copied from snp_professionals at publication for the SAS search
-- (schedule.actor:Practitioner.identifier over 72 hours).
CREATE TABLE snp_slots (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(64) NOT NULL,
  professional_member_id VARCHAR(64) NOT NULL,
  professional_rpps VARCHAR(11) NULL,
  profession_code VARCHAR(64) NOT NULL DEFAULT '',
  start_time DATETIME(6) NOT NULL,
  end_time DATETIME(6) NOT NULL,
  duration_minutes INT NOT NULL,
  mode VARCHAR(16) NOT NULL,
  commune_insee VARCHAR(5) NOT NULL DEFAULT '',
  address VARCHAR(255) NOT NULL DEFAULT '',
  visibility VARCHAR(16) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  status VARCHAR(16) NOT NULL,
  booking_id VARCHAR(64) NOT NULL DEFAULT '',
  published_by VARCHAR(190) NOT NULL,
  withdraw_reason VARCHAR(500) NOT NULL DEFAULT '',
  create_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  -- SearchSlots: free slots of a window in (start, id) order; the other filters are checked
  -- on the rows of the range.
  KEY snp_slots_search (tenant_id, status, start_time, id),
  -- SearchSlots with communes: one range per commune, merged by the sort.
  KEY snp_slots_by_commune (tenant_id, status, commune_insee, start_time, id),
  -- The overlap check of PublishSlots and a professional's agenda.
  KEY snp_slots_by_professional (tenant_id, professional_member_id, start_time),
  -- The SAS FHIR search: up to 25 professionals by RPPS, free slots over a window.
  KEY snp_slots_by_rpps (tenant_id, professional_rpps, status, start_time, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Bookings. active_slot_id is the slot id while the booking holds the slot (BOOKED,
-- FULFILLED, NO_SHOW) and NULL once cancelled: the unique key allows at most one active
-- booking per slot (NULLs do not collide). The *_enc columns hold FieldCipher ciphertext
-- bound to the tenant, the booking id and the column. request_fingerprint is a keyed hash of
-- the normalised BookSlot request (idempotent retries with the same request_id).
CREATE TABLE snp_bookings (
  tenant_id VARCHAR(64) NOT NULL,
  id VARCHAR(64) NOT NULL,
  slot_id VARCHAR(64) NOT NULL,
  active_slot_id VARCHAR(64) NULL,
  patient_given_name_enc TEXT NOT NULL,
  patient_family_name_enc TEXT NOT NULL,
  patient_birth_date_enc TEXT NOT NULL,
  patient_sex_enc TEXT NOT NULL,
  contact_phone_enc TEXT NOT NULL,
  contact_email_enc TEXT NOT NULL,
  reason_enc TEXT NOT NULL,
  origin VARCHAR(16) NOT NULL,
  booked_by VARCHAR(190) NOT NULL,
  booker_member_id VARCHAR(64) NOT NULL DEFAULT '',
  booker_profession_code VARCHAR(64) NOT NULL DEFAULT '',
  state VARCHAR(16) NOT NULL,
  cancel_reason VARCHAR(500) NOT NULL DEFAULT '',
  request_id VARCHAR(128) NULL,
  request_fingerprint VARCHAR(100) NOT NULL DEFAULT '',
  create_time DATETIME(6) NOT NULL,
  cancel_time DATETIME(6) NULL,
  outcome_time DATETIME(6) NULL,
  update_time DATETIME(6) NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE KEY snp_bookings_active_slot (tenant_id, active_slot_id),
  UNIQUE KEY snp_bookings_request (tenant_id, booked_by, request_id),
  KEY snp_bookings_by_slot (tenant_id, slot_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Idempotency keys of PublishSlots: a retry with the same key and the same slots returns the
-- slots published first (slot_ids: comma-separated, in request order).
CREATE TABLE snp_publish_requests (
  tenant_id VARCHAR(64) NOT NULL,
  subject VARCHAR(190) NOT NULL,
  request_id VARCHAR(128) NOT NULL,
  fingerprint VARCHAR(100) NOT NULL,
  slot_ids MEDIUMTEXT NOT NULL,
  create_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, subject, request_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
