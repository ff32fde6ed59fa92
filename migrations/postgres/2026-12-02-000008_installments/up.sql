-- PayTR's installment rates (taksit oranları), fetched at start and daily; pages read them from
-- here and never wait on PayTR. rate_bp: the interest in hundredths of a percent.
CREATE TABLE installment_rates (
    family TEXT NOT NULL,
    installments INTEGER NOT NULL,
    rate_bp INTEGER NOT NULL,
    fetched_at BIGINT NOT NULL,
    PRIMARY KEY (family, installments)
);

-- Every installment option a payment page was given a signed form for: the notification's
-- installment_count and total_amount must match one of them (or the single payment).
CREATE TABLE installment_offers (
    attempt_id BIGINT NOT NULL REFERENCES payment_attempts(id) ON DELETE CASCADE,
    installments INTEGER NOT NULL,
    family TEXT NOT NULL,
    total_kurus BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (attempt_id, installments, family)
);

-- What the notification said was collected: the count and the total with interest.
ALTER TABLE payment_attempts ADD COLUMN installment_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payment_attempts ADD COLUMN paid_total_kurus BIGINT;
