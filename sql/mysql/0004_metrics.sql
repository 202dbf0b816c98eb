-- 0004 metrics: the monitoring history (raw readings and per-minute averages),
-- alert rules, channels, episodes and the notification outbox (MariaDB/MySQL).
-- Replaces the placeholder metrics table of 0001, which nothing wrote.
DROP TABLE IF EXISTS metrics;
CREATE TABLE metric_sources (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  host VARCHAR(255) NOT NULL,
  kind VARCHAR(8) NOT NULL CHECK (kind IN ('host', 'fs', 'disk', 'net')),
  name VARCHAR(255) NOT NULL,
  UNIQUE KEY metric_sources_key (host, kind, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE metric_host (
  res BIGINT NOT NULL,
  at BIGINT NOT NULL,
  src BIGINT NOT NULL,
  cpu DOUBLE, cpu_user DOUBLE, cpu_system DOUBLE, cpu_iowait DOUBLE, cpu_steal DOUBLE,
  load1 DOUBLE, load5 DOUBLE, load15 DOUBLE,
  mem_used DOUBLE, mem_total DOUBLE, swap_used DOUBLE, swap_total DOUBLE,
  procs DOUBLE, net_rx DOUBLE, net_tx DOUBLE, disk_read DOUBLE, disk_write DOUBLE,
  PRIMARY KEY (res, at, src)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE metric_dev (
  res BIGINT NOT NULL,
  at BIGINT NOT NULL,
  src BIGINT NOT NULL,
  a DOUBLE, b DOUBLE, c DOUBLE, d DOUBLE,
  PRIMARY KEY (res, at, src)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE alert_channels (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL UNIQUE,
  kind VARCHAR(8) NOT NULL CHECK (kind IN ('email', 'webhook')),
  target TEXT NOT NULL,
  secret TEXT,
  enabled BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  last_test_at BIGINT,
  last_test_ok BIGINT,
  last_test_error TEXT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE alert_rules (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  metric VARCHAR(16) NOT NULL,
  target VARCHAR(255) NOT NULL DEFAULT '',
  threshold DOUBLE NOT NULL,
  duration BIGINT NOT NULL,
  channel_id BIGINT,
  enabled BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  FOREIGN KEY (channel_id) REFERENCES alert_channels(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE alert_events (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  rule_id BIGINT,
  host VARCHAR(255) NOT NULL,
  subject VARCHAR(255) NOT NULL,
  rule_text VARCHAR(255) NOT NULL,
  value DOUBLE NOT NULL,
  peak DOUBLE NOT NULL,
  started_at BIGINT NOT NULL,
  resolved_at BIGINT,
  INDEX alert_events_started (started_at),
  FOREIGN KEY (rule_id) REFERENCES alert_rules(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE alert_outbox (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  host VARCHAR(255) NOT NULL,
  event_id BIGINT,
  channel_id BIGINT NOT NULL,
  kind VARCHAR(12) NOT NULL CHECK (kind IN ('firing', 'resolved', 'test')),
  subject VARCHAR(255) NOT NULL,
  body TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,
  sent_at BIGINT,
  error TEXT,
  UNIQUE KEY alert_outbox_once (event_id, channel_id, kind),
  INDEX alert_outbox_due (host, sent_at, next_at),
  FOREIGN KEY (event_id) REFERENCES alert_events(id) ON DELETE CASCADE,
  FOREIGN KEY (channel_id) REFERENCES alert_channels(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
