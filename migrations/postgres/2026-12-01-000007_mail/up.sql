-- The language a shopper reads: orders keep the one they were placed in, shoppers the one of
-- their last order; e-mails about them are written in it.
ALTER TABLE orders ADD COLUMN lang TEXT NOT NULL DEFAULT 'tr';
ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT 'tr';

-- The card expiry (MM/YY) a subscriber was warned about: one "your card expires before the next
-- renewal" e-mail per card.
ALTER TABLE subscriptions ADD COLUMN expiry_warned_for TEXT;
