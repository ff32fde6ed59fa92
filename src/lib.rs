//! paytr-checkout: a server-rendered storefront checkout on PayTR's Direct API, with card
//! storage (CAPI), recurring charges and a local PayTR sandbox.
//!
//! `main.rs` only parses the command line; everything else lives here so tests can start the
//! real application on port 0.

pub mod accounts;
pub mod api;
pub mod app_state;
pub mod billing;
pub mod cards;
pub mod catalog;
pub mod checkout;
pub mod cli;
pub mod config;
pub mod db;
pub mod doctor;
pub mod domain;
pub mod installments;
pub mod legal;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod notifications;
pub mod receipts;
pub mod refunds;
pub mod routes;
pub mod seal;
pub mod security;
pub mod sessions;
pub mod staff;
pub mod startup;

/// PayTR's protocol and client (the `paytr` crate of this workspace).
pub use paytr;
/// The local PayTR (the `paytr-sandbox` crate of this workspace).
pub use paytr_sandbox as sandbox;
/// Owner-only data files.
pub use paytr_sandbox::files;
