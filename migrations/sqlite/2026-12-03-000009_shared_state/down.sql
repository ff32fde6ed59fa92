DROP TABLE rate_limits;
ALTER TABLE users DROP COLUMN cards_version;
