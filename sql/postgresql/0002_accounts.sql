-- 0002 accounts: two-factor state, recovery codes, the audit chain head (PostgreSQL).
ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_counter BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN mfa_pending BIGINT NOT NULL DEFAULT 0;
CREATE TABLE recovery_codes (
  id BIGSERIAL PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL UNIQUE,
  used_at BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);
-- One row: the hash of the newest audit row. Appenders lock it, so the
-- chain stays linear across workers and hosts.
CREATE TABLE audit_head (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  last_hash TEXT NOT NULL,
  rows_count BIGINT NOT NULL
);
INSERT INTO audit_head (id, last_hash, rows_count) VALUES (1, '0000000000000000000000000000000000000000000000000000000000000000', 0);
