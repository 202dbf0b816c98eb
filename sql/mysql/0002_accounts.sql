-- 0002 accounts: two-factor state, recovery codes, the audit chain head (MariaDB/MySQL).
ALTER TABLE users ADD COLUMN totp_pending_secret VARCHAR(255);
ALTER TABLE users ADD COLUMN totp_last_counter BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN mfa_pending BIGINT NOT NULL DEFAULT 0;
CREATE TABLE recovery_codes (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  code_hash VARCHAR(255) NOT NULL UNIQUE,
  used_at BIGINT,
  INDEX recovery_codes_user (user_id),
  FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- One row: the hash of the newest audit row. Appenders lock it, so the
-- chain stays linear across workers and hosts.
CREATE TABLE audit_head (
  id BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
  last_hash VARCHAR(64) NOT NULL,
  rows_count BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO audit_head (id, last_hash, rows_count) VALUES (1, '0000000000000000000000000000000000000000000000000000000000000000', 0);
