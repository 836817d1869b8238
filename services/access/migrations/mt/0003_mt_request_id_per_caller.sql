-- SubmitMtRequest's idempotency key is scoped by caller, as on the SNP side: two callers of
-- one tenant may use the same request_id without colliding. submitted_by (the caller's
-- subject) becomes byte-compared, as ids and keys are (0001 conventions).
ALTER TABLE mt_requests
  MODIFY submitted_by VARCHAR(190) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
  DROP INDEX mt_requests_by_request_id,
  ADD UNIQUE KEY mt_requests_by_request_id (tenant_id, submitted_by, request_id);
