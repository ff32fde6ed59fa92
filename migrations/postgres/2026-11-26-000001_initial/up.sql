-- Shoppers. utoken_sealed holds PayTR's card-storage user token, encrypted by the app.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    full_name TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    utoken_sealed TEXT,
    created_at BIGINT NOT NULL
);

-- Server-side sessions; the cookie holds a random id, the table only its SHA-256.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    data TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions(user_id);

CREATE TABLE orders (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    email TEXT NOT NULL,
    full_name TEXT NOT NULL,
    phone TEXT NOT NULL,
    address TEXT NOT NULL,
    total_kurus BIGINT NOT NULL CHECK (total_kurus > 0),
    currency TEXT NOT NULL,
    basket_json TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'failed')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX orders_user_id ON orders(user_id);

-- One row per attempt to pay an order; each has its own merchant_oid.
CREATE TABLE payment_attempts (
    id BIGSERIAL PRIMARY KEY,
    order_id BIGINT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    merchant_oid TEXT NOT NULL UNIQUE,
    amount_kurus BIGINT NOT NULL CHECK (amount_kurus > 0),
    currency TEXT NOT NULL,
    user_ip TEXT NOT NULL,
    store_card BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'failed')),
    failed_reason_code TEXT,
    failed_reason_msg TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX payment_attempts_order_id ON payment_attempts(order_id);

-- Every notification PayTR (or anyone) posted, valid or not. fields_json never holds a
-- full utoken: it is replaced by a short hash before the row is written.
CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    merchant_oid TEXT NOT NULL,
    hash_valid BOOLEAN NOT NULL,
    outcome TEXT NOT NULL,
    fields_json TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX notifications_merchant_oid ON notifications(merchant_oid);
