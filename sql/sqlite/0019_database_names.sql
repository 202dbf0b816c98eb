-- 0019 database names: a database's name is unique per server (server_id, name), no longer
-- per engine across servers, so two MariaDB servers can each have a database `shop` (sqlite).
-- SQLite cannot drop a table constraint: the table is rebuilt inside the migration's
-- transaction (the old one renamed, a new one made with the same columns in the same order,
-- the rows copied with their ids, its AUTOINCREMENT counter carried over, the old one dropped).
-- No table refers to managed_databases by a foreign key, no index or trigger is on it.
ALTER TABLE managed_databases RENAME TO managed_databases_0018;
CREATE TABLE managed_databases (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  engine TEXT NOT NULL CHECK (engine IN ('mysql', 'postgresql')),
  name TEXT NOT NULL,
  owner TEXT NOT NULL,
  site_id INTEGER REFERENCES sites(id) ON DELETE SET NULL,
  charset TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  server_id INTEGER,
  hosts TEXT,
  reader TEXT,
  updated_at INTEGER,
  UNIQUE (server_id, name)
);
INSERT INTO managed_databases (id, engine, name, owner, site_id, charset, created_at, server_id,
    hosts, reader, updated_at)
  SELECT id, engine, name, owner, site_id, charset, created_at, server_id, hosts, reader, updated_at
  FROM managed_databases_0018;
DELETE FROM sqlite_sequence WHERE name = 'managed_databases';
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'managed_databases', seq FROM sqlite_sequence WHERE name = 'managed_databases_0018';
DROP TABLE managed_databases_0018;
