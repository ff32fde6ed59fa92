DROP INDEX checkout_sessions_subscription;
DROP INDEX checkout_sessions_subscription_public;
ALTER TABLE checkout_sessions DROP COLUMN subscription_public_id;
ALTER TABLE checkout_sessions DROP COLUMN subscription_id;
ALTER TABLE checkout_sessions DROP COLUMN interval_unit;
ALTER TABLE checkout_sessions DROP COLUMN kind;
