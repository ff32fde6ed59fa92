DROP TRIGGER audit_log_no_change ON audit_log;
DROP FUNCTION audit_log_append_only();
DROP INDEX orders_created_id;
DROP INDEX orders_status_id;
DROP INDEX orders_email_lower;
DROP TABLE audit_log;
ALTER TABLE subscriptions DROP COLUMN contact_customer_at;
DROP TABLE staff_sessions;
DROP TABLE staff_users;
