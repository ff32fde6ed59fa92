DROP TABLE refunds;
ALTER TABLE charge_attempts DROP COLUMN refunded_kurus;
DROP INDEX payment_attempts_pending;
ALTER TABLE payment_attempts DROP COLUMN last_inquiry_at;
ALTER TABLE payment_attempts DROP COLUMN refunded_kurus;
