-- The hosted checkout API (#16): merchants' API keys, their customers, checkout sessions,
-- idempotent requests, webhook endpoints and the webhook outbox, and an audit of API calls.

-- Keys are shown once and kept only as a SHA-256 (they are 32 random characters: no
-- dictionary to hash against); `prefix` is what the back office shows ("pk_test_AbCd").
CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    mode TEXT NOT NULL,
    -- Origins success_url/cancel_url may point at, one per line.
    allowed_origins TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- A merchant's customer_ref, per mode, maps to one of our shoppers (created on first use):
-- the cards saved through it are that shopper's, never another customer's.
CREATE TABLE api_customers (
    id BIGSERIAL PRIMARY KEY,
    mode TEXT NOT NULL,
    customer_ref TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    UNIQUE (mode, customer_ref)
);

CREATE TABLE checkout_sessions (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    api_key_id BIGINT NOT NULL REFERENCES api_keys(id),
    mode TEXT NOT NULL,
    customer_id BIGINT REFERENCES api_customers(id),
    status TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_kurus BIGINT NOT NULL,
    -- [{"name","quantity","unit_amount"}], as the merchant sent them (validated).
    line_items_json TEXT NOT NULL,
    email TEXT NOT NULL,
    full_name TEXT NOT NULL,
    phone TEXT NOT NULL,
    address TEXT NOT NULL,
    success_url TEXT NOT NULL,
    cancel_url TEXT NOT NULL,
    metadata_json TEXT NOT NULL,
    order_id BIGINT REFERENCES orders(id),
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    completed_at BIGINT
);
CREATE INDEX checkout_sessions_order ON checkout_sessions(order_id);

-- An Idempotency-Key's first answer, replayed for 24 hours to the same key's same request.
CREATE TABLE api_idempotency (
    api_key_id BIGINT NOT NULL REFERENCES api_keys(id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (api_key_id, idempotency_key)
);

CREATE TABLE webhook_endpoints (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    api_key_id BIGINT NOT NULL REFERENCES api_keys(id),
    url TEXT NOT NULL,
    -- The signing secret, sealed like utokens (it must be read back to sign).
    secret_sealed TEXT NOT NULL,
    -- Event types, one per line.
    events TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

-- The webhook outbox: one row per event and endpoint, written in the transaction of the change.
CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    -- webhook-id: the same for every attempt of this message.
    message_id TEXT NOT NULL UNIQUE,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints(id),
    event_type TEXT NOT NULL,
    -- Deliveries about one object go out in order.
    object_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(delivered_at, next_attempt_at);
CREATE INDEX webhook_deliveries_object ON webhook_deliveries(endpoint_id, object_id, id);

-- Every API call: which key, what, and the answer's status (never bodies or the key).
CREATE TABLE api_audit (
    id BIGSERIAL PRIMARY KEY,
    api_key_id BIGINT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);
