-- The card a paid order was paid with, as PayTR's status inquiry names it (scheme and last 4
-- digits only), asked once after the payment for the receipt.
ALTER TABLE payment_attempts ADD COLUMN card_label TEXT;
ALTER TABLE payment_attempts ADD COLUMN card_asked_at BIGINT;

-- The distance-sales contract and pre-information form the shopper accepted before paying:
-- the text as shown (with the order's lines and the seller), and its template's version.
ALTER TABLE orders ADD COLUMN terms_version TEXT;
ALTER TABLE orders ADD COLUMN terms_text TEXT;
ALTER TABLE orders ADD COLUMN terms_accepted_at BIGINT;

-- One-time links now serve two purposes: confirming a sign-up and resetting a password.
ALTER TABLE email_tokens ADD COLUMN purpose TEXT NOT NULL DEFAULT 'confirm';

-- E-mails are sent over SMTP with a text and an HTML part, retried with a growing delay.
ALTER TABLE outbox ADD COLUMN html_body TEXT;
ALTER TABLE outbox ADD COLUMN attachment_name TEXT;
ALTER TABLE outbox ADD COLUMN attachment_body TEXT;
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
