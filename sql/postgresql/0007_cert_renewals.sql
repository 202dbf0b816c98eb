-- 0007 certificate renewals (postgresql): who made the last renewal or failed at it — the panel
-- (its job) or certbot's own schedule (certbot.timer, read back by the sampler).
ALTER TABLE certificates ADD COLUMN last_renewal_by TEXT;
-- Renewals recorded before were the panel's own.
UPDATE certificates SET last_renewal_by = 'panel' WHERE last_renewal_ok IS NOT NULL;
