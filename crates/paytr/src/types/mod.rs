//! Validated values, parsed once at the edge: money in kuruş, identifiers, customer fields.
//!
//! Nothing here does I/O. Each constructor returns a [`ValidationError`] naming the field and
//! saying, in words a person can act on, what is wrong.

mod customer;
mod money;

pub use customer::{AbsoluteUrl, Email, UserAddress, UserIp, UserName, UserPhone};
pub use money::{Currency, Money};

use std::fmt;

/// A value that failed validation: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Checks that `value` is non-empty (after trimming) and at most `max` characters long.
pub(crate) fn bounded_text(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    let len = value.chars().count();
    if len > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters (got {len})"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

/// A PayTR order id: 1 to 64 ASCII letters and digits, unique per payment attempt.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MerchantOid(String);

impl MerchantOid {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        if value.is_empty() || value.len() > 64 {
            return Err(ValidationError::new(
                "merchant_oid",
                "must be 1 to 64 characters long",
            ));
        }
        if !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ValidationError::new(
                "merchant_oid",
                "may contain only letters A-Z, a-z and digits 0-9",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MerchantOid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Number of installments: 0 (single payment) or 2 to 12.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstallmentCount(u8);

impl InstallmentCount {
    pub const SINGLE: Self = Self(0);

    pub fn new(count: u8) -> Result<Self, ValidationError> {
        match count {
            0 | 2..=12 => Ok(Self(count)),
            _ => Err(ValidationError::new(
                "installment_count",
                "must be 0 (single payment) or 2 to 12",
            )),
        }
    }

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        value
            .parse::<u8>()
            .map_err(|_| ValidationError::new("installment_count", "must be a whole number"))
            .and_then(Self::new)
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// Language of PayTR's pages for the shopper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Tr,
    En,
}

impl Lang {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value {
            "" | "tr" => Ok(Self::Tr),
            "en" => Ok(Self::En),
            _ => Err(ValidationError::new("client_lang", "must be tr or en")),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Tr => "tr",
            Self::En => "en",
        }
    }
}

/// How the shopper pays: by card, or with card reward points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaymentType {
    #[default]
    Card,
    CardPoints,
}

impl PaymentType {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value {
            "card" => Ok(Self::Card),
            "card_points" => Ok(Self::CardPoints),
            _ => Err(ValidationError::new(
                "payment_type",
                "must be card or card_points",
            )),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Card => "card",
            Self::CardPoints => "card_points",
        }
    }
}

/// The (year, month) of a Unix time, in UTC, for card expiry checks.
pub fn year_month(unix: i64) -> (u32, u32) {
    // Howard Hinnant's civil-from-days.
    let z = unix.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as u32, month as u32)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days-from-civil).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `unix` moved by `months` calendar months, the day clamped to the month's end (Jan 31 → Feb 28).
pub fn add_months(unix: i64, months: u32) -> i64 {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m) = year_month(unix);
    let d = (days - days_from_civil(i64::from(y), m, 1)) as u32 + 1;
    let total = i64::from(y) * 12 + i64::from(m - 1) + i64::from(months);
    let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
    days_from_civil(ny, nm, d.min(days_in_month(ny, nm))) * 86_400 + secs
}

/// `YYYY-MM-DD` of a Unix time (UTC).
pub fn date_string(unix: i64) -> String {
    let (y, m) = year_month(unix);
    let d = unix.div_euclid(86_400) - days_from_civil(i64::from(y), m, 1) + 1;
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_months_clamp_to_the_month_end() {
        let jan31 = days_from_civil(2027, 1, 31) * 86_400 + 3600;
        assert_eq!(date_string(add_months(jan31, 1)), "2027-02-28");
        assert_eq!(add_months(jan31, 1) % 86_400, 3600, "time of day kept");
        assert_eq!(date_string(add_months(jan31, 13)), "2028-02-29");
        assert_eq!(
            date_string(add_months(days_from_civil(2026, 11, 26) * 86_400, 12)),
            "2027-11-26"
        );
        assert_eq!(date_string(0), "1970-01-01");
    }

    #[test]
    fn merchant_oid_accepts_alphanumerics_up_to_64() {
        assert!(MerchantOid::parse("ORD20260101A1").is_ok());
        assert!(MerchantOid::parse(&"a".repeat(64)).is_ok());
        assert!(MerchantOid::parse(&"a".repeat(65)).is_err());
        assert!(MerchantOid::parse("").is_err());
        assert!(MerchantOid::parse("ORD-1").is_err());
        assert!(MerchantOid::parse("ORD_1").is_err());
        assert!(MerchantOid::parse("SİPARİŞ1").is_err());
    }

    #[test]
    fn installment_count_is_zero_or_two_to_twelve() {
        for ok in [0, 2, 6, 12] {
            assert_eq!(InstallmentCount::new(ok).map(|c| c.get()), Ok(ok));
        }
        for bad in [1, 13, 255] {
            assert!(InstallmentCount::new(bad).is_err());
        }
        assert!(InstallmentCount::parse("x").is_err());
    }

    #[test]
    fn lang_and_payment_type_parse_their_codes() {
        assert_eq!(Lang::parse(""), Ok(Lang::Tr));
        assert_eq!(Lang::parse("en").map(Lang::code), Ok("en"));
        assert!(Lang::parse("de").is_err());
        assert_eq!(
            PaymentType::parse("card_points"),
            Ok(PaymentType::CardPoints)
        );
        assert!(PaymentType::parse("cash").is_err());
    }

    #[test]
    fn bounded_text_trims_and_counts_characters() {
        assert_eq!(bounded_text("f", "  Ayşe  ", 4).as_deref(), Ok("Ayşe"));
        assert!(bounded_text("f", "Ayşe Yılmaz", 4).is_err());
        assert!(bounded_text("f", "   ", 4).is_err());
        assert!(bounded_text("f", "a\u{0}b", 4).is_err());
    }
}

/// A refund's own reference (`reference_no`): 1 to 64 ASCII letters and digits. PayTR lists it
/// in the order's `returns[]`, which is how a refund whose answer was lost is recognised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReferenceNo(String);

impl ReferenceNo {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        if value.is_empty() || value.len() > 64 || !value.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(ValidationError::new(
                "reference_no",
                "must be 1 to 64 letters A-Z, a-z and digits 0-9",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
