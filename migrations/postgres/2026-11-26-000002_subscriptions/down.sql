DROP TABLE charge_attempts;
DROP TABLE subscriptions;
