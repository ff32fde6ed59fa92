-- Subscriptions: a plan charged on a saved card at intervals (merchant-initiated, Non-3D).
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    plan_slug TEXT NOT NULL,
    amount_kurus BIGINT NOT NULL CHECK (amount_kurus > 0),
    currency TEXT NOT NULL,
    interval_unit TEXT NOT NULL CHECK (interval_unit IN ('weekly', 'monthly', 'yearly')),
    -- pending_payment: first period not paid yet; needs_card: paid, but no chargeable card;
    -- active; past_due: a renewal failed for good; cancelled.
    status TEXT NOT NULL CHECK (status IN ('pending_payment', 'needs_card', 'active', 'past_due', 'cancelled')),
    status_reason TEXT,
    ctoken_sealed TEXT,
    card_last4 TEXT,
    card_expiry TEXT,
    -- References of the shopper's cards before the first payment, to find the card it saves.
    known_cards TEXT NOT NULL DEFAULT '',
    first_order_id BIGINT REFERENCES orders(id) ON DELETE SET NULL,
    periods_paid INTEGER NOT NULL DEFAULT 0,
    period_start BIGINT NOT NULL,
    next_charge_at BIGINT NOT NULL,
    cancel_at_period_end BOOLEAN NOT NULL DEFAULT FALSE,
    user_ip TEXT NOT NULL,
    claimed_until BIGINT,
    claim_token TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX subscriptions_user_id ON subscriptions(user_id);
CREATE INDEX subscriptions_due ON subscriptions(status, next_charge_at);
CREATE INDEX subscriptions_first_order ON subscriptions(first_order_id);

-- Every recurring charge attempt; merchant_oid is deterministic per (subscription, period,
-- attempt), so two engines can never send the same attempt twice.
CREATE TABLE charge_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id BIGINT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    period INTEGER NOT NULL,
    attempt_no INTEGER NOT NULL,
    merchant_oid TEXT NOT NULL UNIQUE,
    amount_kurus BIGINT NOT NULL,
    card_ref TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('planned', 'submitted', 'pending', 'succeeded', 'failed_soft', 'failed_hard', 'unknown')),
    message TEXT,
    next_retry_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (subscription_id, period, attempt_no)
);
CREATE INDEX charge_attempts_card ON charge_attempts(card_ref, created_at);
