//! Askama filters: pages receive values (a [`Price`], a Unix time) and the templates format
//! them here, in one way for every page.

use crate::domain::{Currency, Money};

/// An amount in its currency, for a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub amount: Money,
    pub currency: Currency,
}

impl Price {
    pub fn new(amount: Money, currency: Currency) -> Self {
        Self { amount, currency }
    }
}

/// `{{ price|money }}`: "100.99 TL".
pub fn money(price: &Price, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(format!("{} {}", price.amount, price.currency.code()))
}

/// `{{ unix_time|date }}`: "2027-01-05" (UTC).
pub fn date(unix: &i64, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(crate::domain::date_string(*unix))
}

/// `YYYY-MM-DD HH:MM` in Turkish time (UTC+3), for the back office.
pub fn datetime(unix: &i64, _: &dyn askama::Values) -> askama::Result<String> {
    let local = *unix + 3 * 3600;
    let minutes = local.rem_euclid(86_400) / 60;
    Ok(format!(
        "{} {:02}:{:02}",
        crate::domain::date_string(local),
        minutes / 60,
        minutes % 60
    ))
}
