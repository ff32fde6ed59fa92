DROP TABLE api_audit;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE api_idempotency;
DROP TABLE checkout_sessions;
DROP TABLE api_customers;
DROP TABLE api_keys;
