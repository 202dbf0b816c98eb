-- 0011 backups (mysql): the destinations restic writes to (their secrets live in
-- the helper's files, never here) and every backup, restore and check run with
-- its job, state, snapshot and the reason it failed.
CREATE TABLE backup_destinations (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(32) NOT NULL UNIQUE,
  kind VARCHAR(16) NOT NULL,
  url VARCHAR(320) NOT NULL,
  created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE backup_runs (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  action VARCHAR(16) NOT NULL,
  target_kind VARCHAR(16) NOT NULL,
  target VARCHAR(255) NOT NULL,
  dest VARCHAR(32) NOT NULL,
  job_id BIGINT,
  state VARCHAR(16) NOT NULL,
  snapshot VARCHAR(64),
  message TEXT,
  started_at BIGINT NOT NULL,
  ended_at BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX backup_runs_target ON backup_runs (target_kind, target, id);
