-- 0008 databases: the database servers the panel manages and, for each database it
-- made, the server, the hosts its user may connect from, its read-only user and when it
-- last changed
-- (mysql). A server's admin password is never here: the helper keeps it.
CREATE TABLE db_servers (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL UNIQUE,
  engine VARCHAR(16) NOT NULL CHECK (engine IN ('mysql', 'postgresql')),
  dsn TEXT NOT NULL,
  created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
ALTER TABLE managed_databases ADD COLUMN server_id BIGINT;
ALTER TABLE managed_databases ADD COLUMN hosts TEXT;
ALTER TABLE managed_databases ADD COLUMN reader VARCHAR(64);
ALTER TABLE managed_databases ADD COLUMN updated_at BIGINT;
