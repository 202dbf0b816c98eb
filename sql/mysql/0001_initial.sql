-- 0001 initial schema: what the panel stores (MariaDB/MySQL, InnoDB, utf8mb4).
CREATE TABLE users (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(255) NOT NULL UNIQUE,
  password_hash VARCHAR(255) NOT NULL,
  role VARCHAR(255) NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  disabled BIGINT NOT NULL DEFAULT 0,
  language VARCHAR(255),
  totp_secret VARCHAR(255),
  totp_enabled BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  password_changed_at BIGINT NOT NULL,
  last_login_at BIGINT,
  last_login_addr VARCHAR(255)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE sessions (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  id_hash VARCHAR(255) NOT NULL UNIQUE,
  user_id BIGINT NOT NULL,
  csrf_token VARCHAR(255) NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  addr VARCHAR(255) NOT NULL,
  user_agent TEXT,
  FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  name VARCHAR(255) NOT NULL,
  token_hash VARCHAR(255) NOT NULL UNIQUE,
  scope VARCHAR(255) NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
  allow_cidr VARCHAR(255),
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  last_used_at BIGINT,
  last_used_addr VARCHAR(255),
  revoked_at BIGINT,
  FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE audit_log (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at BIGINT NOT NULL,
  actor VARCHAR(255) NOT NULL,
  actor_user_id BIGINT,
  addr VARCHAR(255),
  via VARCHAR(255) NOT NULL CHECK (via IN ('ui', 'api', 'cli', 'system')),
  action VARCHAR(255) NOT NULL,
  target VARCHAR(255),
  outcome VARCHAR(255) NOT NULL,
  before_json TEXT,
  after_json TEXT,
  prev_hash VARCHAR(255) NOT NULL,
  row_hash VARCHAR(255) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX audit_log_at ON audit_log(at);
CREATE TABLE settings (
  name VARCHAR(191) PRIMARY KEY,
  value VARCHAR(255) NOT NULL,
  updated_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE login_attempts (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(255) NOT NULL,
  addr VARCHAR(255) NOT NULL,
  at BIGINT NOT NULL,
  success BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX login_attempts_user ON login_attempts(username, at);
CREATE INDEX login_attempts_addr ON login_attempts(addr, at);
CREATE TABLE sites (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  domain VARCHAR(255) NOT NULL UNIQUE,
  aliases TEXT,
  root_path VARCHAR(255) NOT NULL,
  php_version VARCHAR(255),
  status VARCHAR(255) NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'stopped')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE managed_databases (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  engine VARCHAR(255) NOT NULL CHECK (engine IN ('mysql', 'postgresql')),
  name VARCHAR(255) NOT NULL,
  owner VARCHAR(255) NOT NULL,
  site_id BIGINT,
  charset VARCHAR(255) NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (engine, name),
  FOREIGN KEY (site_id) REFERENCES sites(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE cron_jobs (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  schedule VARCHAR(255) NOT NULL,
  kind VARCHAR(255) NOT NULL,
  target VARCHAR(255) NOT NULL,
  enabled BIGINT NOT NULL DEFAULT 1,
  last_run_at BIGINT,
  last_status VARCHAR(255),
  created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE firewall_rules (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  action VARCHAR(255) NOT NULL CHECK (action IN ('allow', 'deny')),
  proto VARCHAR(255) NOT NULL CHECK (proto IN ('tcp', 'udp', 'any')),
  port_from BIGINT,
  port_to BIGINT,
  source VARCHAR(255),
  comment VARCHAR(255),
  enabled BIGINT NOT NULL DEFAULT 1,
  position BIGINT NOT NULL,
  created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE certificates (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  domain VARCHAR(255) NOT NULL UNIQUE,
  san TEXT,
  issuer VARCHAR(255),
  not_before BIGINT,
  not_after BIGINT,
  cert_path VARCHAR(255),
  key_path VARCHAR(255),
  auto_renew BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE metrics (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at BIGINT NOT NULL,
  cpu_pct DOUBLE,
  load1 DOUBLE,
  mem_used BIGINT,
  mem_total BIGINT,
  disk_used BIGINT,
  disk_total BIGINT,
  net_rx BIGINT,
  net_tx BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX metrics_at ON metrics(at);
