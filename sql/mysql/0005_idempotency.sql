-- 0005 idempotency: the first answer of a create sent with an Idempotency-Key (MariaDB/MySQL).
-- status 0 while that first request runs; body has no secrets (they are shown once).
CREATE TABLE idempotency_keys (
  user_id BIGINT NOT NULL,
  key_hash VARCHAR(64) NOT NULL,
  route VARCHAR(255) NOT NULL,
  request_hash VARCHAR(64) NOT NULL,
  status BIGINT NOT NULL,
  body MEDIUMTEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, key_hash),
  INDEX idempotency_keys_created (created_at),
  FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
