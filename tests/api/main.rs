//! Black-box tests: the real application on port 0 with a fresh database per test
//! (SQLite, or PostgreSQL when TEST_DATABASE_URL is set), and PayTR stand-ins on port 0.

mod helpers;
mod installments;
mod mails;
/// The `paytr` crate's sample request, shared rather than written twice.
#[path = "../../crates/paytr/tests/common/mod.rs"]
mod paytr_common;

mod accounts;
mod admin;
mod billing;
mod browser;
mod checkout_flow;
mod doctor;
mod health;
mod hosted_checkout;
mod notify;
mod operations;
mod process;
mod receipts;
mod refunds;
mod sandbox_cards;
mod sandbox_harness;
mod sandbox_installments;
mod sandbox_payments;
mod sandbox_recurring;
mod sandbox_refunds;
mod saved_cards;
mod security;
mod shopper;
mod storage;
