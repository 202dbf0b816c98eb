-- 0006 certificates: what the panel knows of each site's certificate (postgresql).
-- names: the names it covers; source: acme (certbot) or upload; state: pending while
-- a helper job (job_id) issues or renews it, ok, or failed with last_error. Never a key.
ALTER TABLE certificates ADD COLUMN serial TEXT;
ALTER TABLE certificates ADD COLUMN source TEXT;
ALTER TABLE certificates ADD COLUMN state TEXT;
ALTER TABLE certificates ADD COLUMN job_id BIGINT;
ALTER TABLE certificates ADD COLUMN job_op TEXT;
ALTER TABLE certificates ADD COLUMN last_error TEXT;
ALTER TABLE certificates ADD COLUMN last_renewal_at BIGINT;
ALTER TABLE certificates ADD COLUMN last_renewal_ok BIGINT;
ALTER TABLE certificates ADD COLUMN updated_at BIGINT;
