-- A utoken is bound to one shopper at most: its SHA-256 is unique (the sealed value is not
-- comparable, since every seal has its own nonce).
ALTER TABLE users ADD COLUMN utoken_hash TEXT;
CREATE UNIQUE INDEX users_utoken_hash ON users(utoken_hash);

-- Security events: what an attacker tried and we refused (a utoken that was not this shopper's,
-- a notification for an order whose shopper did not ask to store a card, …).
CREATE TABLE security_events (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id BIGINT,
    merchant_oid TEXT,
    detail TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX security_events_created ON security_events(created_at);

-- A period of a subscription is paid at most once, whatever the route (renewal, on-session
-- first payment, "pay now").
CREATE UNIQUE INDEX charge_attempts_one_paid_period ON charge_attempts(subscription_id, period)
    WHERE status = 'succeeded';

-- Settings the application checks at start-up (the DATA_KEY check value).
CREATE TABLE app_meta (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Sign-up answers the same whether or not an account exists: the address's owner is told by
-- e-mail (a confirmation link, or "someone tried to sign up with your address"). Accounts from
-- before this migration count as confirmed.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
UPDATE users SET email_verified_at = created_at;

-- One-time links sent by e-mail; only their SHA-256 is kept.
CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- E-mails waiting to be delivered (MAIL_WEBHOOK_URL), kept once sent for the back office.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unsent ON outbox(sent_at, id);
