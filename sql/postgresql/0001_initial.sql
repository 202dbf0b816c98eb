-- 0001 initial schema: what the panel stores (PostgreSQL).
CREATE TABLE users (
  id BIGSERIAL PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  disabled BIGINT NOT NULL DEFAULT 0,
  language TEXT,
  totp_secret TEXT,
  totp_enabled BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  password_changed_at BIGINT NOT NULL,
  last_login_at BIGINT,
  last_login_addr TEXT
);
CREATE TABLE sessions (
  id BIGSERIAL PRIMARY KEY,
  id_hash TEXT NOT NULL UNIQUE,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  addr TEXT NOT NULL,
  user_agent TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens (
  id BIGSERIAL PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
  allow_cidr TEXT,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  last_used_at BIGINT,
  last_used_addr TEXT,
  revoked_at BIGINT
);
CREATE TABLE audit_log (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  actor_user_id BIGINT,
  addr TEXT,
  via TEXT NOT NULL CHECK (via IN ('ui', 'api', 'cli', 'system')),
  action TEXT NOT NULL,
  target TEXT,
  outcome TEXT NOT NULL,
  before_json TEXT,
  after_json TEXT,
  prev_hash TEXT NOT NULL,
  row_hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE login_attempts (
  id BIGSERIAL PRIMARY KEY,
  username TEXT NOT NULL,
  addr TEXT NOT NULL,
  at BIGINT NOT NULL,
  success BIGINT NOT NULL
);
CREATE INDEX login_attempts_user ON login_attempts(username, at);
CREATE INDEX login_attempts_addr ON login_attempts(addr, at);
CREATE TABLE sites (
  id BIGSERIAL PRIMARY KEY,
  domain TEXT NOT NULL UNIQUE,
  aliases TEXT,
  root_path TEXT NOT NULL,
  php_version TEXT,
  status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'stopped')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE managed_databases (
  id BIGSERIAL PRIMARY KEY,
  engine TEXT NOT NULL CHECK (engine IN ('mysql', 'postgresql')),
  name TEXT NOT NULL,
  owner TEXT NOT NULL,
  site_id BIGINT REFERENCES sites(id) ON DELETE SET NULL,
  charset TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (engine, name)
);
CREATE TABLE cron_jobs (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  schedule TEXT NOT NULL,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  enabled BIGINT NOT NULL DEFAULT 1,
  last_run_at BIGINT,
  last_status TEXT,
  created_at BIGINT NOT NULL
);
CREATE TABLE firewall_rules (
  id BIGSERIAL PRIMARY KEY,
  action TEXT NOT NULL CHECK (action IN ('allow', 'deny')),
  proto TEXT NOT NULL CHECK (proto IN ('tcp', 'udp', 'any')),
  port_from BIGINT,
  port_to BIGINT,
  source TEXT,
  comment TEXT,
  enabled BIGINT NOT NULL DEFAULT 1,
  position BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE certificates (
  id BIGSERIAL PRIMARY KEY,
  domain TEXT NOT NULL UNIQUE,
  san TEXT,
  issuer TEXT,
  not_before BIGINT,
  not_after BIGINT,
  cert_path TEXT,
  key_path TEXT,
  auto_renew BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL
);
CREATE TABLE metrics (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  cpu_pct DOUBLE PRECISION,
  load1 DOUBLE PRECISION,
  mem_used BIGINT,
  mem_total BIGINT,
  disk_used BIGINT,
  disk_total BIGINT,
  net_rx BIGINT,
  net_tx BIGINT
);
CREATE INDEX metrics_at ON metrics(at);
