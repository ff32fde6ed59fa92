//! The merchant's own calls about a past payment: refund (`/odeme/iade`) and status inquiry
//! (`/odeme/durum-sorgu`). Forms are built from typed values and signed from the very strings
//! posted; answers are read leniently (numbers or strings) and never panic.

use super::answers::{AnswerError, message, object, text, truthy};
use super::requests::FormFields;
use super::sign::{MerchantCredentials, refund_token, status_token};
use crate::types::{MerchantOid, Money, ReferenceNo};
use serde_json::Value;

/// Refund form: `merchant_id, merchant_oid, return_amount, paytr_token[, reference_no]`.
pub fn refund_form<'a>(
    creds: &'a MerchantCredentials,
    merchant_oid: &'a MerchantOid,
    amount: Money,
    reference_no: Option<&'a ReferenceNo>,
) -> FormFields<'a> {
    let amount = amount.to_paytr_decimal();
    let token = refund_token(creds, merchant_oid.as_str(), &amount);
    let mut form = FormFields::default();
    form.push("merchant_id", creds.merchant_id.as_str());
    form.push("merchant_oid", merchant_oid.as_str());
    form.push("return_amount", amount);
    form.push("paytr_token", token);
    if let Some(reference_no) = reference_no {
        form.push("reference_no", reference_no.as_str());
    }
    form
}

/// Status inquiry form: `merchant_id, merchant_oid, paytr_token`.
pub fn status_form<'a>(
    creds: &'a MerchantCredentials,
    merchant_oid: &'a MerchantOid,
) -> FormFields<'a> {
    let mut form = FormFields::default();
    form.push("merchant_id", creds.merchant_id.as_str());
    form.push("merchant_oid", merchant_oid.as_str());
    form.push("paytr_token", status_token(creds, merchant_oid.as_str()));
    form
}

/// A refusal with PayTR's code (`err_no`, e.g. `"009"`) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantError {
    pub err_no: String,
    pub err_msg: String,
}

impl MerchantError {
    fn from_json(obj: &serde_json::Map<String, Value>) -> Self {
        Self {
            err_no: text(obj, "err_no"),
            err_msg: message(obj),
        }
    }
}

/// The answer to a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundAnswer {
    Refunded {
        is_test: bool,
        merchant_oid: String,
        return_amount: String,
        reference_no: String,
    },
    /// Not refunded: `000` busy, `001`–`004` request/credentials, `005` no successful payment,
    /// `007` payment not yet notified, `008` method not refundable, `009` above what is left,
    /// `010` balance too low, `011` older than a year.
    Refused(MerchantError),
}

impl RefundAnswer {
    pub fn parse(body: &str) -> Result<Self, AnswerError> {
        let obj = object(body)?;
        match text(&obj, "status").as_str() {
            "success" => Ok(Self::Refunded {
                is_test: truthy(obj.get("is_test")),
                merchant_oid: text(&obj, "merchant_oid"),
                return_amount: text(&obj, "return_amount"),
                reference_no: text(&obj, "reference_no"),
            }),
            "" => Err(AnswerError::UnexpectedShape),
            _ => Ok(Self::Refused(MerchantError::from_json(&obj))),
        }
    }
}

/// One refund listed by a status inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnEntry {
    /// As PayTR wrote it (`"11.97"`); [`ReturnEntry::amount`] reads it.
    pub return_amount: String,
    pub reference_no: String,
    pub date: String,
}

impl ReturnEntry {
    /// The amount, if PayTR wrote a readable one.
    pub fn amount(&self) -> Option<Money> {
        Money::parse_decimal(self.return_amount.trim()).ok()
    }
}

/// What a status inquiry says about a paid order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaymentStatus {
    /// The order amount (`payment_amount`) and what the shopper paid (`payment_total`,
    /// more with installment interest), as PayTR wrote them.
    pub payment_amount: String,
    pub payment_total: String,
    pub payment_date: String,
    pub currency: String,
    pub installments: String,
    pub card_brand: String,
    pub masked_pan: String,
    pub payment_method: String,
    pub test_mode: bool,
    pub net_amount: String,
    pub fee: String,
    pub returns: Vec<ReturnEntry>,
    pub reference_no: String,
}

impl PaymentStatus {
    /// The refund listed under `reference_no`, if PayTR recorded it.
    pub fn refund(&self, reference_no: &str) -> Option<&ReturnEntry> {
        self.returns.iter().find(|r| r.reference_no == reference_no)
    }
}

/// The answer to a status inquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusAnswer {
    /// PayTR has a successful payment for the oid.
    Paid(Box<PaymentStatus>),
    /// `004`: no transaction, or no successful payment, for this oid.
    NotPaid(MerchantError),
    /// `001`–`003` (request, store or token refused) or anything else.
    Refused(MerchantError),
}

impl StatusAnswer {
    pub fn parse(body: &str) -> Result<Self, AnswerError> {
        let obj = object(body)?;
        match text(&obj, "status").as_str() {
            "success" => Ok(Self::Paid(Box::new(PaymentStatus {
                payment_amount: text(&obj, "payment_amount"),
                payment_total: text(&obj, "payment_total"),
                payment_date: text(&obj, "payment_date"),
                currency: text(&obj, "currency"),
                installments: text(&obj, "taksit"),
                card_brand: text(&obj, "kart_marka"),
                masked_pan: text(&obj, "masked_pan"),
                payment_method: text(&obj, "odeme_tipi"),
                test_mode: truthy(obj.get("test_mode")),
                net_amount: text(&obj, "net_tutar"),
                fee: text(&obj, "kesinti_tutari"),
                returns: returns(obj.get("returns"))?,
                reference_no: text(&obj, "reference_no"),
            }))),
            "" => Err(AnswerError::UnexpectedShape),
            _ => {
                let err = MerchantError::from_json(&obj);
                if err.err_no.trim_start_matches('0') == "4" {
                    Ok(Self::NotPaid(err))
                } else {
                    Ok(Self::Refused(err))
                }
            }
        }
    }
}

/// `returns` as an array, an object keyed by position, empty, `null` or absent.
fn returns(value: Option<&Value>) -> Result<Vec<ReturnEntry>, AnswerError> {
    let items: Vec<&Value> = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Object(obj)) => obj.values().collect(),
        Some(_) => return Err(AnswerError::UnexpectedShape),
    };
    items
        .into_iter()
        .map(|item| {
            let obj = item.as_object().ok_or(AnswerError::UnexpectedShape)?;
            Ok(ReturnEntry {
                return_amount: text(obj, "return_amount"),
                reference_no: text(obj, "reference_no"),
                date: text(obj, "return_date"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refund_answers() {
        assert_eq!(
            RefundAnswer::parse(
                r#"{"status":"success","is_test":1,"merchant_oid":"A1","return_amount":"11.97","reference_no":"R1"}"#
            ),
            Ok(RefundAnswer::Refunded {
                is_test: true,
                merchant_oid: "A1".into(),
                return_amount: "11.97".into(),
                reference_no: "R1".into()
            })
        );
        assert_eq!(
            RefundAnswer::parse(r#"{"status":"error","err_no":"009","err_msg":"fazla"}"#),
            Ok(RefundAnswer::Refused(MerchantError {
                err_no: "009".into(),
                err_msg: "fazla".into()
            }))
        );
        assert_eq!(RefundAnswer::parse("<html>"), Err(AnswerError::NotJson));
        assert_eq!(RefundAnswer::parse("{}"), Err(AnswerError::UnexpectedShape));
    }

    #[test]
    fn status_answers_in_every_shape() {
        let paid = StatusAnswer::parse(
            r#"{"status":"success","payment_amount":"100.00","payment_total":"100.00",
                "currency":"TL","test_mode":"1","taksit":0,
                "returns":[{"return_amount":"10.5","reference_no":"R1","return_date":"2026-11-20"}]}"#,
        );
        let Ok(StatusAnswer::Paid(status)) = paid else {
            panic!("paid expected: {paid:?}")
        };
        assert!(status.test_mode);
        assert_eq!(status.installments, "0");
        let refund = status.refund("R1").expect("listed");
        assert_eq!(refund.amount().map(Money::kurus), Some(1050));
        assert!(status.refund("R2").is_none());
        for returns in [r#""""#, "null", "[]", "{}"] {
            let body = format!(r#"{{"status":"success","returns":{returns}}}"#);
            assert!(
                matches!(StatusAnswer::parse(&body), Ok(StatusAnswer::Paid(s)) if s.returns.is_empty()),
                "{body}"
            );
        }
        let keyed =
            r#"{"status":"success","returns":{"0":{"return_amount":"1.00","reference_no":"A"}}}"#;
        assert!(
            matches!(StatusAnswer::parse(keyed), Ok(StatusAnswer::Paid(s)) if s.returns.len() == 1)
        );
        assert!(matches!(
            StatusAnswer::parse(r#"{"status":"error","err_no":"004","err_msg":"yok"}"#),
            Ok(StatusAnswer::NotPaid(_))
        ));
        assert!(matches!(
            StatusAnswer::parse(r#"{"status":"error","err_no":4,"err_msg":"yok"}"#),
            Ok(StatusAnswer::NotPaid(_))
        ));
        assert!(matches!(
            StatusAnswer::parse(r#"{"status":"error","err_no":"003","err_msg":"token"}"#),
            Ok(StatusAnswer::Refused(_))
        ));
        assert_eq!(
            StatusAnswer::parse(r#"{"status":"success","returns":5}"#),
            Err(AnswerError::UnexpectedShape)
        );
    }
}
