-- 0018 database transfers: the imports and exports the panel started, for each managed
-- database — who, when, the format, the helper's job, the size and SHA-256 of the dump,
-- the outcome and its reason (sqlite). database_id has no foreign key so that db copy can
-- load the tables in any order; the data layer removes a database's rows with it.
CREATE TABLE database_transfers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  database_id INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('import', 'export')),
  format TEXT NOT NULL,
  job INTEGER,
  actor TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  size INTEGER,
  sha256 TEXT,
  result TEXT NOT NULL CHECK (result IN ('running', 'ok', 'failed', 'unknown')),
  error TEXT
);
CREATE INDEX database_transfers_db ON database_transfers (database_id, id);
