-- 0017 backup schedules (mysql): a scheduled task of kind backup or backup_check
-- (cron_jobs.kind; its site or database, destination and retention in
-- cron_jobs.argv as JSON) runs as a backup run: the task's run points at it,
-- and the backup run names the task it came from.
ALTER TABLE cron_runs ADD COLUMN backup_run_id BIGINT;
ALTER TABLE backup_runs ADD COLUMN task_id BIGINT;
