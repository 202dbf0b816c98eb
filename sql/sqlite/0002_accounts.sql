-- 0002 accounts: two-factor state, recovery codes, the audit chain head (SQLite).
ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_counter INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN mfa_pending INTEGER NOT NULL DEFAULT 0;
CREATE TABLE recovery_codes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL UNIQUE,
  used_at INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);
-- One row: the hash of the newest audit row. Appenders lock it, so the
-- chain stays linear across workers and hosts.
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_hash TEXT NOT NULL,
  rows_count INTEGER NOT NULL
);
INSERT INTO audit_head (id, last_hash, rows_count) VALUES (1, '0000000000000000000000000000000000000000000000000000000000000000', 0);
