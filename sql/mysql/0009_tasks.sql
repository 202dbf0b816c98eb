-- 0009 scheduled tasks (mysql): cron_jobs (from 0001) gets what a task is made of —
-- kind command (target: the command as typed, argv: its words as JSON) or url
-- (target: the URL), run_user, timeout — and cron_runs keeps every run: when it
-- started and ended, its state (running, ok, failed, timeout, skipped, lost), exit
-- status and the last 64 KiB of its output.
ALTER TABLE cron_jobs ADD COLUMN argv TEXT;
ALTER TABLE cron_jobs ADD COLUMN run_user TEXT;
ALTER TABLE cron_jobs ADD COLUMN timeout BIGINT NOT NULL DEFAULT 3600;
ALTER TABLE cron_jobs ADD COLUMN updated_at BIGINT;
CREATE UNIQUE INDEX cron_jobs_name ON cron_jobs (name);
CREATE TABLE cron_runs (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  cron_job_id BIGINT NOT NULL,
  trigger_kind VARCHAR(16) NOT NULL,
  state VARCHAR(16) NOT NULL,
  job_id BIGINT,
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  exit_code BIGINT,
  output MEDIUMTEXT,
  output_bytes BIGINT,
  message TEXT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX cron_runs_job ON cron_runs (cron_job_id, id);
