-- 0019 database names: a database's name is unique per server (server_id, name), no longer
-- per engine across servers, so two MariaDB servers can each have a database `shop` (mysql).
-- The new key is added before the old one (MariaDB named it `engine`, after its first
-- column) is dropped, in one statement.
ALTER TABLE managed_databases ADD UNIQUE KEY managed_databases_server_name (server_id, name),
  DROP INDEX engine;
