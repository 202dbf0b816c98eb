-- 0010 firewall: the rules of 0001's firewall_rules (in order by position; proto
-- 'any' is TCP and UDP; source: addresses and CIDR networks separated by spaces,
-- NULL or '' = anywhere) get a connection rate limit; the block list; one row of
-- state: the default policy, ICMP echo, the revision of what is stored and the
-- one last applied, what the kernel listed then, and the change waiting for its
-- confirmation (sqlite).
ALTER TABLE firewall_rules ADD COLUMN rate INTEGER NOT NULL DEFAULT 0;
CREATE TABLE firewall_blocklist (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  address VARCHAR(64) NOT NULL UNIQUE,
  comment TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE firewall_state (
  id INTEGER NOT NULL PRIMARY KEY,
  policy TEXT NOT NULL DEFAULT 'accept' CHECK (policy IN ('accept', 'drop')),
  icmp_echo INTEGER NOT NULL DEFAULT 1,
  revision INTEGER NOT NULL DEFAULT 0,
  applied_revision INTEGER NOT NULL DEFAULT 0,
  applied_text TEXT,
  applied_at INTEGER,
  pending_serial INTEGER,
  pending_deadline INTEGER,
  confirmed_at INTEGER
);
INSERT INTO firewall_state (id) VALUES (1);
