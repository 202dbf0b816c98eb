-- 0004 metrics: the monitoring history (raw readings and per-minute averages),
-- alert rules, channels, episodes and the notification outbox (PostgreSQL).
-- Replaces the placeholder metrics table of 0001, which nothing wrote.
DROP TABLE IF EXISTS metrics;
CREATE TABLE metric_sources (
  id BIGSERIAL PRIMARY KEY,
  host TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('host', 'fs', 'disk', 'net')),
  name TEXT NOT NULL,
  UNIQUE (host, kind, name)
);
CREATE TABLE metric_host (
  res BIGINT NOT NULL,
  at BIGINT NOT NULL,
  src BIGINT NOT NULL,
  cpu DOUBLE PRECISION, cpu_user DOUBLE PRECISION, cpu_system DOUBLE PRECISION,
  cpu_iowait DOUBLE PRECISION, cpu_steal DOUBLE PRECISION,
  load1 DOUBLE PRECISION, load5 DOUBLE PRECISION, load15 DOUBLE PRECISION,
  mem_used DOUBLE PRECISION, mem_total DOUBLE PRECISION, swap_used DOUBLE PRECISION,
  swap_total DOUBLE PRECISION, procs DOUBLE PRECISION, net_rx DOUBLE PRECISION,
  net_tx DOUBLE PRECISION, disk_read DOUBLE PRECISION, disk_write DOUBLE PRECISION,
  PRIMARY KEY (res, at, src)
);
CREATE TABLE metric_dev (
  res BIGINT NOT NULL,
  at BIGINT NOT NULL,
  src BIGINT NOT NULL,
  a DOUBLE PRECISION, b DOUBLE PRECISION, c DOUBLE PRECISION, d DOUBLE PRECISION,
  PRIMARY KEY (res, at, src)
);
CREATE TABLE alert_channels (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
  target TEXT NOT NULL,
  secret TEXT,
  enabled BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL,
  last_test_at BIGINT,
  last_test_ok BIGINT,
  last_test_error TEXT
);
CREATE TABLE alert_rules (
  id BIGSERIAL PRIMARY KEY,
  metric TEXT NOT NULL,
  target TEXT NOT NULL DEFAULT '',
  threshold DOUBLE PRECISION NOT NULL,
  duration BIGINT NOT NULL,
  channel_id BIGINT REFERENCES alert_channels(id) ON DELETE SET NULL,
  enabled BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL
);
CREATE TABLE alert_events (
  id BIGSERIAL PRIMARY KEY,
  rule_id BIGINT REFERENCES alert_rules(id) ON DELETE SET NULL,
  host TEXT NOT NULL,
  subject TEXT NOT NULL,
  rule_text TEXT NOT NULL,
  value DOUBLE PRECISION NOT NULL,
  peak DOUBLE PRECISION NOT NULL,
  started_at BIGINT NOT NULL,
  resolved_at BIGINT
);
CREATE INDEX alert_events_started ON alert_events(started_at);
CREATE TABLE alert_outbox (
  id BIGSERIAL PRIMARY KEY,
  host TEXT NOT NULL,
  event_id BIGINT REFERENCES alert_events(id) ON DELETE CASCADE,
  channel_id BIGINT NOT NULL REFERENCES alert_channels(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('firing', 'resolved', 'test')),
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,
  sent_at BIGINT,
  error TEXT,
  UNIQUE (event_id, channel_id, kind)
);
CREATE INDEX alert_outbox_due ON alert_outbox(host, sent_at, next_at);
