-- The example's jobs. A job created with an Idempotency-Key keeps the key and a hash of its request,
-- so that a repeat finds the job (and a different request under the same key is refused).
CREATE TABLE jobs (
  id VARCHAR(36) PRIMARY KEY,
  ms INTEGER NOT NULL,
  idempotency_key VARCHAR(255) UNIQUE,
  request_hash VARCHAR(64),
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
);
