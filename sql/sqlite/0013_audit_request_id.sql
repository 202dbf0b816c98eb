-- 0013 audit request ids: the id of the request that made each audit row (the
-- panel's log carries it as req=<id>), so the audit page links to the request's
-- log lines and the log back to the rows; NULL for rows without a request
-- (the CLI, the system) and for rows written before (sqlite).
ALTER TABLE audit_log ADD COLUMN request_id TEXT;
CREATE INDEX audit_log_request ON audit_log(request_id);
