-- 0019 database names: a database's name is unique per server (server_id, name), no longer
-- per engine across servers, so two MariaDB servers can each have a database `shop`
-- (postgresql).
ALTER TABLE managed_databases DROP CONSTRAINT managed_databases_engine_name_key;
ALTER TABLE managed_databases ADD CONSTRAINT managed_databases_server_name UNIQUE (server_id, name);
