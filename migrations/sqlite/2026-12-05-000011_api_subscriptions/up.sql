-- Subscription checkout sessions (#16): what the session sells (`payment` or `subscription`),
-- a subscription's interval, and the subscription its payment started, under the id the API
-- shows ("sub_…"; the numeric id stays ours).
ALTER TABLE checkout_sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'payment';
ALTER TABLE checkout_sessions ADD COLUMN interval_unit TEXT;
ALTER TABLE checkout_sessions ADD COLUMN subscription_id BIGINT REFERENCES subscriptions(id);
ALTER TABLE checkout_sessions ADD COLUMN subscription_public_id TEXT;
CREATE UNIQUE INDEX checkout_sessions_subscription_public ON checkout_sessions(subscription_public_id);
CREATE INDEX checkout_sessions_subscription ON checkout_sessions(subscription_id);
