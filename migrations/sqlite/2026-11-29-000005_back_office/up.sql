-- Staff of the merchant, apart from shoppers: their own accounts, TOTP (secret sealed with
-- DATA_KEY; last_totp_step refuses a code used twice), roles owner | support.
CREATE TABLE staff_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    totp_sealed TEXT NOT NULL,
    last_totp_step BIGINT NOT NULL DEFAULT 0,
    disabled_at BIGINT,
    created_at BIGINT NOT NULL
);

-- Staff sessions: the cookie (Path=/admin) holds a random id; only its SHA-256 is kept.
CREATE TABLE staff_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    staff_id BIGINT NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'tr',
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions(staff_id);

-- What staff did: append-only (the triggers below refuse UPDATE and DELETE).
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_id BIGINT,
    staff_email TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_target ON audit_log(target);

-- Staff can flag a subscription whose customer should be called.
ALTER TABLE subscriptions ADD COLUMN contact_customer_at BIGINT;

-- The back office's order list: newest first, by e-mail, by status.
CREATE INDEX orders_email_lower ON orders(lower(email), id);
CREATE INDEX orders_status_id ON orders(status, id);
CREATE INDEX orders_created_id ON orders(created_at, id);
CREATE INDEX orders_total_id ON orders(total_kurus, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
