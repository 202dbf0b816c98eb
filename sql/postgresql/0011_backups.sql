-- 0011 backups (postgresql): the destinations restic writes to (their secrets live in
-- the helper's files, never here) and every backup, restore and check run with
-- its job, state, snapshot and the reason it failed.
CREATE TABLE backup_destinations (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  url TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE backup_runs (
  id BIGSERIAL PRIMARY KEY,
  action TEXT NOT NULL,
  target_kind TEXT NOT NULL,
  target TEXT NOT NULL,
  dest TEXT NOT NULL,
  job_id BIGINT,
  state TEXT NOT NULL,
  snapshot TEXT,
  message TEXT,
  started_at BIGINT NOT NULL,
  ended_at BIGINT
);
CREATE INDEX backup_runs_target ON backup_runs (target_kind, target, id);
