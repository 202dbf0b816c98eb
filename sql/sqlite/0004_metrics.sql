-- 0004 metrics: the monitoring history (raw readings and per-minute averages),
-- alert rules, channels, episodes and the notification outbox (SQLite).
-- Replaces the placeholder metrics table of 0001, which nothing wrote.
DROP INDEX IF EXISTS metrics_at;
DROP TABLE IF EXISTS metrics;
CREATE TABLE metric_sources (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  host TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('host', 'fs', 'disk', 'net')),
  name TEXT NOT NULL,
  UNIQUE (host, kind, name)
);
CREATE TABLE metric_host (
  res INTEGER NOT NULL,
  at INTEGER NOT NULL,
  src INTEGER NOT NULL,
  cpu REAL, cpu_user REAL, cpu_system REAL, cpu_iowait REAL, cpu_steal REAL,
  load1 REAL, load5 REAL, load15 REAL,
  mem_used REAL, mem_total REAL, swap_used REAL, swap_total REAL,
  procs REAL, net_rx REAL, net_tx REAL, disk_read REAL, disk_write REAL,
  PRIMARY KEY (res, at, src)
) WITHOUT ROWID;
CREATE TABLE metric_dev (
  res INTEGER NOT NULL,
  at INTEGER NOT NULL,
  src INTEGER NOT NULL,
  a REAL, b REAL, c REAL, d REAL,
  PRIMARY KEY (res, at, src)
) WITHOUT ROWID;
CREATE TABLE alert_channels (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
  target TEXT NOT NULL,
  secret TEXT,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  last_test_at INTEGER,
  last_test_ok INTEGER,
  last_test_error TEXT
);
CREATE TABLE alert_rules (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  metric TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '',
  threshold REAL NOT NULL,
  duration INTEGER NOT NULL,
  channel_id INTEGER REFERENCES alert_channels(id) ON DELETE SET NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL
);
CREATE TABLE alert_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rule_id INTEGER REFERENCES alert_rules(id) ON DELETE SET NULL,
  host TEXT NOT NULL,
  subject TEXT NOT NULL,
  rule_text TEXT NOT NULL,
  value REAL NOT NULL,
  peak REAL NOT NULL,
  started_at INTEGER NOT NULL,
  resolved_at INTEGER
);
CREATE INDEX alert_events_started ON alert_events(started_at);
CREATE TABLE alert_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  host TEXT NOT NULL,
  event_id INTEGER REFERENCES alert_events(id) ON DELETE CASCADE,
  channel_id INTEGER NOT NULL REFERENCES alert_channels(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('firing', 'resolved', 'test')),
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  sent_at INTEGER,
  error TEXT,
  UNIQUE (event_id, channel_id, kind)
);
CREATE INDEX alert_outbox_due ON alert_outbox(host, sent_at, next_at);
