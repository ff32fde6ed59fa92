-- What has been refunded of each paid payment, reserved before PayTR is asked: one conditional
-- UPDATE (refunded + amount <= paid) is the guard, so two refunds at once, on two instances,
-- never add up to more than was paid.
ALTER TABLE payment_attempts ADD COLUMN refunded_kurus BIGINT NOT NULL DEFAULT 0;
ALTER TABLE charge_attempts ADD COLUMN refunded_kurus BIGINT NOT NULL DEFAULT 0;

-- When PayTR's status inquiry was last asked about a payment still waiting for its
-- notification (asked at most hourly until it is paid or abandoned).
ALTER TABLE payment_attempts ADD COLUMN last_inquiry_at BIGINT;
CREATE INDEX payment_attempts_pending ON payment_attempts(status, created_at);

-- Refunds: requested -> submitted -> succeeded | failed | unknown. reference_no is the refund's
-- own id sent to PayTR; a status inquiry lists it in returns[] once PayTR has refunded.
CREATE TABLE refunds (
    id BIGSERIAL PRIMARY KEY,
    merchant_oid TEXT NOT NULL,
    order_id BIGINT REFERENCES orders(id) ON DELETE SET NULL,
    subscription_id BIGINT REFERENCES subscriptions(id) ON DELETE SET NULL,
    amount_kurus BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reference_no TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    err_no TEXT,
    message TEXT,
    requested_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX refunds_merchant_oid ON refunds(merchant_oid);
CREATE INDEX refunds_order_id ON refunds(order_id);
CREATE INDEX refunds_status ON refunds(status, updated_at);
