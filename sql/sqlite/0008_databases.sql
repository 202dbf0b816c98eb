-- 0008 databases: the database servers the panel manages and, for each database it
-- made, the server, the hosts its user may connect from, its read-only user and when it
-- last changed
-- (sqlite). A server's admin password is never here: the helper keeps it.
-- server_id has no foreign key so that db copy can load the tables in any order;
-- the data layer refuses to remove a server that still has databases.
CREATE TABLE db_servers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  engine TEXT NOT NULL CHECK (engine IN ('mysql', 'postgresql')),
  dsn TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
ALTER TABLE managed_databases ADD COLUMN server_id INTEGER;
ALTER TABLE managed_databases ADD COLUMN hosts TEXT;
ALTER TABLE managed_databases ADD COLUMN reader TEXT;
ALTER TABLE managed_databases ADD COLUMN updated_at INTEGER;
