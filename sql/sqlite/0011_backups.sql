-- 0011 backups (sqlite): the destinations restic writes to (their secrets live in
-- the helper's files, never here) and every backup, restore and check run with
-- its job, state, snapshot and the reason it failed.
CREATE TABLE backup_destinations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  url TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE backup_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  action TEXT NOT NULL,
  target_kind TEXT NOT NULL,
  target TEXT NOT NULL,
  dest TEXT NOT NULL,
  job_id INTEGER,
  state TEXT NOT NULL,
  snapshot TEXT,
  message TEXT,
  started_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX backup_runs_target ON backup_runs (target_kind, target, id);
