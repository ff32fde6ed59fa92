-- Shared state for several instances on one database.
-- A shopper's saved-card list is cached per instance under this version; saving or deleting a
-- card bumps it, so every instance's copy is stale at once (the row is read on every page).
ALTER TABLE users ADD COLUMN cards_version BIGINT NOT NULL DEFAULT 0;

-- Rate limits counted in the database (PostgreSQL, several instances): one fixed window per
-- bucket (limiter name and a hash of its key, never the key itself).
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL
);
