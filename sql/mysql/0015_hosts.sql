-- 0015 hosts: one row, the fingerprint of the secret key every host of this
-- database must share (HMAC-SHA-256 keyed with the key over a fixed label: the
-- key itself is never stored), recorded by the first host that starts, with
-- that host's name and when; a host whose key gives another fingerprint
-- refuses to start (mysql).
CREATE TABLE panel_key (
  id BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
  fingerprint VARCHAR(64) NOT NULL,
  recorded_by VARCHAR(255) NOT NULL,
  recorded_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- One row every sign-in attempt locks while it is recorded and the throttle
-- counts the others, so attempts made at once on any worker of any host are
-- counted one after the other (none sees fewer than were recorded before it).
CREATE TABLE login_gate (
  id BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
  attempts BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB;
INSERT INTO login_gate (id, attempts) VALUES (1, 0);
-- Live events every host's stream passes on (docs/operations.md, "Several
-- hosts"): each host's sampler writes what its own helper's jobs report
-- (kind 'job', body the JSON the stream sends) and reads what the others
-- wrote; kept ten minutes.
CREATE TABLE live_events (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  host VARCHAR(255) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  body TEXT NOT NULL,
  at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
