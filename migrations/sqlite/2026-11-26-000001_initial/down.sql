DROP TABLE notifications;
DROP TABLE payment_attempts;
DROP TABLE orders;
DROP TABLE sessions;
DROP TABLE users;
