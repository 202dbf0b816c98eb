-- 0009 scheduled tasks (sqlite): cron_jobs (from 0001) gets what a task is made of —
-- kind command (target: the command as typed, argv: its words as JSON) or url
-- (target: the URL), run_user, timeout — and cron_runs keeps every run: when it
-- started and ended, its state (running, ok, failed, timeout, skipped, lost), exit
-- status and the last 64 KiB of its output.
ALTER TABLE cron_jobs ADD COLUMN argv TEXT;
ALTER TABLE cron_jobs ADD COLUMN run_user TEXT;
ALTER TABLE cron_jobs ADD COLUMN timeout INTEGER NOT NULL DEFAULT 3600;
ALTER TABLE cron_jobs ADD COLUMN updated_at INTEGER;
CREATE UNIQUE INDEX cron_jobs_name ON cron_jobs (name);
CREATE TABLE cron_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cron_job_id INTEGER NOT NULL,
  trigger_kind TEXT NOT NULL,
  state TEXT NOT NULL,
  job_id INTEGER,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  exit_code INTEGER,
  output TEXT,
  output_bytes INTEGER,
  message TEXT
);
CREATE INDEX cron_runs_job ON cron_runs (cron_job_id, id);
