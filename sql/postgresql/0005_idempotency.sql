-- 0005 idempotency: the first answer of a create sent with an Idempotency-Key (PostgreSQL).
-- status 0 while that first request runs; body has no secrets (they are shown once).
CREATE TABLE idempotency_keys (
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  key_hash TEXT NOT NULL,
  route TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status BIGINT NOT NULL,
  body TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, key_hash)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
