ALTER TABLE payment_attempts DROP COLUMN paid_total_kurus;
ALTER TABLE payment_attempts DROP COLUMN installment_count;
DROP TABLE installment_offers;
DROP TABLE installment_rates;
