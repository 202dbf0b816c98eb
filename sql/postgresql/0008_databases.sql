-- 0008 databases: the database servers the panel manages and, for each database it
-- made, the server, the hosts its user may connect from, its read-only user and when it
-- last changed
-- (postgresql). A server's admin password is never here: the helper keeps it.
CREATE TABLE db_servers (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  engine TEXT NOT NULL CHECK (engine IN ('mysql', 'postgresql')),
  dsn TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
ALTER TABLE managed_databases ADD COLUMN server_id BIGINT;
ALTER TABLE managed_databases ADD COLUMN hosts TEXT;
ALTER TABLE managed_databases ADD COLUMN reader TEXT;
ALTER TABLE managed_databases ADD COLUMN updated_at BIGINT;
