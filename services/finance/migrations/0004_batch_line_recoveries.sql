-- Netting: the recoveries a payment batch line withholds from its payee's positive
-- entitlements (positive cents); amount_cents stays what is transferred.
ALTER TABLE payment_batch_lines
  ADD COLUMN recovered_cents BIGINT NOT NULL DEFAULT 0;
