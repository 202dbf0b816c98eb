-- 0018 database transfers: the imports and exports the panel started, for each managed
-- database — who, when, the format, the helper's job, the size and SHA-256 of the dump,
-- the outcome and its reason (mysql). database_id has no foreign key so that db copy can
-- load the tables in any order; the data layer removes a database's rows with it.
CREATE TABLE database_transfers (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  database_id BIGINT NOT NULL,
  kind VARCHAR(8) NOT NULL CHECK (kind IN ('import', 'export')),
  format VARCHAR(8) NOT NULL,
  job BIGINT,
  actor VARCHAR(128) NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT,
  size BIGINT,
  sha256 VARCHAR(64),
  result VARCHAR(8) NOT NULL CHECK (result IN ('running', 'ok', 'failed', 'unknown')),
  error TEXT,
  KEY database_transfers_db (database_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
