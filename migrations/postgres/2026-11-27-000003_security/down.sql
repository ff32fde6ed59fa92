DROP TABLE outbox;
DROP TABLE email_tokens;
ALTER TABLE users DROP COLUMN email_verified_at;
DROP TABLE app_meta;
DROP INDEX charge_attempts_one_paid_period;
DROP TABLE security_events;
DROP INDEX users_utoken_hash;
ALTER TABLE users DROP COLUMN utoken_hash;
