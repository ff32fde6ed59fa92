//! Validated values, parsed once at the edge: money in kuruş, identifiers, customer fields and
//! the calendar helpers for card expiry. They are PayTR's field rules, so they live in the
//! `paytr` crate; the storefront uses them under this name.

pub use paytr::types::*;
