//! Installments (taksit): the BIN lookup (`/odeme/api/bin-detail`) that names a card's
//! installment family, and the store's installment rates (`/odeme/taksit-oranlari`), with the
//! arithmetic of a total with interest. Answers are read leniently (numbers or strings, rates
//! keyed `taksit_3` or `3`) and never panic.

use super::answers::{AnswerError, message, object, text, truthy};
use super::merchant::MerchantError;
use super::requests::FormFields;
use super::sign::{MerchantCredentials, bin_token, rates_token};
use crate::types::{Money, ValidationError};
use serde_json::Value;
use std::collections::BTreeMap;

/// The first 6 to 8 digits of a card number: all PayTR's BIN lookup takes, and all we ever
/// send or keep of a number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bin(String);

impl Bin {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        if (6..=8).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::new("bin_number", "must be 6 to 8 digits"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A rates request's id: 1 to 32 letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        if (1..=32).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(ValidationError::new(
                "request_id",
                "must be 1 to 32 letters and digits",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The installment families PayTR names (`brand` of the BIN lookup, keys of `oranlar`, and
/// `card_type` of a payment).
pub const FAMILIES: [&str; 9] = [
    "advantage",
    "axess",
    "bonus",
    "cardfinans",
    "combo",
    "maximum",
    "paraf",
    "saglamkart",
    "world",
];

/// BIN lookup form: `merchant_id, bin_number, paytr_token`.
pub fn bin_detail_form<'a>(creds: &'a MerchantCredentials, bin: &'a Bin) -> FormFields<'a> {
    let mut form = FormFields::default();
    form.push("merchant_id", creds.merchant_id.as_str());
    form.push("bin_number", bin.as_str());
    form.push("paytr_token", bin_token(creds, bin.as_str()));
    form
}

/// Installment-rates form: `merchant_id, request_id, paytr_token`.
pub fn installment_rates_form<'a>(
    creds: &'a MerchantCredentials,
    request_id: &'a RequestId,
) -> FormFields<'a> {
    let mut form = FormFields::default();
    form.push("merchant_id", creds.merchant_id.as_str());
    form.push("request_id", request_id.as_str());
    form.push("paytr_token", rates_token(creds, request_id.as_str()));
    form
}

/// What PayTR knows of a BIN.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BinInfo {
    /// `credit` / `debit` (as PayTR writes it).
    pub card_type: String,
    pub business: bool,
    pub bank: String,
    /// The installment family, lower case; `None` when PayTR says `none` or names no known one.
    pub family: Option<String>,
    /// `visa`, `mastercard`, `troy`, `amex` (as PayTR writes it).
    pub schema: String,
    pub bank_code: String,
    pub allow_non3d: bool,
}

/// The answer to a BIN lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BinAnswer {
    Found(BinInfo),
    /// `failed`: the BIN is not defined (a foreign card, for instance): single payment only.
    Unknown,
    /// `error`: the request was refused (token, store).
    Refused(MerchantError),
}

impl BinAnswer {
    pub fn parse(body: &str) -> Result<Self, AnswerError> {
        let obj = object(body)?;
        match text(&obj, "status").as_str() {
            "success" => {
                let brand = text(&obj, "brand").trim().to_ascii_lowercase();
                Ok(Self::Found(BinInfo {
                    card_type: text(&obj, "cardType"),
                    business: truthy(obj.get("businessCard")),
                    bank: text(&obj, "bank"),
                    family: FAMILIES.contains(&brand.as_str()).then_some(brand),
                    schema: text(&obj, "schema"),
                    bank_code: text(&obj, "bankCode"),
                    allow_non3d: truthy(obj.get("allow_non3d")),
                }))
            }
            "failed" => Ok(Self::Unknown),
            "" => Err(AnswerError::UnexpectedShape),
            _ => Ok(Self::Refused(MerchantError {
                err_no: text(&obj, "err_no"),
                err_msg: message(&obj),
            })),
        }
    }
}

/// An interest rate in hundredths of a percent (`3.05` % = 305).
pub type BasisPoints = u32;

/// The store's installment rates: per family, per count (2–12), the interest in basis points.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstallmentRates {
    pub request_id: String,
    /// The largest count for a non-business card (business cards: single payment only).
    pub max_inst_non_bus: u8,
    pub rates: BTreeMap<String, BTreeMap<u8, BasisPoints>>,
}

impl InstallmentRates {
    /// The rate of `count` installments on a card of `family`, if the store offers it.
    pub fn rate(&self, family: &str, count: u8) -> Option<BasisPoints> {
        self.rates.get(family)?.get(&count).copied()
    }
}

/// The answer to a rates request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatesAnswer {
    Rates(InstallmentRates),
    Refused(MerchantError),
}

/// `"3.05"`, `3.05` or `"3,05"` percent as basis points; `None` for anything else.
fn basis_points(value: &Value) -> Option<BasisPoints> {
    let raw = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().replace(',', "."),
        _ => return None,
    };
    let (whole, fraction) = raw.split_once('.').unwrap_or((&raw, ""));
    let whole: u32 = whole.parse().ok()?;
    let mut digits: String = fraction.chars().take(2).collect();
    while digits.len() < 2 {
        digits.push('0');
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) || whole > 100 {
        return None;
    }
    Some(whole * 100 + digits.parse::<u32>().ok()?)
}

/// A count key: `taksit_3`, `3`, `"3"`.
fn count_key(key: &str) -> Option<u8> {
    let n: u8 = key.trim_start_matches("taksit_").trim().parse().ok()?;
    (2..=12).contains(&n).then_some(n)
}

impl RatesAnswer {
    pub fn parse(body: &str) -> Result<Self, AnswerError> {
        let obj = object(body)?;
        match text(&obj, "status").as_str() {
            "success" => {
                let mut rates = BTreeMap::new();
                if let Some(Value::Object(families)) = obj.get("oranlar") {
                    for (family, counts) in families {
                        let family = family.trim().to_ascii_lowercase();
                        let Value::Object(counts) = counts else {
                            continue;
                        };
                        let per_count: BTreeMap<u8, BasisPoints> = counts
                            .iter()
                            .filter_map(|(k, v)| Some((count_key(k)?, basis_points(v)?)))
                            .collect();
                        if FAMILIES.contains(&family.as_str()) && !per_count.is_empty() {
                            rates.insert(family, per_count);
                        }
                    }
                }
                let max = text(&obj, "max_inst_non_bus")
                    .trim()
                    .parse::<u8>()
                    .unwrap_or(0);
                Ok(Self::Rates(InstallmentRates {
                    request_id: text(&obj, "request_id"),
                    max_inst_non_bus: max.min(12),
                    rates,
                }))
            }
            "" => Err(AnswerError::UnexpectedShape),
            _ => Ok(Self::Refused(MerchantError {
                err_no: text(&obj, "err_no"),
                err_msg: message(&obj),
            })),
        }
    }
}

/// What the shopper pays for `amount` with `rate` interest: rounded up to the kuruş (the
/// merchant never collects less than the rate), `None` past the largest amount.
pub fn with_interest(amount: Money, rate: BasisPoints) -> Option<Money> {
    let kurus = i128::from(amount.kurus());
    let total = (kurus * (10_000 + i128::from(rate)) + 9_999) / 10_000;
    Money::from_kurus(i64::try_from(total).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bin_is_six_to_eight_digits_and_nothing_else() {
        assert!(Bin::parse("540667").is_ok() && Bin::parse("43550843").is_ok());
        for bad in [
            "54066",
            "435508435",
            "5406 67",
            "54066a",
            "",
            "4355084355084358",
        ] {
            assert!(Bin::parse(bad).is_err(), "{bad}");
        }
        assert!(RequestId::parse(&"a".repeat(32)).is_ok());
        assert!(RequestId::parse(&"a".repeat(33)).is_err() && RequestId::parse("a-b").is_err());
    }

    #[test]
    fn bin_answers_in_every_shape() {
        let found = BinAnswer::parse(
            r#"{"status":"success","cardType":"credit","businessCard":"n","bank":"Yapı Kredi","brand":"World","schema":"MASTERCARD","bankCode":"0067","allow_non3d":"Y"}"#,
        )
        .expect("answer");
        let BinAnswer::Found(info) = found else {
            panic!("found")
        };
        assert_eq!(info.family.as_deref(), Some("world"));
        assert!(!info.business && info.allow_non3d);
        let none = BinAnswer::parse(r#"{"status":"success","brand":"none","businessCard":true}"#)
            .expect("answer");
        assert!(matches!(
            none,
            BinAnswer::Found(BinInfo {
                family: None,
                business: true,
                ..
            })
        ));
        assert_eq!(
            BinAnswer::parse(r#"{"status":"failed"}"#).expect("answer"),
            BinAnswer::Unknown
        );
        assert!(matches!(
            BinAnswer::parse(r#"{"status":"error","err_msg":"paytr_token hatali"}"#),
            Ok(BinAnswer::Refused(e)) if e.err_msg == "paytr_token hatali"
        ));
        assert!(BinAnswer::parse("<html>").is_err());
    }

    #[test]
    fn rates_are_read_as_basis_points_per_family_and_count() {
        let answer = RatesAnswer::parse(
            r#"{"status":"success","request_id":"r1","max_inst_non_bus":"9",
                "oranlar":{"world":{"taksit_2":3.05,"taksit_3":"4,10","taksit_13":1,"x":2},
                           "bonus":{"2":"2.5"},"unknown":{"taksit_2":1},"axess":[]}}"#,
        )
        .expect("answer");
        let RatesAnswer::Rates(rates) = answer else {
            panic!("rates")
        };
        assert_eq!(rates.max_inst_non_bus, 9);
        assert_eq!(rates.rate("world", 2), Some(305));
        assert_eq!(rates.rate("world", 3), Some(410));
        assert_eq!(rates.rate("world", 13), None);
        assert_eq!(rates.rate("bonus", 2), Some(250));
        assert!(!rates.rates.contains_key("unknown") && !rates.rates.contains_key("axess"));
        assert!(matches!(
            RatesAnswer::parse(r#"{"status":"failed","err_msg":"x"}"#),
            Ok(RatesAnswer::Refused(_))
        ));
    }

    #[test]
    fn interest_is_added_and_rounded_up_to_the_kurus() {
        let amount = Money::from_kurus(300_000).expect("amount");
        assert_eq!(with_interest(amount, 0), Some(amount));
        assert_eq!(with_interest(amount, 1066).map(Money::kurus), Some(331_980));
        let odd = Money::from_kurus(30_550).expect("amount");
        // 305.50 × 1.0305 = 314.81775 → 314.82
        assert_eq!(with_interest(odd, 305).map(Money::kurus), Some(31_482));
    }
}
