DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP INDEX orders_created_id;
DROP INDEX orders_status_id;
DROP INDEX orders_email_lower;
DROP TABLE audit_log;
ALTER TABLE subscriptions DROP COLUMN contact_customer_at;
DROP TABLE staff_sessions;
DROP TABLE staff_users;
