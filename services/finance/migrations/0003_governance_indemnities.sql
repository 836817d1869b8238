-- Governance indemnities (bureau and board work, category 2 of entitlements): the body the
-- work was done for (TINYINT, GovernanceBody) and what the indemnity compensates. A recovery
-- (negative amount) says in `reason` what it recovers.
ALTER TABLE entitlements
  ADD COLUMN governance_body TINYINT NOT NULL DEFAULT 0,
  ADD COLUMN reason VARCHAR(500) NOT NULL DEFAULT '';
