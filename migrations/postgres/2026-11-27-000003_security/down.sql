DROP TABLE app_meta;
DROP INDEX charge_attempts_one_paid_period;
DROP TABLE security_events;
DROP INDEX users_utoken_hash;
ALTER TABLE users DROP COLUMN utoken_hash;
