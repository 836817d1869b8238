-- Patient data of bookings, completed:
-- - cancel_reason_enc: the reason given for a cancellation is free text that may name the
--   patient, so it is FieldCipher ciphertext like the other patient fields; the clear column
--   cancel_reason is no longer written (left '' on new rows, read only for older ones).
-- - Retention: once a booking's slot ended more than the retention period ago, its patient
--   fields (names, birth date, sex, contact, reason), its cancel reason and its idempotency
--   key and fingerprint are erased; the non-personal facts (slot, origin, booker's
--   profession, state, times) stay for the indicators. purge_time says when (NULL: not yet).
ALTER TABLE snp_bookings
  ADD COLUMN cancel_reason_enc TEXT NULL AFTER cancel_reason,
  ADD COLUMN purge_time DATETIME(6) NULL AFTER update_time,
  ADD KEY snp_bookings_unpurged (purge_time, tenant_id, slot_id);
