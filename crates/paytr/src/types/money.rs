//! Money as integer kuruş (1/100 of the unit), with one formatter for PayTR's `"100.99"`.

use super::ValidationError;
use std::fmt;

/// A non-negative amount in minor units (kuruş for TL, cents for EUR/USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    /// Largest amount accepted: 10 million in major units, far above any card limit.
    pub const MAX_KURUS: i64 = 1_000_000_000;

    pub fn from_kurus(kurus: i64) -> Result<Self, ValidationError> {
        if !(0..=Self::MAX_KURUS).contains(&kurus) {
            return Err(ValidationError::new(
                "payment_amount",
                "must be between 0.00 and 10000000.00",
            ));
        }
        Ok(Self(kurus))
    }

    pub fn kurus(self) -> i64 {
        self.0
    }

    /// PayTR's Direct API form: dot separator, always two decimals (`"150.00"`).
    pub fn to_paytr_decimal(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }

    /// Parses PayTR's decimal form: `"150"`, `"150.5"` or `"100.99"` (at most two decimals).
    pub fn parse_decimal(value: &str) -> Result<Self, ValidationError> {
        let bad = || {
            ValidationError::new(
                "payment_amount",
                "must be a decimal number with a dot and at most two decimals, e.g. 100.99",
            )
        };
        let (whole, frac) = value.split_once('.').unwrap_or((value, ""));
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (value.contains('.') && !digits(frac)) || frac.len() > 2 {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
            _ => frac.parse().map_err(|_| bad())?,
        };
        Self::from_kurus(whole * 100 + frac)
    }

    pub fn checked_mul(self, quantity: u32) -> Option<Self> {
        self.0
            .checked_mul(i64::from(quantity))
            .filter(|k| *k <= Self::MAX_KURUS)
            .map(Self)
    }

    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0
            .checked_add(other.0)
            .filter(|k| *k <= Self::MAX_KURUS)
            .map(Self)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_paytr_decimal())
    }
}

/// Read back from storage as kuruş.
impl TryFrom<i64> for Money {
    type Error = ValidationError;
    fn try_from(kurus: i64) -> Result<Self, Self::Error> {
        Self::from_kurus(kurus)
    }
}

/// Stored as kuruş.
impl From<Money> for i64 {
    fn from(money: Money) -> Self {
        money.kurus()
    }
}

/// Read back from storage by its code.
impl TryFrom<String> for Currency {
    type Error = ValidationError;
    fn try_from(code: String) -> Result<Self, Self::Error> {
        Self::parse(&code)
    }
}

/// The currencies this checkout sells in. `TRY` is read as `TL`, PayTR's name for the lira.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Currency {
    #[default]
    Tl,
    Eur,
    Usd,
}

impl Currency {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value {
            "" | "TL" | "TRY" => Ok(Self::Tl),
            "EUR" => Ok(Self::Eur),
            "USD" => Ok(Self::Usd),
            _ => Err(ValidationError::new("currency", "must be TL, EUR or USD")),
        }
    }

    /// The code PayTR expects and signs (`TL`, never `TRY`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Tl => "TL",
            Self::Eur => "EUR",
            Self::Usd => "USD",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paytr_decimal_always_has_two_decimals() {
        let m = |k| Money::from_kurus(k).map(Money::to_paytr_decimal);
        assert_eq!(m(10099).as_deref(), Ok("100.99"));
        assert_eq!(m(15000).as_deref(), Ok("150.00"));
        assert_eq!(m(3450).as_deref(), Ok("34.50"));
        assert_eq!(m(5).as_deref(), Ok("0.05"));
        assert!(Money::from_kurus(-1).is_err());
    }

    #[test]
    fn decimal_parsing_accepts_paytr_examples_only() {
        let p = |s| Money::parse_decimal(s).map(Money::kurus);
        assert_eq!(p("100.99"), Ok(10099));
        assert_eq!(p("150"), Ok(15000));
        assert_eq!(p("1500.35"), Ok(150035));
        assert_eq!(p("34.5"), Ok(3450));
        for bad in [
            "", "1,00", "1.001", ".5", "5.", "-1", "1e3", "10099 ", "abc",
        ] {
            assert!(p(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn currency_reads_try_as_tl() {
        assert_eq!(Currency::parse("TRY").map(Currency::code), Ok("TL"));
        assert_eq!(Currency::parse("").map(Currency::code), Ok("TL"));
        assert_eq!(Currency::parse("USD").map(Currency::code), Ok("USD"));
        assert!(Currency::parse("GBP").is_err());
    }
}
