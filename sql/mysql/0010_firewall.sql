-- 0010 firewall: the rules of 0001's firewall_rules (in order by position; proto
-- 'any' is TCP and UDP; source: addresses and CIDR networks separated by spaces,
-- NULL or '' = anywhere) get a connection rate limit; the block list; one row of
-- state: the default policy, ICMP echo, the revision of what is stored and the
-- one last applied, what the kernel listed then, and the change waiting for its
-- confirmation (mysql).
ALTER TABLE firewall_rules ADD COLUMN rate BIGINT NOT NULL DEFAULT 0;
CREATE TABLE firewall_blocklist (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  address VARCHAR(64) NOT NULL UNIQUE,
  comment VARCHAR(255) NOT NULL,
  created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE firewall_state (
  id BIGINT NOT NULL PRIMARY KEY,
  policy VARCHAR(16) NOT NULL DEFAULT 'accept' CHECK (policy IN ('accept', 'drop')),
  icmp_echo BIGINT NOT NULL DEFAULT 1,
  revision BIGINT NOT NULL DEFAULT 0,
  applied_revision BIGINT NOT NULL DEFAULT 0,
  applied_text TEXT,
  applied_at BIGINT,
  pending_serial BIGINT,
  pending_deadline BIGINT,
  confirmed_at BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO firewall_state (id) VALUES (1);
