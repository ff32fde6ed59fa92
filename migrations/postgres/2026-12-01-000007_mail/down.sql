ALTER TABLE subscriptions DROP COLUMN expiry_warned_for;
ALTER TABLE users DROP COLUMN lang;
ALTER TABLE orders DROP COLUMN lang;
